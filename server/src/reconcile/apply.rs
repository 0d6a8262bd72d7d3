//! Applying a plan: each action becomes a job, recorded in the store with
//! its log, and runs against the engine.
//!
//! Actions run in plan order. An action whose prerequisites did not succeed
//! is skipped and says which one failed; independent actions go on after a
//! failure. The target's last applied commit moves to the plan's end only
//! when everything succeeded, so a failed or skipped stack is tried again by
//! the next run.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::Instrument;

use super::plan::{Action, ActionKind, Plan};
use crate::compose;
use crate::conf::model::{Conf, ResolveImageSetting, StackEntry};
use crate::engine::applied::{COMMIT_LABEL, SOURCE_LABEL};
use crate::engine::image::ImageBuild;
use crate::engine::{DeployEvent, DeployOptions, Engine, RemoveEvent, ResolveImage, credentials};
use crate::git::CommitId;
use crate::store::{JobId, JobKind, JobStatus, NewJob, Store};

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// The target the plan runs against (its name in the configuration).
    pub target: String,
    /// How long a deploy may wait for its services to converge; `None`
    /// does not wait (then `dependsOn` only orders the deploys).
    pub wait: Option<Duration>,
    /// How long a converged service must stay so (default: its monitor
    /// period).
    pub stability: Option<Duration>,
    /// Values for `$NAME` build args.
    pub secrets: BTreeMap<String, String>,
    /// voc's key, to decrypt the `secrets` of `stack-<stack>.json` at
    /// deploy (`None`: no key file; a stack with secrets then fails).
    pub secret_key: Option<crate::secret::SecretKey>,
    /// Plan only.
    pub dry_run: bool,
    /// Groups this run's jobs in the store.
    pub run_id: String,
    /// Jobs already recorded (queued) for actions of the plan, by kind and
    /// subject: such an action runs under that job instead of a new one
    /// (the API queues a job when it pushes a commit, so that its caller can
    /// follow the deploy the commit causes).
    pub reserved: HashMap<(JobKind, String), JobId>,
    /// Update every service of each deployed stack, even when unchanged
    /// (a forced redeploy: the tasks are replaced).
    pub force: bool,
    /// Move the target's last applied commit to the plan's end when
    /// everything succeeded. False for a one-off job (a redeploy or a
    /// build outside of a reconcile), which applies no commit range.
    pub record: bool,
}

impl ApplySettings {
    /// Settings for a reconcile of `target`: no wait, no reserved job,
    /// recorded when it succeeds.
    pub fn new(target: impl Into<String>, run_id: impl Into<String>) -> ApplySettings {
        ApplySettings {
            target: target.into(),
            wait: None,
            stability: None,
            secrets: BTreeMap::new(),
            secret_key: None,
            dry_run: false,
            run_id: run_id.into(),
            reserved: HashMap::new(),
            force: false,
            record: true,
        }
    }
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// Done, and something changed.
    Succeeded {
        /// What was done, in words.
        summary: String,
    },
    /// Done, and nothing needed changing.
    Unchanged {
        /// Why nothing changed.
        summary: String,
    },
    /// It failed.
    Failed {
        /// The error, with its causes.
        error: String,
    },
    /// It did not run.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// True for [`Outcome::Succeeded`] and [`Outcome::Unchanged`].
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded { .. } | Outcome::Unchanged { .. })
    }
}

/// One action and how it ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// The action.
    #[serde(flatten)]
    pub action: Action,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Its job in the store (none for a dry run).
    pub job: Option<i64>,
    /// How long it took.
    pub seconds: f64,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// The plan that was applied.
    pub plan: Plan,
    /// One result per action, in plan order.
    pub results: Vec<ActionResult>,
    /// True if the target's last applied commit was moved to the plan's end.
    pub recorded: bool,
    /// True if it only planned.
    pub dry_run: bool,
}

impl ApplyReport {
    /// True if no action failed and nothing was skipped for a problem.
    pub fn is_success(&self) -> bool {
        self.plan.skipped.is_empty()
            && self
                .results
                .iter()
                .all(|r| r.outcome.is_success() || self.dry_run)
    }

    /// How many results have each status: succeeded, unchanged, failed, skipped.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let count = |f: fn(&Outcome) -> bool| self.results.iter().filter(|r| f(&r.outcome)).count();
        (
            count(|o| matches!(o, Outcome::Succeeded { .. })),
            count(|o| matches!(o, Outcome::Unchanged { .. })),
            count(|o| matches!(o, Outcome::Failed { .. })),
            count(|o| matches!(o, Outcome::Skipped { .. })),
        )
    }
}

/// Something a run did or saw, as it happens.
#[derive(Debug, Clone)]
pub enum ApplyEvent {
    /// An action comes up (its job is queued).
    Started {
        /// The action.
        action: Action,
        /// Its job.
        job: Option<JobId>,
    },
    /// An action's job starts running (not sent for an action that is
    /// skipped).
    Running {
        /// The action's id in the plan.
        action: usize,
        /// Its job.
        job: Option<JobId>,
    },
    /// A line of an action's log.
    Log {
        /// The action's id in the plan.
        action: usize,
        /// Its job.
        job: Option<JobId>,
        /// The line's position in the job's log, from 1 (0 when it has no
        /// job or the store could not record it).
        seq: i64,
        /// The line.
        line: String,
    },
    /// An action ended.
    Finished {
        /// The action's id in the plan.
        action: usize,
        /// Its job.
        job: Option<JobId>,
        /// How.
        outcome: Outcome,
    },
}

impl Outcome {
    /// The job status this outcome is recorded as, with the error or the
    /// note that goes with it.
    pub fn job_status(&self) -> (JobStatus, Option<&str>) {
        match self {
            Outcome::Succeeded { .. } | Outcome::Unchanged { .. } => (JobStatus::Succeeded, None),
            Outcome::Failed { error } => (JobStatus::Failed, Some(error.as_str())),
            Outcome::Skipped { reason } => (JobStatus::Skipped, Some(reason.as_str())),
        }
    }
}

/// Where an action's log lines go: the caller's progress and the job's log.
struct JobLog<'a> {
    store: &'a Store,
    job: Option<JobId>,
    action: usize,
    progress: &'a (dyn Fn(ApplyEvent) + Send + Sync),
    /// Lines the store refused; reported once at the end of the job.
    lost: Mutex<usize>,
}

impl JobLog<'_> {
    fn line(&self, line: impl Into<String>) {
        let line = line.into();
        // Also in voc's own log, under the job's span (its id, kind,
        // subject and target), so that `RUST_LOG=voc::job=warn` can leave
        // them out.
        tracing::info!(target: JOB_LOG_TARGET, "{line}");
        let mut seq = 0;
        if let Some(job) = self.job {
            match self.store.append_log(job, &line) {
                Ok(written) => seq = written,
                Err(_) => {
                    *self
                        .lost
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) += 1
                }
            }
        }
        (self.progress)(ApplyEvent::Log {
            action: self.action,
            job: self.job,
            seq,
            line,
        });
    }
}

/// The `tracing` target of the job log lines copied to voc's own log.
pub const JOB_LOG_TARGET: &str = "voc::job";

/// The span a job runs in: every line voc logs while the job runs carries
/// its id (none for a dry run's action), kind, subject and target.
pub fn job_span(job: Option<JobId>, kind: JobKind, subject: &str, target: &str) -> tracing::Span {
    tracing::info_span!(
        "job",
        id = job.map(|job| job.0),
        kind = %kind.as_str(),
        subject = %subject,
        target = %target,
    )
}

/// Says in voc's log and metrics that job `id` ended as `status` without
/// running, `sentence` saying why (the caller wrote it to the job's log and
/// recorded the end). Blocking: reads the job from `store`.
pub fn observe_end_without_run(store: &Store, id: JobId, status: JobStatus, sentence: &str) {
    let Ok(Some(job)) = store.job(id) else {
        return;
    };
    job_span(Some(id), job.kind, &job.subject, &job.target).in_scope(|| {
        tracing::info!(target: JOB_LOG_TARGET, "{sentence}");
        tracing::info!(status = %status.as_str(), "job ended");
    });
    crate::metrics::job_ended(&job.target, job.kind.as_str(), status.as_str());
}

/// Applies `plan`, whose files are checked out in `root` and described by
/// `conf`.
pub async fn apply(
    engine: &Engine,
    store: &Store,
    root: &Path,
    conf: &Conf,
    plan: &Plan,
    settings: &ApplySettings,
    progress: &(dyn Fn(ApplyEvent) + Send + Sync),
) -> ApplyReport {
    let dry_run = settings.dry_run || plan.dry_run;
    let to = CommitId::parse(&plan.to).ok();
    let mut results: Vec<ActionResult> = Vec::new();
    for action in &plan.actions {
        let started = Instant::now();
        let blocked = action.needs.iter().find_map(|need| {
            let result = results.iter().find(|r| r.action.id == *need)?;
            (!result.outcome.is_success())
                .then(|| format!("{} did not succeed", describe(&result.action.kind)))
        });
        let reserved = settings
            .reserved
            .get(&(
                job_kind(&action.kind),
                subject_name(&action.kind).to_owned(),
            ))
            .copied();
        let job = if reserved.is_some() {
            reserved
        } else if dry_run {
            None
        } else {
            store
                .create_job(&NewJob {
                    run_id: Some(settings.run_id.clone()),
                    kind: job_kind(&action.kind),
                    subject: subject_name(&action.kind).to_owned(),
                    target: action.target.clone(),
                    commit: to.clone(),
                    reason: action.reasons.join("; "),
                })
                .ok()
        };
        progress(ApplyEvent::Started {
            action: action.clone(),
            job,
        });
        let log = JobLog {
            store,
            job,
            action: action.id,
            progress,
            lost: Mutex::new(0),
        };
        let span = job_span(
            job,
            job_kind(&action.kind),
            subject_name(&action.kind),
            &action.target,
        );
        let outcome = match (dry_run, blocked) {
            (true, _) => Outcome::Skipped {
                reason: "dry run: nothing was changed".to_owned(),
            },
            (false, Some(reason)) => Outcome::Skipped { reason },
            (false, None) => {
                if let Some(job) = job {
                    let _ = store.start_job(job);
                }
                progress(ApplyEvent::Running {
                    action: action.id,
                    job,
                });
                span.in_scope(
                    || tracing::info!(reason = %action.reasons.join("; "), "job started"),
                );
                run_action(engine, root, conf, action, settings, &plan.to, &log)
                    .instrument(span.clone())
                    .await
            }
        };
        span.in_scope(|| {
            let lost = *log
                .lost
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if lost > 0 {
                log.line(format!(
                    "warning: {lost} log line(s) could not be written to the store"
                ));
            }
            let (status, note) = outcome.job_status();
            tracing::info!(status = %status.as_str(), note, "job ended");
            if let Some(job) = job
                && store.finish_job(job, status, note).is_ok()
            {
                crate::metrics::job_ended(
                    &action.target,
                    job_kind(&action.kind).as_str(),
                    status.as_str(),
                );
            }
        });
        progress(ApplyEvent::Finished {
            action: action.id,
            job,
            outcome: outcome.clone(),
        });
        results.push(ActionResult {
            action: action.clone(),
            outcome,
            job: job.map(|id| id.0),
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    let mut report = ApplyReport {
        plan: plan.clone(),
        results,
        recorded: false,
        dry_run,
    };
    if !dry_run
        && settings.record
        && report.is_success()
        && let Some(to) = &to
    {
        report.recorded = store.set_last_applied(&settings.target, to).is_ok();
    }
    report
}

/// The kind of job an action is recorded as.
pub fn job_kind(kind: &ActionKind) -> JobKind {
    match kind {
        ActionKind::Build(_) => JobKind::Build,
        ActionKind::Deploy(_) => JobKind::Deploy,
        ActionKind::Remove(_) => JobKind::Remove,
    }
}

/// The stack or image an action is about, by name.
pub fn subject_name(kind: &ActionKind) -> &str {
    match kind {
        ActionKind::Build(name) | ActionKind::Deploy(name) | ActionKind::Remove(name) => name,
    }
}

fn describe(kind: &ActionKind) -> String {
    match kind {
        ActionKind::Build(image) => format!("the build of image {image}"),
        ActionKind::Deploy(stack) => format!("the deploy of stack {stack}"),
        ActionKind::Remove(stack) => format!("the removal of stack {stack}"),
    }
}

async fn run_action(
    engine: &Engine,
    root: &Path,
    conf: &Conf,
    action: &Action,
    settings: &ApplySettings,
    commit: &str,
    log: &JobLog<'_>,
) -> Outcome {
    let result = match &action.kind {
        ActionKind::Build(image) => build(engine, root, conf, image, settings, log).await,
        ActionKind::Deploy(stack) => deploy(engine, root, conf, stack, settings, commit, log).await,
        ActionKind::Remove(stack) => remove(engine, stack, log).await,
    };
    match result {
        Ok(outcome) => outcome,
        Err(error) => {
            let error = format!("{error:#}");
            log.line(format!("error: {error}"));
            Outcome::Failed { error }
        }
    }
}

async fn deploy(
    engine: &Engine,
    root: &Path,
    conf: &Conf,
    name: &str,
    settings: &ApplySettings,
    commit: &str,
    log: &JobLog<'_>,
) -> anyhow::Result<Outcome> {
    let stack = conf
        .stacks
        .get(name)
        .ok_or_else(|| anyhow::anyhow!("stack {name} is not in the conf repo"))?;
    let (spec, warnings) = load_stack_spec(root, stack, settings.secret_key.as_ref())?;
    for warning in &warnings {
        log.line(format!("warning: {warning}"));
    }
    let registry_auth = if stack.config.with_registry_auth {
        credentials::for_images(spec.services.iter().map(|s| s.image.as_str()))?
    } else {
        None
    };
    let options = DeployOptions {
        resolve_image: match stack.config.resolve_image {
            ResolveImageSetting::Always => ResolveImage::Always,
            ResolveImageSetting::Changed => ResolveImage::Changed,
            ResolveImageSetting::Never => ResolveImage::Never,
        },
        prune: stack.config.prune,
        registry_auth,
        wait: settings.wait,
        stability: settings.stability,
        force: settings.force,
        labels: BTreeMap::from([
            (COMMIT_LABEL.to_owned(), commit.to_owned()),
            (SOURCE_LABEL.to_owned(), stack.compose_file.clone()),
        ]),
        ..DeployOptions::default()
    };
    let report = engine
        .deploy_stack(&spec, &options, &|event: DeployEvent| {
            log.line(event.to_string())
        })
        .await?;
    if report.is_noop() {
        Ok(Outcome::Unchanged {
            summary: format!(
                "no change: all {} service(s) as desired",
                report.services.len()
            ),
        })
    } else {
        let changed: Vec<String> = report
            .services
            .iter()
            .filter(|s| s.action != crate::engine::ServiceAction::Unchanged)
            .map(|s| format!("{} {}", s.name, s.action))
            .collect();
        let summary = if changed.is_empty() {
            "networks, secrets or configs changed".to_owned()
        } else {
            changed.join(", ")
        };
        Ok(Outcome::Succeeded { summary })
    }
}

/// The swarm specs stack `stack` deploys, as its Compose file in `root`
/// (a checkout of the conf repo) and its variables give them, with the
/// loader's warnings. The one place a deploy's specs come from: the live
/// state compares the swarm with exactly this. The stack's secrets are
/// decrypted with `secret_key` (voc's key, `crate::secret`).
pub fn load_stack_spec(
    root: &Path,
    stack: &StackEntry,
    secret_key: Option<&crate::secret::SecretKey>,
) -> anyhow::Result<(compose::StackSpec, Vec<String>)> {
    let variables = crate::secret::stack_variables(&stack.name, &stack.config, secret_key)?;
    let loaded = compose::load::load_files(&[root.join(&stack.compose_file)], &variables)
        .map_err(|error| anyhow::anyhow!("{} is invalid:\n{error}", stack.compose_file))?;
    let spec =
        compose::convert(&stack.name, &loaded.file).map_err(|error| anyhow::anyhow!("{error}"))?;
    let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
    Ok((spec, warnings))
}

async fn build(
    engine: &Engine,
    root: &Path,
    conf: &Conf,
    name: &str,
    settings: &ApplySettings,
    log: &JobLog<'_>,
) -> anyhow::Result<Outcome> {
    let image = conf
        .images
        .get(name)
        .ok_or_else(|| anyhow::anyhow!("image {name} is not in the conf repo"))?;
    let build = ImageBuild {
        dockerfile: root.join(&image.dockerfile),
        context: root.join(&image.context),
        tag: image.config.tag.clone(),
        build_args: image.config.resolve_build_args(&settings.secrets)?,
        target: image.config.target.clone(),
        labels: image.config.labels.clone(),
    };
    let lines = |line: &str| log.line(line.trim_end().to_owned());
    let built = engine.build_image(&build, &lines).await?;
    log.line(format!("built {} ({})", built.tag, built.id));
    let mut pushed = Vec::new();
    for destination in &image.config.push {
        let auth = credentials::for_registry(&credentials::registry_of(destination))?;
        let result = engine
            .push_image(&built.tag, destination, auth.as_ref(), &lines)
            .await?;
        log.line(format!("pushed {} ({})", result.destination, result.digest));
        pushed.push(result.destination);
    }
    let summary = if pushed.is_empty() {
        format!("built {}", built.tag)
    } else {
        format!("built {} and pushed {}", built.tag, pushed.join(", "))
    };
    Ok(Outcome::Succeeded { summary })
}

async fn remove(engine: &Engine, name: &str, log: &JobLog<'_>) -> anyhow::Result<Outcome> {
    let report = engine
        .remove_stack(name, &|event: RemoveEvent| match event {
            RemoveEvent::NothingFound => log.line(format!("nothing found in stack {name}")),
            event => log.line(event.to_string()),
        })
        .await?;
    if report.found {
        Ok(Outcome::Succeeded {
            summary: format!("{} object(s) removed", report.removed.len()),
        })
    } else {
        Ok(Outcome::Unchanged {
            summary: "the stack was not in the swarm".to_owned(),
        })
    }
}
