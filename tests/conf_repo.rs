//! Conf repos with scripted histories, made with the git command line as
//! their users make them: [`ConfRepo`] is an author's work tree (write,
//! rename, delete, commit, push, rewrite history), [`CiCheckout`] a CI
//! runner's clone that fetches and checks out each new head.
//!
//! git runs with separate arguments (never through a shell), without the
//! machine's or the user's git configuration, and with a fixed author, so
//! a test behaves the same on every machine.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `git ARGS...` in `dir` and returns its standard output, trimmed;
/// fails with the command line, exit status and standard error.
pub fn git<I, S>(dir: &Path, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("git")
        .args(&args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Conf Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Conf Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .with_context(|| format!("cannot run git {shown} in {}", dir.display()))?;
    if !out.status.success() {
        bail!(
            "git {shown} in {} failed ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// An author's work tree of a conf repo, on branch `main`.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let repo = voc_tests::ConfRepo::init(dir.path().join("conf"))?;
/// repo.write("docker-compose-web.yml", "services:\n  web:\n    image: busybox\n")?;
/// let first = repo.commit("add web")?;
/// repo.rename("docker-compose-web.yml", "docker-compose-site.yml")?;
/// repo.commit("rename web to site")?;
/// repo.reset_hard(&first)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ConfRepo {
    dir: PathBuf,
}

impl ConfRepo {
    /// Creates an empty repository in `dir` (made if missing), on `main`.
    pub fn init(dir: impl Into<PathBuf>) -> Result<ConfRepo> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        git(&dir, ["init", "--quiet", "--initial-branch=main"])?;
        Ok(ConfRepo { dir })
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `text` to `path` (relative to the work tree), making its
    /// folders; the change is committed by the next [`ConfRepo::commit`].
    pub fn write(&self, path: &str, text: &str) -> Result<()> {
        let full = self.dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))
    }

    /// `git rm` of `path`.
    pub fn remove(&self, path: &str) -> Result<()> {
        git(&self.dir, ["rm", "--quiet", path]).map(drop)
    }

    /// `git mv` of `from` to `to`.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        git(&self.dir, ["mv", from, to]).map(drop)
    }

    /// Commits everything in the work tree (also when nothing changed, so a
    /// commit can carry only a directive) and returns the new commit's id.
    pub fn commit(&self, message: &str) -> Result<String> {
        git(&self.dir, ["add", "--all"])?;
        git(
            &self.dir,
            ["commit", "--quiet", "--allow-empty", "--message", message],
        )?;
        self.head()
    }

    /// The full id of `HEAD`.
    pub fn head(&self) -> Result<String> {
        git(&self.dir, ["rev-parse", "HEAD"])
    }

    /// `git reset --hard REV`: the branch forgets the commits after `rev`.
    pub fn reset_hard(&self, rev: &str) -> Result<()> {
        git(&self.dir, ["reset", "--quiet", "--hard", rev]).map(drop)
    }

    /// Makes `url` the remote `origin` and pushes `main` to it.
    pub fn publish(&self, url: &str) -> Result<()> {
        git(&self.dir, ["remote", "add", "origin", url])?;
        self.push()
    }

    /// Pushes `main` to `origin`.
    pub fn push(&self) -> Result<()> {
        git(&self.dir, ["push", "--quiet", "origin", "main"]).map(drop)
    }

    /// Pushes `main` to `origin`, replacing its history.
    pub fn force_push(&self) -> Result<()> {
        git(&self.dir, ["push", "--quiet", "--force", "origin", "main"]).map(drop)
    }
}

/// Creates an empty bare repository `<base>/<name>` for a [`crate::GitDaemon`]
/// serving `base` to push to.
pub fn init_bare(base: &Path, name: &str) -> Result<PathBuf> {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    git(&dir, ["init", "--quiet", "--bare", "--initial-branch=main"])?;
    Ok(dir)
}

/// A CI runner's clone of a conf repo: cloned once, then brought to the
/// remote's newest `main` before each job, as a CI runner does.
#[derive(Debug)]
pub struct CiCheckout {
    dir: PathBuf,
}

impl CiCheckout {
    /// `git clone URL DIR`.
    pub fn clone(url: &str, dir: impl Into<PathBuf>) -> Result<CiCheckout> {
        let dir = dir.into();
        let parent = dir
            .parent()
            .context("the checkout's folder has no parent")?
            .to_path_buf();
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        git(
            &parent,
            [
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                OsStr::new(url),
                dir.as_os_str(),
            ],
        )?;
        Ok(CiCheckout { dir })
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `git fetch` (also taking a force-pushed `main`) then checks out
    /// `origin/main` detached, as CI runners do; returns its id.
    pub fn checkout_latest(&self) -> Result<String> {
        git(&self.dir, ["fetch", "--quiet", "--force", "origin"])?;
        git(
            &self.dir,
            ["checkout", "--quiet", "--detach", "origin/main"],
        )?;
        git(&self.dir, ["rev-parse", "HEAD"])
    }
}
