//! What changed between two commits, file by file ([`FileChange`]): the
//! input of planning (which stacks and images a commit range touches).

use git2::{Delta, DiffFindOptions, DiffOptions};

use super::error::{Error, Result};
use super::{CommitId, GitRepo};

/// How a file changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    /// The file is new.
    Added,
    /// The content, mode or type (file, link) changed.
    Modified,
    /// The file is gone.
    Deleted,
    /// The file moved (its content may also have changed a little: git's
    /// default 50 % similarity threshold).
    Renamed {
        /// The old path.
        from: String,
    },
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileChange {
    /// Repo-relative path with `/` separators: the new path, except for
    /// [`ChangeStatus::Deleted`] where it is the old one. A path that is not
    /// UTF-8 is converted lossily (such a path cannot name a stack or an
    /// image anyway).
    pub path: String,
    /// How it changed.
    pub status: ChangeStatus,
}

impl GitRepo {
    /// The files that differ between `from` and `to` (`None`: the empty
    /// tree, so every file of `to` is [`ChangeStatus::Added`]), with renames
    /// detected, in path order. Blocking.
    ///
    /// This compares trees, not history: after a force-push, `from` may be
    /// any commit, and the result still says how to go from its files to
    /// `to`'s.
    pub fn diff(&self, from: Option<&CommitId>, to: &CommitId) -> Result<Vec<FileChange>> {
        let diff_error = |source| Error::Diff {
            from: from.cloned(),
            to: to.clone(),
            source,
        };
        let new_tree = self.find_commit(to)?.tree().map_err(diff_error)?;
        let old_tree = match from {
            Some(from) => Some(self.find_commit(from)?.tree().map_err(diff_error)?),
            None => None,
        };
        let mut options = DiffOptions::new();
        // A file that became a symlink (or back) is a modification of that
        // path, not a deletion plus an addition.
        options.include_typechange(true);
        let mut diff = self
            .repo
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
            .map_err(diff_error)?;
        let mut find = DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find)).map_err(diff_error)?;

        let mut changes = Vec::with_capacity(diff.deltas().len());
        for delta in diff.deltas() {
            let old_path = || path_of(&delta.old_file());
            let new_path = || path_of(&delta.new_file());
            let change = match delta.status() {
                Delta::Added | Delta::Copied => FileChange {
                    path: new_path(),
                    status: ChangeStatus::Added,
                },
                Delta::Deleted => FileChange {
                    path: old_path(),
                    status: ChangeStatus::Deleted,
                },
                Delta::Modified | Delta::Typechange => FileChange {
                    path: new_path(),
                    status: ChangeStatus::Modified,
                },
                Delta::Renamed => FileChange {
                    path: new_path(),
                    status: ChangeStatus::Renamed { from: old_path() },
                },
                // Tree-to-tree diffs never report these (they describe the
                // worktree or a merge).
                Delta::Unmodified
                | Delta::Ignored
                | Delta::Untracked
                | Delta::Unreadable
                | Delta::Conflicted => continue,
            };
            changes.push(change);
        }
        Ok(changes)
    }
}

fn path_of(file: &git2::DiffFile<'_>) -> String {
    file.path_bytes()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_default()
}
