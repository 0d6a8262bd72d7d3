//! [`GitRepo`]: a local checkout of the conf repo: opening or cloning it,
//! fetching the followed branch, resolving revisions, checking out a commit
//! and reading files as they were at a commit.
//!
//! History and diffs live in `history.rs` and `change.rs`; the credentials
//! callback in `remote.rs`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{ErrorCode, FetchOptions, ObjectType, Repository, RepositoryInitOptions};

use super::CommitId;
use super::error::{Error, Result};
use super::remote::{Authenticator, Remote};

/// A git repository on disk, normally voc's own clone of the conf repo.
///
/// Every method blocks (disk and, for [`GitRepo::clone_or_open`] and
/// [`GitRepo::fetch`], network I/O): call them from
/// `tokio::task::spawn_blocking`. A `GitRepo` is `Send` but not `Sync`: move
/// it into the blocking task, or open the path again there (opening is cheap).
pub struct GitRepo {
    pub(crate) repo: Repository,
}

impl fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRepo")
            .field("path", &self.repo.path())
            .finish()
    }
}

impl GitRepo {
    /// Opens the repository that holds `path`: the path itself or the first
    /// folder above it with a `.git` (as `git` finds it from a subfolder).
    /// Blocking.
    pub fn open(path: &Path) -> Result<GitRepo> {
        Repository::discover(path)
            .map(|repo| GitRepo { repo })
            .map_err(|source| Error::Open {
                path: path.to_owned(),
                source,
            })
    }

    /// Clones `remote`'s branch into `dest` when `dest` is missing or an
    /// empty folder; otherwise opens the repository at `dest` (exactly
    /// there, no search upward) and checks that its `origin` is
    /// `remote.url`. Blocking; network I/O when it clones.
    ///
    /// The clone fetches only the followed branch (like `git clone
    /// --single-branch`), with the same force-following refspec as
    /// [`GitRepo::fetch`], and checks its head out with [`GitRepo::checkout`]
    /// (detached `HEAD`). A failed clone removes what it created, leaving
    /// `dest` missing or empty as it was, so the call can simply be retried.
    pub fn clone_or_open(remote: &Remote, dest: &Path) -> Result<GitRepo> {
        remote.check_branch()?;
        if is_missing_or_empty(dest)? {
            return Self::clone(remote, dest);
        }
        let repo = Repository::open(dest).map_err(|source| Error::Open {
            path: dest.to_owned(),
            source,
        })?;
        let repo = GitRepo { repo };
        repo.check_origin(remote)?;
        Ok(repo)
    }

    /// Points the clone at `dest`, if there is one, at `url` when its
    /// `origin` is another path to a repository named like `url`'s last
    /// component: voc's own conf repo, which lives in the data folder and
    /// moves with it (a restored backup), while the clone's `origin` is an
    /// absolute path. Any other `origin` is left for
    /// [`GitRepo::clone_or_open`] to refuse. Blocking.
    pub fn follow_moved_local_origin(dest: &Path, url: &str) -> Result<()> {
        if is_missing_or_empty(dest)? {
            return Ok(());
        }
        let repo = Repository::open(dest).map_err(|source| Error::Open {
            path: dest.to_owned(),
            source,
        })?;
        let repo = GitRepo { repo };
        let Some(origin) = repo.origin_url()? else {
            return Ok(());
        };
        if origin != url && Path::new(&origin).file_name() == Path::new(url).file_name() {
            tracing::info!(from = %origin, to = %url, "the local conf repo moved: following it there");
            repo.repo.remote_set_url("origin", url).map_err(|source| {
                repo.error(
                    "pointing remote `origin` at the moved local conf repo",
                    source,
                )
            })?;
        }
        Ok(())
    }

    fn clone(remote: &Remote, dest: &Path) -> Result<GitRepo> {
        let existed = dest.exists();
        let cloned = Self::init_and_fetch(remote, dest);
        if cloned.is_err() {
            remove_clone(dest, existed);
        }
        cloned
    }

    /// `git clone --single-branch` done by hand rather than with libgit2's
    /// clone, so that a missing branch is found the same way as in
    /// [`GitRepo::fetch`] (libgit2's clone reports it as a bare "not found",
    /// like a missing repository).
    fn init_and_fetch(remote: &Remote, dest: &Path) -> Result<GitRepo> {
        let clone_error = |source| Error::Clone {
            url: remote.url.clone(),
            branch: remote.branch.clone(),
            dest: dest.to_owned(),
            source,
        };
        let mut options = RepositoryInitOptions::new();
        options.mkpath(true);
        let repo = Repository::init_opts(dest, &options).map_err(clone_error)?;
        repo.remote_with_fetch("origin", &remote.url, &remote.refspec())
            .map_err(clone_error)?;
        let repo = GitRepo { repo };
        let head = repo.fetch(remote)?;
        repo.checkout(&head)?;
        Ok(repo)
    }

    /// The URL of the `origin` remote, `None` when there is no `origin`.
    fn origin_url(&self) -> Result<Option<String>> {
        match self.repo.find_remote("origin") {
            Ok(origin) => Ok(Some(
                String::from_utf8_lossy(origin.url_bytes()).into_owned(),
            )),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
            Err(source) => Err(self.error("reading remote `origin`", source)),
        }
    }

    pub(crate) fn check_origin(&self, remote: &Remote) -> Result<()> {
        match self.origin_url()? {
            Some(url) if url == remote.url => Ok(()),
            actual => Err(Error::OriginMismatch {
                path: self.repo.path().to_owned(),
                expected: remote.url.clone(),
                actual,
            }),
        }
    }

    /// Fetches `remote.branch` from `origin` into
    /// `refs/remotes/origin/<branch>` and returns the remote's head. Blocking;
    /// network I/O.
    ///
    /// The refspec starts with `+`, so a force-pushed branch is followed (the
    /// old head stays in the object database until git collects it; compare
    /// with [`GitRepo::is_ancestor`] to detect the rewrite). A checkout
    /// without `origin` gets one; a checkout whose `origin` is another URL is
    /// an [`Error::OriginMismatch`]. The worktree is not touched: follow with
    /// [`GitRepo::checkout`].
    pub fn fetch(&self, remote: &Remote) -> Result<CommitId> {
        let started = std::time::Instant::now();
        let fetched = self.fetch_untimed(remote);
        crate::metrics::git_fetch(fetched.is_ok(), started.elapsed());
        fetched
    }

    /// [`GitRepo::fetch`], without its metrics.
    fn fetch_untimed(&self, remote: &Remote) -> Result<CommitId> {
        remote.check_branch()?;
        let refspec = remote.refspec();
        let mut origin = match self.repo.find_remote("origin") {
            Ok(origin) => origin,
            Err(error) if error.code() == ErrorCode::NotFound => self
                .repo
                .remote_with_fetch("origin", &remote.url, &refspec)
                .map_err(|source| self.error("adding remote `origin`", source))?,
            Err(source) => return Err(self.error("reading remote `origin`", source)),
        };
        self.check_origin(remote)?;

        let auth = Authenticator::new(&remote.credentials);
        let mut options = FetchOptions::new();
        options.remote_callbacks(auth.callbacks());
        let fetch_error = |source| Error::Fetch {
            url: remote.url.clone(),
            branch: remote.branch.clone(),
            source,
        };
        origin
            .fetch(&[refspec.as_str()], Some(&mut options), Some("voc: fetch"))
            .map_err(|error| auth.classify(&remote.url, error, fetch_error))?;
        // libgit2 fetches nothing, without error, for a refspec whose source
        // the remote lacks, and leaves an older tracking ref in place: the
        // refs the remote advertised are the truth.
        let branch_ref = format!("refs/heads/{}", remote.branch);
        let advertised = origin.list().map_err(fetch_error)?;
        let head = advertised
            .iter()
            .find(|head| head.name() == branch_ref)
            .map(git2::RemoteHead::oid)
            .ok_or_else(|| Error::BranchNotFound {
                url: remote.url.clone(),
                branch: remote.branch.clone(),
            })?;
        Ok(CommitId::from_oid(head))
    }

    /// Makes the worktree and the index exactly `commit`'s tree and detaches
    /// `HEAD` at it. Blocking.
    ///
    /// Destructive by design: local changes are overwritten, and untracked
    /// and ignored files are deleted, so that a build context holds what git
    /// holds and nothing else. Use it on voc's own clone, never on a
    /// person's checkout. `HEAD` is detached rather than a branch reset so
    /// that no branch is ever rewritten.
    pub fn checkout(&self, commit: &CommitId) -> Result<()> {
        let found = self.find_commit(commit)?;
        let checkout_error = |source| Error::Checkout {
            commit: commit.clone(),
            source,
        };
        let mut options = CheckoutBuilder::new();
        options.force().remove_untracked(true).remove_ignored(true);
        self.repo
            .checkout_tree(found.as_object(), Some(&mut options))
            .map_err(checkout_error)?;
        self.repo
            .set_head_detached(found.id())
            .map_err(checkout_error)
    }

    /// Resolves a revision to a commit: a full or short sha, a branch
    /// (`main`, `origin/main`), a tag (annotated tags are peeled), `HEAD`, or
    /// any other `git rev-parse` expression (`HEAD~2`). Blocking.
    ///
    /// In voc's clone, local branches are left where the clone put them
    /// ([`GitRepo::checkout`] detaches `HEAD`): resolve `origin/<branch>`, or
    /// use the id [`GitRepo::fetch`] returns.
    pub fn resolve(&self, rev: &str) -> Result<CommitId> {
        let resolve_error = |source| Error::Resolve {
            rev: rev.to_owned(),
            source,
        };
        let object = self.repo.revparse_single(rev).map_err(resolve_error)?;
        let commit = object.peel_to_commit().map_err(resolve_error)?;
        Ok(CommitId::from_oid(commit.id()))
    }

    /// The commit `HEAD` points at. Blocking.
    pub fn head(&self) -> Result<CommitId> {
        let resolve_error = |source| Error::Resolve {
            rev: "HEAD".to_owned(),
            source,
        };
        let head = self.repo.head().map_err(resolve_error)?;
        let commit = head.peel_to_commit().map_err(resolve_error)?;
        Ok(CommitId::from_oid(commit.id()))
    }

    /// Whether the commit is in the object database (it may be missing after
    /// a force-push once git collected it, or if it was never fetched).
    /// Blocking.
    pub fn has_commit(&self, commit: &CommitId) -> Result<bool> {
        match self.repo.find_commit(commit.to_oid()) {
            Ok(_) => Ok(true),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(false),
            Err(source) => Err(Error::CommitNotFound {
                commit: commit.clone(),
                source,
            }),
        }
    }

    /// The content of `path` (repo-relative, `/` separators) as it was at
    /// `commit`, or `None` if no such path existed then. A symbolic link
    /// gives its target path. A folder or submodule is an
    /// [`Error::NotAFile`]. Blocking.
    pub fn read_file(&self, commit: &CommitId, path: &str) -> Result<Option<Vec<u8>>> {
        let read_error = |source| Error::ReadFile {
            commit: commit.clone(),
            path: path.to_owned(),
            source,
        };
        let tree = self.find_commit(commit)?.tree().map_err(read_error)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(error) if error.code() == ErrorCode::NotFound => return Ok(None),
            Err(source) => return Err(read_error(source)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Err(Error::NotAFile {
                commit: commit.clone(),
                path: path.to_owned(),
            });
        }
        let blob = self.repo.find_blob(entry.id()).map_err(read_error)?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The worktree's root folder; `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Looks a commit up, as [`Error::CommitNotFound`] when it is missing.
    pub(crate) fn find_commit(&self, commit: &CommitId) -> Result<git2::Commit<'_>> {
        self.repo
            .find_commit(commit.to_oid())
            .map_err(|source| Error::CommitNotFound {
                commit: commit.clone(),
                source,
            })
    }

    /// An [`Error::Repo`] for this repository.
    pub(crate) fn error(&self, step: &'static str, source: git2::Error) -> Error {
        Error::Repo {
            step,
            path: self.repo.path().to_owned(),
            source,
        }
    }
}

/// Whether `dest` does not exist or is an empty folder (a place to clone
/// into).
fn is_missing_or_empty(dest: &Path) -> Result<bool> {
    let destination_error = |source| Error::Destination {
        path: PathBuf::from(dest),
        source,
    };
    match std::fs::read_dir(dest) {
        Ok(mut entries) => match entries.next() {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(source)) => Err(destination_error(source)),
        },
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(destination_error(source)),
    }
}

/// Removes what a failed clone created: `dest` itself if it did not exist,
/// else its content (it was empty). Best effort: the clone's own error is
/// what the caller needs to see, and a leftover `.git` makes the next call
/// fail clearly in [`GitRepo::clone_or_open`] rather than silently.
fn remove_clone(dest: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dest);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dest) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}
