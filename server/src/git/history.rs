//! The commits between two points ([`CommitInfo`], for the directives in
//! their messages) and ancestry (to tell a fast-forward from a force-push).

use git2::{ErrorCode, Sort};

use super::error::{Error, Result};
use super::{CommitId, GitRepo};

/// One commit, as the planner and the UI need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit.
    pub id: CommitId,
    /// The first paragraph of the message, on one line.
    pub summary: String,
    /// The whole message (directives may sit anywhere in it).
    pub message: String,
    /// The author's name.
    pub author_name: String,
    /// The author's e-mail address.
    pub author_email: String,
    /// When the author made it, in seconds since the Unix epoch.
    pub time: i64,
}

impl GitRepo {
    /// Whether `ancestor` is `descendant` or one of its ancestors (as `git
    /// merge-base --is-ancestor`). After a force-push the old head is no
    /// ancestor of the new one. Blocking.
    ///
    /// Both commits must be in the repository ([`Error::CommitNotFound`]
    /// otherwise; check first with [`GitRepo::has_commit`]).
    pub fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool> {
        let ancestor_oid = self.find_commit(ancestor)?.id();
        let descendant_oid = self.find_commit(descendant)?.id();
        if ancestor_oid == descendant_oid {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(descendant_oid, ancestor_oid)
            .map_err(|source| self.error("comparing commit ancestry", source))
    }

    /// The commits reachable from `to` but not from `from` (`git log
    /// from..to`; `None`: all of `to`'s history), oldest first (parents
    /// before children). Blocking.
    ///
    /// After a force-push `from` need not be an ancestor of `to`: the result
    /// is then the new commits since the two histories split.
    pub fn commits(&self, from: Option<&CommitId>, to: &CommitId) -> Result<Vec<CommitInfo>> {
        let history_error = |source| Error::History {
            from: from.cloned(),
            to: to.clone(),
            source,
        };
        let to_oid = self.find_commit(to)?.id();
        let from_oid = from
            .map(|from| self.find_commit(from).map(|c| c.id()))
            .transpose()?;

        let mut walk = self.repo.revwalk().map_err(history_error)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(history_error)?;
        walk.push(to_oid).map_err(history_error)?;
        if let Some(from_oid) = from_oid {
            walk.hide(from_oid).map_err(history_error)?;
        }

        let mut commits = Vec::new();
        for oid in walk {
            let oid = oid.map_err(history_error)?;
            let commit = match self.repo.find_commit(oid) {
                Ok(commit) => commit,
                // A shallow or partial history can list ids it lacks.
                Err(error) if error.code() == ErrorCode::NotFound => {
                    return Err(Error::CommitNotFound {
                        commit: CommitId::from_oid(oid),
                        source: error,
                    });
                }
                Err(source) => return Err(history_error(source)),
            };
            commits.push(info_of(&commit));
        }
        Ok(commits)
    }

    /// One commit's id, message, author and time. Blocking.
    pub fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo> {
        Ok(info_of(&self.find_commit(commit)?))
    }
}

fn info_of(commit: &git2::Commit<'_>) -> CommitInfo {
    let author = commit.author();
    CommitInfo {
        id: CommitId::from_oid(commit.id()),
        summary: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        time: author.when().seconds(),
    }
}
