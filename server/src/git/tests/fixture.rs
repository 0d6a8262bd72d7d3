//! [`Workspace`]: real repositories for the tests, made and changed with the
//! `git` CLI (separate arguments, no shell) so that voc's libgit2 code reads
//! what a person's git wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::git::CommitId;

/// A temporary folder holding the tests' repositories; removed on drop.
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("creating a temporary folder"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new non-bare repository `name` on branch `main`.
    pub fn author_repo(&self, name: &str) -> AuthorRepo {
        let path = self.path(name);
        git(
            self.dir.path(),
            ["init", "--quiet", "--initial-branch=main", name],
        );
        AuthorRepo { path }
    }

    /// A new bare repository `name` (a "server" to push to).
    pub fn bare_repo(&self, name: &str) -> PathBuf {
        git(
            self.dir.path(),
            ["init", "--quiet", "--bare", "--initial-branch=main", name],
        );
        self.path(name)
    }
}

/// A repository a "person" commits to with the git CLI.
pub struct AuthorRepo {
    pub path: PathBuf,
}

impl AuthorRepo {
    /// Writes a file (creating folders), without staging it.
    pub fn write(&self, path: &str, content: &str) -> &Self {
        let full = self.path.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("creating folders");
        }
        std::fs::write(full, content).expect("writing a file");
        self
    }

    /// Runs `git ARGS` here and returns its trimmed standard output.
    pub fn git<const N: usize>(&self, args: [&str; N]) -> String {
        git(&self.path, args)
    }

    /// Stages everything and commits with `message`; returns the new commit.
    pub fn commit(&self, message: &str) -> CommitId {
        self.git(["add", "--all"]);
        self.git(["commit", "--quiet", "--allow-empty", "--message", message]);
        self.head()
    }

    pub fn head(&self) -> CommitId {
        CommitId::parse(&self.git(["rev-parse", "HEAD"])).expect("git prints a full id")
    }
}

/// Runs `git ARGS` in `dir` with a fixed identity and no user or system
/// configuration; panics with its standard error when it fails.
pub fn git<const N: usize>(dir: &Path, args: [&str; N]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Carl Committer")
        .env("GIT_COMMITTER_EMAIL", "carl@example.org")
        .output()
        .expect("running git");
    assert!(
        output.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
