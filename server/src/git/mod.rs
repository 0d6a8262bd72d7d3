//! Everything that talks to git (libgit2 through `git2`): voc's clone of the
//! conf repo, fetching the followed branch (force-pushes included), checking
//! out a commit, reading history, diffs and old files, and writing commits
//! back.
//!
//! - [`GitRepo`] (`repo.rs`): open, clone, fetch, checkout, resolve, read a
//!   file at a commit.
//! - [`GitRepo::diff`] (`change.rs`): the [`FileChange`]s between two
//!   commits, renames included.
//! - [`GitRepo::commits`] and [`GitRepo::is_ancestor`] (`history.rs`): the
//!   [`CommitInfo`]s of a range, and ancestry.
//! - [`Remote`] and [`Credentials`] (`remote.rs`): where the conf repo is and
//!   how to log in. libgit2 asks again after a rejected credential; voc
//!   answers once and reports [`Error::AuthenticationFailed`] instead of
//!   looping.
//! - [`GitRepo::export`] (`export.rs`): a commit's files into a folder of
//!   their own, for reading a commit other than the checked-out one.
//! - [`GitRepo::commit_and_push`] (`push.rs`, `write.rs`): the only way voc
//!   writes: [`FileEdit`]s committed on the remote head (working tree and
//!   index untouched) and pushed with a lease; a push overtaken by someone
//!   else's is rebuilt on the new head and retried ([`RetryPolicy`]), an
//!   edit whose file changed meanwhile is an [`Error::Conflict`].
//!   [`GitRepo::restore_files`] makes a rollback's edits.
//! - [`CommitId`]: a validated full commit id.
//! - [`set_network_timeouts`]: so that a silent remote cannot block a fetch
//!   forever (call it once in `main`).
//!
//! The API is synchronous and blocking (libgit2 is): async callers wrap each
//! call in `tokio::task::spawn_blocking`. What to build or deploy from the
//! changes is the planner's business, not this module's.

mod change;
mod commit_id;
pub mod error;
mod export;
mod history;
mod push;
mod remote;
mod repo;
mod seed;
mod write;

#[cfg(test)]
mod tests;

pub use change::{ChangeStatus, FileChange};
pub use commit_id::CommitId;
pub use error::{Error, Result};
pub use history::CommitInfo;
pub use push::RetryPolicy;
pub use remote::{Credentials, Remote, TOKEN_USERNAME};
pub use repo::GitRepo;
pub use seed::init_bare_with_files;
pub use write::{Author, CommitRequest, Expect, FileEdit, PushedCommit};

/// Sets libgit2's network timeouts, process-wide: `connect` for opening a
/// connection, `io` for each read or write on it. Without them a remote
/// that accepts the connection and then says nothing blocks a fetch (and
/// the blocking thread running it) forever. libgit2 applies them to the
/// sockets it opens (`git://`, tested, and `http(s)://`); whether libssh2
/// honours the I/O timeout over SSH is untested.
///
/// # Safety
///
/// This writes libgit2 globals without synchronisation: call it once, in
/// `main`, before any thread (the tokio runtime included) can use git.
pub unsafe fn set_network_timeouts(
    connect: std::time::Duration,
    io: std::time::Duration,
) -> Result<()> {
    let millis = |duration: std::time::Duration| {
        std::os::raw::c_int::try_from(duration.as_millis()).unwrap_or(std::os::raw::c_int::MAX)
    };
    let setting_error = |source| Error::Settings {
        setting: "network timeouts",
        source,
    };
    // SAFETY: the caller guarantees no other thread uses libgit2 yet.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(millis(connect))
            .map_err(setting_error)?;
        git2::opts::set_server_timeout_in_milliseconds(millis(io)).map_err(setting_error)?;
    }
    Ok(())
}
