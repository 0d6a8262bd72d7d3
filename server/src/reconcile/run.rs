//! Preparing a run for one target: where its commit range starts, what
//! changed since, and the plan. `voc plan` and `voc apply` (the CLI) and
//! `voc serve`'s follow loop share this one path, so a commit is planned
//! the same way wherever it is applied.
//!
//! The steps, each usable alone:
//!
//! - [`find_start`]: the target's last applied commit from the store, else
//!   the newest `io.voc.commit` label on the live services, else nothing
//!   (a first run covers everything).
//! - [`read_conf_for_run`]: the conf repo at the range's end, with the
//!   Compose load cache, and the server's interpolation variables under
//!   each stack's own.
//! - [`plan_range`]: the range from the start to the end, and the plan.
//! - [`for_target`]: the part of a plan one target's loop runs.
//!
//! Applying the plan is [`super::apply`]'s business.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::plan::{Plan, PlanInput, plan};
use super::range::{Range, Start, newest_labelled_commit, read_range};
use crate::compose;
use crate::conf::compose_cache::ComposeCache;
use crate::conf::model::ConfReport;
use crate::conf::walk::{ReadOptions, read_conf_cached};
use crate::engine::Engine;
use crate::git::{CommitId, GitRepo};
use crate::store::Store;

/// A planned run: where it starts, the range it covers, and what to do.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Where the range starts and why.
    pub start: Start,
    /// The commits and changes it covers.
    pub range: Range,
    /// What to do. Empty when every commit of the range says `[skip voc]`.
    pub plan: Plan,
}

impl Start {
    /// The commit the range starts at, if any.
    pub fn commit(&self) -> Option<&CommitId> {
        match self {
            Start::Given(commit) | Start::Stored(commit) | Start::Labels(commit) => Some(commit),
            Start::None => None,
        }
    }
}

/// Where `target`'s next run starts when the caller names no start: the
/// last commit voc's store recorded as applied to it; when the store has
/// none (a new or lost data folder), the newest commit found on the live
/// services' `io.voc.commit` labels (`engine`: `None` skips this look);
/// else [`Start::None`]. `repo` is the conf repo's clone, to tell which
/// labelled commit is the newest.
pub async fn find_start(
    store: &Store,
    target: &str,
    engine: Option<&Engine>,
    repo: &Path,
) -> anyhow::Result<Start> {
    let stored = {
        let store = store.clone();
        let owned = target.to_owned();
        tokio::task::spawn_blocking(move || store.last_applied(&owned))
            .await
            .context("reading the last applied commit")?
            .with_context(|| format!("reading the last commit applied to {target}"))?
    };
    if let Some(applied) = stored {
        return Ok(Start::Stored(applied.commit));
    }
    let Some(engine) = engine else {
        return Ok(Start::None);
    };
    let labelled = engine
        .labelled_commits()
        .await
        .with_context(|| format!("reading the io.voc.commit labels of {target}'s services"))?;
    if labelled.is_empty() {
        return Ok(Start::None);
    }
    let repo = repo.to_owned();
    let newest = tokio::task::spawn_blocking(move || {
        GitRepo::open(&repo).map(|repo| newest_labelled_commit(&repo, &labelled))
    })
    .await
    .context("comparing the labelled commits")?
    .context("opening the conf repo to compare the labelled commits")?;
    Ok(newest.map_or(Start::None, Start::Labels))
}

/// Reads the conf repo checked out in `root` (with `cache` for the Compose
/// loads whose inputs did not change; a cache that cannot be saved only
/// costs time next run). Each valid stack gets `options.variables` (the
/// interpolation variables the server allows) under its own `variables`,
/// so that a deploy interpolates exactly what the validation did.
/// Blocking.
pub fn read_conf_for_run(root: &Path, options: &ReadOptions, cache: &ComposeCache) -> ConfReport {
    let mut report = read_conf_cached(root, options, cache);
    let _ = cache.save();
    with_base_variables(&mut report, &options.variables);
    report
}

/// Gives every stack of `report` the `base` variables it does not set
/// itself.
fn with_base_variables(report: &mut ConfReport, base: &compose::Variables) {
    if base.is_empty() {
        return;
    }
    for stack in report.conf.stacks.values_mut() {
        for (name, value) in base {
            stack
                .config
                .variables
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
    }
}

/// Reads the range from `start` to `to` in `repo` and plans it against
/// `conf` (the conf repo read at `to`), for the `reachable` targets
/// (stacks of other targets are skipped with a reason). Blocking: git.
pub fn plan_range(
    repo: &GitRepo,
    start: Start,
    to: &CommitId,
    conf: &ConfReport,
    reachable: &BTreeSet<String>,
) -> anyhow::Result<Prepared> {
    let range = read_range(repo, &start, to).context("reading the commit range")?;
    let mut plan = plan(&PlanInput {
        conf,
        to: to.as_str().to_owned(),
        scope: range.scope.clone(),
        changes: &range.changes,
        directives: &range.directives,
        removed_stack_targets: &range.removed_stack_targets,
        targets: reachable,
    });
    if range.all_skipped {
        plan.actions.clear();
        plan.skipped.clear();
    }
    Ok(Prepared { start, range, plan })
}

/// The part of `plan` that runs on `target`: its actions, renumbered from
/// 0, with their `needs` on actions of other targets dropped (those run in
/// their own target's loop; builds run in the `default` target's). The
/// skipped entries are kept: they explain what no target will do.
pub fn for_target(plan: &Plan, target: &str) -> Plan {
    let kept: BTreeMap<usize, usize> = plan
        .actions
        .iter()
        .filter(|action| action.target == target)
        .enumerate()
        .map(|(new, action)| (action.id, new))
        .collect();
    let actions = plan
        .actions
        .iter()
        .filter_map(|action| {
            let id = *kept.get(&action.id)?;
            let mut action = action.clone();
            action.id = id;
            action.needs = action
                .needs
                .iter()
                .filter_map(|need| kept.get(need).copied())
                .collect();
            Some(action)
        })
        .collect();
    Plan {
        actions,
        ..plan.clone()
    }
}

/// A folder holding one commit's files, for a run to read and build from.
/// Either a checkout's own working tree (when it is clean and at that
/// commit) or a temporary export, removed when this is dropped.
#[derive(Debug)]
pub struct CommitFiles {
    /// The folder.
    pub root: PathBuf,
    _export: Option<tempfile::TempDir>,
}

impl CommitFiles {
    /// `commit`'s files: `repo`'s working tree when it is clean and at
    /// `commit`, else an export into a temporary folder. Blocking.
    pub fn of(repo: &GitRepo, commit: &CommitId) -> anyhow::Result<CommitFiles> {
        let uses_workdir =
            repo.workdir().is_some() && repo.head()? == *commit && repo.is_clean()?;
        if uses_workdir {
            return Ok(CommitFiles {
                root: repo.workdir().map(Path::to_path_buf).unwrap_or_default(),
                _export: None,
            });
        }
        let folder = tempfile::tempdir().context("creating a folder for the commit's files")?;
        repo.export(commit, folder.path())
            .with_context(|| format!("writing out the files of {}", commit.short()))?;
        Ok(CommitFiles {
            root: folder.path().to_path_buf(),
            _export: Some(folder),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan::{Action, ActionKind, Scope};

    fn action(id: usize, kind: ActionKind, target: &str, needs: &[usize]) -> Action {
        Action {
            id,
            kind,
            target: target.to_owned(),
            reasons: vec!["because".to_owned()],
            needs: needs.to_vec(),
        }
    }

    fn plan_of(actions: Vec<Action>) -> Plan {
        Plan {
            to: "0".repeat(40),
            scope: Scope::Everything {
                why: "first run".into(),
            },
            dry_run: false,
            actions,
            skipped: Vec::new(),
        }
    }

    #[test]
    fn for_target_keeps_its_actions_renumbered_with_their_needs() {
        let plan = plan_of(vec![
            action(0, ActionKind::Build("api".into()), "default", &[]),
            action(1, ActionKind::Deploy("edge-db".into()), "edge", &[]),
            action(2, ActionKind::Deploy("edge-app".into()), "edge", &[0, 1]),
            action(3, ActionKind::Deploy("shop".into()), "default", &[0]),
        ]);
        let edge = for_target(&plan, "edge");
        assert_eq!(
            edge.actions,
            vec![
                action(0, ActionKind::Deploy("edge-db".into()), "edge", &[]),
                // The build runs in the default target's loop: not a need here.
                action(1, ActionKind::Deploy("edge-app".into()), "edge", &[0]),
            ]
        );
        let default = for_target(&plan, "default");
        assert_eq!(
            default.actions,
            vec![
                action(0, ActionKind::Build("api".into()), "default", &[]),
                action(1, ActionKind::Deploy("shop".into()), "default", &[0]),
            ]
        );
        assert!(for_target(&plan, "nowhere").actions.is_empty());
    }

    #[test]
    fn base_variables_never_override_a_stacks_own() {
        let dir = tempfile::tempdir().expect("temp folder");
        std::fs::write(
            dir.path().join("docker-compose-shop.yml"),
            "services:\n  web:\n    image: \"busybox:${TAG}\"\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("stack-shop.json"),
            "{\"variables\": {\"TAG\": \"own\"}}\n",
        )
        .expect("write");
        let options = ReadOptions {
            variables: BTreeMap::from([
                ("TAG".to_owned(), "base".to_owned()),
                ("REGION".to_owned(), "eu".to_owned()),
            ]),
            ..ReadOptions::default()
        };
        let report = read_conf_for_run(dir.path(), &options, &ComposeCache::in_memory());
        let variables = &report.conf.stacks["shop"].config.variables;
        assert_eq!(variables["TAG"], "own");
        assert_eq!(variables["REGION"], "eu");
    }
}
