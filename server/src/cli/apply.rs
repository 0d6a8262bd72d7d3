//! `voc plan` and `voc apply`: from a conf repo's commits to builds and
//! deploys, the way the original voc ran inside a CI job, done right.
//!
//! Both read the range (from `--from`, else from the target's last applied
//! commit in voc's store, else from the `io.voc.commit` labels of the live
//! services), read the conf repo at the range's end, and plan. `apply` then
//! runs the plan, one job per action.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

use super::output::{Progress, print_json};
use crate::conf::compose_cache::{self, ComposeCache};
use crate::conf::model::DEFAULT_TARGET;
use crate::conf::walk::ReadOptions;
use crate::engine::Engine;
use crate::git::{CommitId, GitRepo};
use crate::reconcile::apply::{ApplyEvent, ApplySettings, Outcome, apply};
use crate::reconcile::range::{Range, Start};
use crate::reconcile::run::{CommitFiles, find_start, plan_range, read_conf_for_run};
use crate::reconcile::{Plan, Scope};
use crate::store::Store;

/// What `plan` and `apply` share.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The conf repo: a git checkout.
    #[arg(long, default_value = ".", value_name = "PATH")]
    repo: PathBuf,
    /// The range's start (excluded): a commit, branch or tag. An all-zero
    /// SHA (`$CI_COMMIT_BEFORE_SHA` of a new branch) means everything.
    /// Default: the target's last applied commit.
    #[arg(long, value_name = "COMMIT")]
    from: Option<String>,
    /// The range's end: the commit to apply. Default: HEAD.
    #[arg(long, value_name = "COMMIT")]
    to: Option<String>,
    /// The Docker target (only `default`, the engine `DOCKER_HOST` names,
    /// exists outside `voc serve`).
    #[arg(long, default_value = DEFAULT_TARGET)]
    target: String,
    /// voc's data folder (its SQLite store).
    #[arg(long, env = "VOC_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    range: RangeArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    range: RangeArgs,
    /// Plan only (as the `[dry-run]` directive).
    #[arg(long)]
    dry_run: bool,
    /// Write a JSON report of the run to FILE (for CI artifacts).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// How long each deploy may wait for its services to converge, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = super::duration::parse)]
    timeout: Duration,
    /// How long a converged service must stay so (default: its update_config.monitor).
    #[arg(long, value_parser = super::duration::parse)]
    stability: Option<Duration>,
    /// The age key that decrypts the stacks' secret options, as `voc
    /// serve`'s `secrets_key_file` (default: the data folder's
    /// `secrets.key`, when there is one).
    #[arg(long, env = "VOC_SECRETS_KEY_FILE", value_name = "FILE")]
    secrets_key_file: Option<PathBuf>,
}

pub use crate::config::default_data_dir;

/// The data folder: `--data-dir` when given, else the default.
fn data_folder(data_dir: Option<&Path>) -> PathBuf {
    data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(default_data_dir)
}

/// The store in the data folder.
pub fn open_store(data_dir: Option<&Path>) -> anyhow::Result<Store> {
    let path = data_folder(data_dir).join("voc.db");
    Store::open(&path).with_context(|| format!("opening voc's store {}", path.display()))
}

/// Everything a plan was made from.
struct Prepared {
    range: Range,
    plan: Plan,
    files: CommitFiles,
    conf: crate::conf::model::ConfReport,
    start: Start,
}

async fn prepare(
    args: &RangeArgs,
    store: &Store,
    engine: Option<&Engine>,
    progress: &Progress,
) -> anyhow::Result<Prepared> {
    let repo = GitRepo::open(&args.repo)
        .with_context(|| format!("opening the conf repo {}", args.repo.display()))?;
    let to = repo
        .resolve(args.to.as_deref().unwrap_or("HEAD"))
        .context("resolving --to")?;
    let start = match &args.from {
        Some(from) => {
            // A full SHA is taken as it is, even when the clone lacks it (a
            // force-push, or a shallow CI clone): the range then covers
            // everything instead of failing.
            let commit = match CommitId::parse(from) {
                Ok(commit) => commit,
                Err(_) => repo.resolve(from).context("resolving --from")?,
            };
            Start::Given(commit)
        }
        None => find_start(store, &args.target, engine, &args.repo).await?,
    };
    match &start {
        Start::Stored(commit) => progress.line(format_args!(
            "last applied to {}: {} (voc's store)",
            args.target,
            commit.short()
        )),
        Start::Labels(commit) => progress.line(format_args!(
            "last applied to {}: {} (found on the services' labels)",
            args.target,
            commit.short()
        )),
        Start::None => progress.line(format_args!(
            "nothing was applied to {} before",
            args.target
        )),
        Start::Given(_) => {}
    }
    let files = CommitFiles::of(&repo, &to)?;
    // Loading every Compose file is most of a plan's time on a large repo;
    // the cache in the data folder keeps the loads whose inputs did not
    // change since the last run.
    let cache =
        ComposeCache::open(&data_folder(args.data_dir.as_deref()).join(compose_cache::FILE_NAME));
    let conf = read_conf_for_run(&files.root, &ReadOptions::default(), &cache);
    let targets = BTreeSet::from([args.target.clone()]);
    let prepared = plan_range(&repo, start, &to, &conf, &targets)?;
    Ok(Prepared {
        range: prepared.range,
        plan: prepared.plan,
        files,
        conf,
        start: prepared.start,
    })
}

fn print_plan(prepared: &Prepared) {
    let range = &prepared.range;
    let header = match &range.scope {
        Scope::Changes { from } => format!(
            "plan {}..{} ({} commit(s))",
            &from[..from.len().min(7)],
            range.to.short(),
            range.commits.len()
        ),
        Scope::Everything { why } => format!("plan up to {}: everything ({why})", range.to.short()),
    };
    println!("{header}");
    if range.all_skipped {
        println!("  nothing to do: every commit of the range says [skip voc]");
        return;
    }
    if prepared.plan.dry_run {
        println!("  [dry-run] in a commit message: nothing will be changed");
    }
    if prepared.plan.actions.is_empty() {
        println!("  nothing to do");
    }
    for action in &prepared.plan.actions {
        let after = if action.needs.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = action.needs.iter().map(|n| (n + 1).to_string()).collect();
            format!(" (after {})", ids.join(", "))
        };
        println!("  {}. {action}{after}", action.id + 1);
    }
    for skipped in &prepared.plan.skipped {
        println!("  - {skipped}");
    }
    for problem in &prepared.conf.problems {
        println!("  ! {problem}");
    }
}

fn plan_json(prepared: &Prepared) -> serde_json::Value {
    json!({
        "from": prepared.start.commit().map(CommitId::as_str),
        "to": prepared.range.to.as_str(),
        "commits": prepared.range.commits.iter().map(|c| json!({"id": c.id.as_str(), "summary": c.summary})).collect::<Vec<_>>(),
        "allSkipped": prepared.range.all_skipped,
        "plan": prepared.plan,
        "problems": prepared.conf.problems.iter().map(|p| json!({"file": p.file, "line": p.line, "message": p.message, "hint": p.hint})).collect::<Vec<_>>(),
    })
}

pub async fn run_plan(args: PlanArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let store = open_store(args.range.data_dir.as_deref())?;
    // The engine only helps find the last applied commit, when neither
    // --from nor the store gives it; planning works without it. Connecting
    // costs a round trip to the engine, so it is skipped when not needed.
    let needs_engine =
        args.range.from.is_none() && store.last_applied(&args.range.target)?.is_none();
    let engine = if needs_engine {
        Engine::connect().await.ok()
    } else {
        None
    };
    let prepared = prepare(&args.range, &store, engine.as_ref(), &progress).await?;
    if args.range.json {
        print_json(&plan_json(&prepared));
    } else {
        print_plan(&prepared);
    }
    Ok(())
}

pub async fn run_apply(args: ApplyArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let store = open_store(args.range.data_dir.as_deref())?;
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let prepared = prepare(&args.range, &store, Some(&engine), &progress).await?;
    print_plan(&prepared);

    let run_id = format!("run-{}-{}", std::process::id(), prepared.range.to.short());
    // The key `voc serve` encrypted the stacks' secrets to: the file named,
    // else the data folder's, when it has one.
    let secret_key = match &args.secrets_key_file {
        Some(file) => Some(crate::secret::SecretKey::from_file(file)?),
        None => crate::secret::SecretKey::load(&data_folder(args.range.data_dir.as_deref()))?,
    };
    let settings = ApplySettings {
        wait: Some(args.timeout),
        stability: args.stability,
        secrets: std::env::vars().collect::<BTreeMap<_, _>>(),
        secret_key,
        dry_run: args.dry_run,
        ..ApplySettings::new(args.range.target.clone(), run_id)
    };
    let actions = prepared.plan.actions.clone();
    let name_of = move |id: usize| {
        actions
            .get(id)
            .map(|a| a.kind.subject().to_string())
            .unwrap_or_default()
    };
    let report = apply(
        &engine,
        &store,
        &prepared.files.root,
        &prepared.conf.conf,
        &prepared.plan,
        &settings,
        &|event| match event {
            ApplyEvent::Started { action, job } => {
                let job = job.map(|j| format!(" (job {})", j.0)).unwrap_or_default();
                progress.line(format_args!("{}{job}", action))
            }
            ApplyEvent::Running { .. } => {}
            ApplyEvent::Log { action, line, .. } => {
                progress.line(format_args!("  {}: {line}", name_of(action)))
            }
            ApplyEvent::Finished {
                action, outcome, ..
            } => {
                let name = name_of(action);
                match outcome {
                    Outcome::Succeeded { summary } => {
                        progress.line(format_args!("{name}: done, {summary}"))
                    }
                    Outcome::Unchanged { summary } => {
                        progress.line(format_args!("{name}: {summary}"))
                    }
                    Outcome::Failed { error } => {
                        progress.line(format_args!("{name}: FAILED: {error}"))
                    }
                    Outcome::Skipped { reason } => {
                        progress.line(format_args!("{name}: skipped, {reason}"))
                    }
                }
            }
        },
    )
    .await;

    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(
            &json!({ "range": plan_json(&prepared), "report": report }),
        )?;
        std::fs::write(path, text)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    let (succeeded, unchanged, failed, skipped) = report.counts();
    let summary = format!(
        "{succeeded} succeeded, {unchanged} unchanged, {failed} failed, {skipped} skipped{}",
        if report.recorded {
            format!(
                "; {} recorded as applied to {}",
                prepared.range.to.short(),
                settings.target
            )
        } else {
            String::new()
        }
    );
    if args.range.json {
        print_json(&serde_json::to_value(&report)?);
    }
    println!("{summary}");
    if report.dry_run {
        return Ok(());
    }
    if !report.is_success() {
        let problems = prepared.plan.skipped.len();
        bail!(
            "the apply did not fully succeed: {failed} action(s) failed, {skipped} skipped{}",
            if problems > 0 {
                format!(", {problems} stack(s) or image(s) not planned because of problems")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
