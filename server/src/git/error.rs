//! The git layer's error type: every way reading or syncing the conf repo can
//! fail, each naming the repository (path or URL), the revision or file, and
//! the step, with libgit2's error kept as the source.

use std::path::PathBuf;

use super::CommitId;

/// What went wrong while working with a git repository.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No repository at (or above) the path, or it could not be opened.
    #[error("opening the git repository at `{}`", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The local conf repo could not be created.
    #[error("{what} at `{}`", path.display())]
    Seed {
        /// The repository's folder.
        path: PathBuf,
        /// The step that failed.
        what: &'static str,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The clone destination could not be inspected or created.
    #[error("preparing the clone destination `{}`", path.display())]
    Destination {
        /// The destination folder.
        path: PathBuf,
        /// The file system error.
        #[source]
        source: std::io::Error,
    },

    /// Cloning failed (network, missing repository, missing branch...).
    #[error("cloning branch `{branch}` of `{url}` into `{}`", dest.display())]
    Clone {
        /// The remote URL.
        url: String,
        /// The branch asked for.
        branch: String,
        /// The destination folder.
        dest: PathBuf,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// An existing checkout's `origin` points elsewhere than the configured
    /// remote, so it is not the repository voc was told to use.
    #[error(
        "checkout `{}` has origin `{}`, expected `{expected}`",
        path.display(),
        actual.as_deref().unwrap_or("(none)")
    )]
    OriginMismatch {
        /// The checkout.
        path: PathBuf,
        /// The configured remote URL.
        expected: String,
        /// The URL of the checkout's `origin` remote (`None`: no `origin`).
        actual: Option<String>,
    },

    /// The branch name cannot be a git branch (empty, `..`, `:`, `*`...).
    #[error("branch name `{branch}` is not a valid git branch name")]
    InvalidBranch {
        /// The rejected name.
        branch: String,
    },

    /// The remote has no such branch.
    #[error("branch `{branch}` does not exist on `{url}`")]
    BranchNotFound {
        /// The remote URL.
        url: String,
        /// The missing branch.
        branch: String,
    },

    /// Fetching failed for another reason than authentication or a missing
    /// branch (network, protocol, corrupt pack...).
    #[error("fetching branch `{branch}` from `{url}`")]
    Fetch {
        /// The remote URL.
        url: String,
        /// The branch.
        branch: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The remote asked for credentials and none are configured.
    #[error("`{url}` asks for credentials and none are configured")]
    AuthenticationRequired {
        /// The remote URL.
        url: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The remote rejected the configured credentials, or they are of a kind
    /// the remote does not accept (a token for an SSH URL).
    #[error("authentication failed for `{url}`")]
    AuthenticationFailed {
        /// The remote URL.
        url: String,
        /// Why: the rejection, or the mismatch of kinds.
        #[source]
        source: git2::Error,
    },

    /// A revision (sha, short sha, branch, tag, `HEAD`) does not name a
    /// commit in the repository.
    #[error("resolving revision `{rev}`")]
    Resolve {
        /// The revision as given.
        rev: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// A commit id is well-formed but the commit is not in the repository
    /// (not fetched, or garbage-collected after a force-push).
    #[error("looking up commit `{commit}`")]
    CommitNotFound {
        /// The commit.
        commit: CommitId,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The worktree could not be made to match a commit.
    #[error("checking out commit `{commit}`")]
    Checkout {
        /// The commit.
        commit: CommitId,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// Comparing two trees failed.
    #[error("diffing `{}` to `{to}`", from.as_ref().map_or("the empty tree".to_owned(), |f| format!("commit {f}")))]
    Diff {
        /// The old side (`None`: the empty tree).
        from: Option<CommitId>,
        /// The new side.
        to: CommitId,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// Walking the history between two commits failed.
    #[error("listing commits from `{}` to `{to}`", from.as_ref().map_or("the root".to_owned(), ToString::to_string))]
    History {
        /// The excluded side (`None`: all ancestors of `to`).
        from: Option<CommitId>,
        /// The included side.
        to: CommitId,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// Reading a file of a commit failed.
    #[error("reading `{path}` at commit `{commit}`")]
    ReadFile {
        /// The commit.
        commit: CommitId,
        /// The repo-relative path.
        path: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The path names a folder (or a submodule), not a file.
    #[error("reading `{path}` at commit `{commit}`: it is not a file")]
    NotAFile {
        /// The commit.
        commit: CommitId,
        /// The repo-relative path.
        path: String,
    },

    /// A string is not a full commit id (40 hexadecimal digits).
    #[error("`{value}` is not a commit id (40 hexadecimal digits)")]
    InvalidCommitId {
        /// The rejected string.
        value: String,
    },

    /// A process-wide libgit2 setting could not be applied.
    #[error("setting libgit2's {setting}")]
    Settings {
        /// The setting.
        setting: &'static str,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// A file edit cannot be applied: its path is not a plain repo-relative
    /// file path, it names a folder, a folder on its way is a file, or the
    /// request edits the same path twice.
    #[error("editing `{path}`: {reason}")]
    InvalidEdit {
        /// The repo-relative path as given.
        path: String,
        /// Why the edit cannot be applied.
        reason: &'static str,
    },

    /// The commit's author or committer is not a valid git identity (empty
    /// name or e-mail, or `<`, `>` or a newline in either).
    #[error("using `{name} <{email}>` as a commit identity")]
    InvalidIdentity {
        /// The name given.
        name: String,
        /// The e-mail address given.
        email: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// A file the caller prepared an edit against changed on the branch in
    /// the meantime (or, for a creation, now exists): nothing was committed.
    #[error(
        "`{path}` on branch `{branch}` changed since the edit was prepared (the branch is now at `{head}`)"
    )]
    Conflict {
        /// The repo-relative path.
        path: String,
        /// The branch.
        branch: String,
        /// The branch head the edit was re-applied on.
        head: CommitId,
    },

    /// Pushing failed for another reason than authentication or a refused
    /// ref (network, protocol, the remote failed to unpack...).
    #[error("pushing to branch `{branch}` of `{url}`")]
    Push {
        /// The remote URL.
        url: String,
        /// The branch.
        branch: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },

    /// The remote refused to update the branch for another reason than a
    /// concurrent push (a hook, branch protection, permissions): retrying
    /// would not help.
    #[error("`{url}` refused the push to branch `{branch}`: {reason}")]
    PushRejected {
        /// The remote URL.
        url: String,
        /// The branch.
        branch: String,
        /// The remote's status message for the ref.
        reason: String,
    },

    /// Others kept pushing to the branch: every attempt was overtaken by
    /// another push. Nothing of this request was pushed.
    #[error(
        "pushing to branch `{branch}` of `{url}`: still overtaken by other pushes after {attempts} attempts"
    )]
    RetriesExhausted {
        /// The remote URL.
        url: String,
        /// The branch.
        branch: String,
        /// How many times the commit was built and pushed.
        attempts: u32,
    },

    /// Any other repository operation failed; `step` says which.
    #[error("{step} in `{}`", path.display())]
    Repo {
        /// The step, as a present participle (`reading HEAD`).
        step: &'static str,
        /// The repository (its git folder).
        path: PathBuf,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },
}

/// The git layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
