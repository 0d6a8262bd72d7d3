//! The commit range a run covers, and what changed in it.
//!
//! The range ends at the commit to apply. It starts at the commit given
//! (`--from`), else at the last commit applied to the target (from voc's
//! store, or from the `io.voc.commit` labels on the live services when the
//! store was lost). Without a start, or when the start is no ancestor of
//! the end (the branch was force-pushed), the run covers everything; after
//! a force-push, the difference from the old start (when the repository
//! still has it) also says which stacks the new history no longer has.
//!
//! Blocking: it reads git.

use std::collections::{BTreeMap, BTreeSet};

use super::directives::Directives;
use super::files::{FileRole, role_of, stack_config_beside};
use super::plan::{ChangedFile, FileStatus, Scope};
use crate::conf::model::{DEFAULT_TARGET, StackConfig};
use crate::git::{ChangeStatus, CommitId, CommitInfo, GitRepo};

/// Past this many commits, changed files are not attributed to the commit
/// that last touched them: the reasons then name the range instead.
const ATTRIBUTION_LIMIT: usize = 500;

/// Where a range's start comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Given by the caller (`--from`); an all-zero id means "nothing before":
    /// a new branch in CI.
    Given(CommitId),
    /// Recorded in the store as the target's last applied commit.
    Stored(CommitId),
    /// Read from the live services' `io.voc.commit` labels.
    Labels(CommitId),
    /// Nothing was ever applied.
    None,
}

/// What a run covers.
#[derive(Debug, Clone)]
pub struct Range {
    /// The scope for the planner.
    pub scope: Scope,
    /// The end of the range.
    pub to: CommitId,
    /// The files that differ. For [`Scope::Everything`], empty, except
    /// after a force-push while the last applied commit is still in the
    /// repository: then the difference from that commit, which tells which
    /// stacks are gone.
    pub changes: Vec<ChangedFile>,
    /// The commits of the range, oldest first.
    pub commits: Vec<CommitInfo>,
    /// The directives of the commits not marked `[skip voc]`.
    pub directives: Directives,
    /// True when every commit of the range says `[skip voc]`.
    pub all_skipped: bool,
    /// The targets of stacks deleted or renamed away in the range.
    pub removed_stack_targets: BTreeMap<String, String>,
}

/// Reads the range from `start` to `to`.
pub fn read_range(repo: &GitRepo, start: &Start, to: &CommitId) -> crate::git::Result<Range> {
    let from = match start {
        Start::Given(commit) if commit.is_zero() => None,
        Start::Given(commit) | Start::Stored(commit) | Start::Labels(commit) => {
            Some(commit.clone())
        }
        Start::None => None,
    };
    let everything = |why: String| Scope::Everything { why };
    // `rewritten`: the last applied commit of a force-pushed branch, still
    // in the repository: everything is reconciled, and its tree tells which
    // stacks the new history no longer has.
    let (scope, from, rewritten) = match (&from, start) {
        (None, Start::Given(_)) => (
            everything("the range starts at an all-zero commit (a new branch)".into()),
            None,
            None,
        ),
        (None, _) => (
            everything("first run: nothing was applied before".into()),
            None,
            None,
        ),
        (Some(from), _) if !repo.has_commit(from)? => (
            everything(format!(
                "the range's start {} is not in this clone (history rewritten, or a shallow clone)",
                from.short()
            )),
            None,
            None,
        ),
        (Some(from), _) if !repo.is_ancestor(from, to)? => (
            everything(format!(
                "history rewritten: {} is not an ancestor of {}, so everything is reconciled",
                from.short(),
                to.short()
            )),
            None,
            Some(from.clone()),
        ),
        (Some(from), _) => (
            Scope::Changes {
                from: from.as_str().to_owned(),
            },
            Some(from.clone()),
            None,
        ),
    };

    let commits = match &scope {
        Scope::Changes { .. } => repo.commits(from.as_ref(), to)?,
        // A full reconcile does not read the whole history: only the last
        // commit's directives count.
        Scope::Everything { .. } => repo
            .commits(None, to)
            .map(|mut all| all.split_off(all.len().saturating_sub(1)))?,
    };
    let mut directives = Directives::default();
    let mut skipped_commits = BTreeSet::new();
    let mut last_dry_run = false;
    for commit in &commits {
        let own = Directives::parse(&commit.message);
        if own.skip {
            skipped_commits.insert(commit.id.clone());
        } else {
            directives.merge(&own);
            last_dry_run = own.dry_run;
        }
    }
    // `[dry-run]` is about its own commit: a dry run records nothing, so an
    // older `[dry-run]` commit stays in every later range and, merged, would
    // turn every later run into a dry run too. Only the newest commit that
    // counts (not `[skip voc]`) decides.
    directives.dry_run = last_dry_run;
    let all_skipped = !commits.is_empty() && skipped_commits.len() == commits.len();

    let mut changes = Vec::new();
    let mut removed_stack_targets = BTreeMap::new();
    if let Some(from) = from.as_ref().or(rewritten.as_ref()) {
        let attribution = match &rewritten {
            None => attribute(repo, from, &commits, &skipped_commits)?,
            Some(_) => None,
        };
        for change in repo.diff(Some(from), to)? {
            let status = match &change.status {
                ChangeStatus::Added => FileStatus::Added,
                ChangeStatus::Modified => FileStatus::Modified,
                ChangeStatus::Deleted => FileStatus::Deleted,
                ChangeStatus::Renamed { from } => FileStatus::Renamed { from: from.clone() },
            };
            let commit = match &attribution {
                Some(last_touch) => match last_touch.get(&change.path) {
                    Some(Some(commit)) => Some(commit.short().to_owned()),
                    // Touched only by commits marked `[skip voc]`.
                    Some(None) => continue,
                    None => None,
                },
                None if rewritten.is_some() => {
                    Some(format!("the new history (compared with {})", from.short()))
                }
                None => Some(format!("{}..{}", from.short(), to.short())),
            };
            let old_path = match &status {
                FileStatus::Deleted => Some(change.path.clone()),
                FileStatus::Renamed { from } => Some(from.clone()),
                _ => None,
            };
            if let Some(old_path) = old_path
                && let FileRole::ComposeFile { stack } = role_of(&old_path)
            {
                let target = old_target(repo, from, &old_path, &stack);
                removed_stack_targets.insert(stack, target);
            }
            changes.push(ChangedFile {
                path: change.path,
                status,
                commit,
            });
        }
    }
    Ok(Range {
        scope,
        to: to.clone(),
        changes,
        commits,
        directives,
        all_skipped,
        removed_stack_targets,
    })
}

/// For each path touched in the range, the last commit that touched it, or
/// `None` when only `[skip voc]` commits did. `None` overall when the range
/// is too long to diff commit by commit.
///
/// Each commit is compared with the one before it in the range, which is
/// its parent on a linear history; on merges the attribution is
/// approximate, while the set of changed files (from the range's own diff)
/// stays exact.
fn attribute(
    repo: &GitRepo,
    from: &CommitId,
    commits: &[CommitInfo],
    skipped: &BTreeSet<CommitId>,
) -> crate::git::Result<Option<BTreeMap<String, Option<CommitId>>>> {
    if commits.len() > ATTRIBUTION_LIMIT {
        return Ok(None);
    }
    let mut last_touch: BTreeMap<String, Option<CommitId>> = BTreeMap::new();
    let mut previous = from.clone();
    for commit in commits {
        let is_skipped = skipped.contains(&commit.id);
        for change in repo.diff(Some(&previous), &commit.id)? {
            let mut paths = vec![change.path.clone()];
            if let ChangeStatus::Renamed { from } = &change.status {
                paths.push(from.clone());
            }
            for path in paths {
                let entry = last_touch.entry(path).or_insert(None);
                if !is_skipped {
                    *entry = Some(commit.id.clone());
                }
            }
        }
        previous = commit.id.clone();
    }
    Ok(Some(last_touch))
}

/// The target a deleted stack had: its old `stack-<name>.json`, read at the
/// range's start; the default target if it had none or it cannot be read.
fn old_target(repo: &GitRepo, from: &CommitId, compose_file: &str, stack: &str) -> String {
    let config = stack_config_beside(compose_file, stack);
    repo.read_file(from, &config)
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<StackConfig>(&bytes).ok())
        .map(|config| config.target)
        .unwrap_or_else(|| DEFAULT_TARGET.to_owned())
}

/// The newest of the commits found on live services' labels: the one every
/// other is an ancestor of. `None` when there are none, or when they are on
/// diverging histories (then everything is reconciled).
pub fn newest_labelled_commit(repo: &GitRepo, labelled: &BTreeSet<String>) -> Option<CommitId> {
    let known: Vec<CommitId> = labelled
        .iter()
        .filter_map(|id| CommitId::parse(id).ok())
        .filter(|id| repo.has_commit(id).unwrap_or(false))
        .collect();
    known
        .iter()
        .find(|candidate| {
            known
                .iter()
                .all(|other| repo.is_ancestor(other, candidate).unwrap_or(false))
        })
        .cloned()
}
