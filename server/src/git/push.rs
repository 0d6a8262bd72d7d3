//! [`GitRepo::commit_and_push`]: the one way voc writes to the conf repo.
//! Fetch the branch, build the commit on its head (`write.rs`), push it with
//! a lease on that head; when someone else pushed first, fetch again,
//! re-apply the same edits on the new head and retry, a bounded number of
//! times with jittered backoff ([`RetryPolicy`]).
//!
//! Three rules keep concurrent writers from losing each other's commits:
//!
//! - **A lease.** The push goes through only if the remote branch is still
//!   the head the commit was built on (checked in libgit2's
//!   `push_negotiation` callback, before anything is sent), and a server
//!   that lost the race anyway (`git receive-pack` compares the old value
//!   under its ref lock) reports it in `push_update_reference`: libgit2
//!   returns Ok even then, so that callback's status is the truth. Both are
//!   "overtaken": retry. Any other refusal (a hook, branch protection) is an
//!   [`Error::PushRejected`] and is not retried.
//! - **Nothing shared is written before the push is accepted.** The fetch
//!   updates no ref and no `FETCH_HEAD` (objects only); the push goes
//!   through an anonymous remote so libgit2 does not move
//!   `refs/remotes/origin/<branch>` itself. After an accepted push that ref
//!   is advanced with a compare-and-swap, and only forward. The working
//!   tree, index and `HEAD` are never touched. Many writers can therefore
//!   share one clone.
//! - **One writer at a time per remote branch in this process.** Writers in
//!   one voc process would only overtake each other, wasting pushes; and
//!   libgit2's local-path transport sets the remote ref without comparing
//!   its old value, so two in-process pushes to a local bare repo could lose
//!   one. A process-wide lock per (URL, branch) queues them; the lease and
//!   the retries handle everyone else (other voc processes, people).
//!   One gap remains: over a local path, a push by another process landing
//!   between this push's lease check and its ref write (a few milliseconds)
//!   is overwritten, because libgit2 writes the ref there itself. Remotes
//!   served by `git receive-pack` (`git://`, SSH, HTTPS, forges) compare
//!   under the ref lock and have no such gap.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use git2::{AutotagOption, ErrorCode, FetchOptions, PushOptions};

use super::error::{Error, Result};
use super::remote::{Authenticator, Remote};
use super::write::{CommitRequest, PushedCommit};
use super::{CommitId, GitRepo};
use crate::metrics::PushResult;

/// How often and how patiently [`GitRepo::commit_and_push_with`] retries a
/// push that someone else overtook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Builds and pushes at most this many times (at least 1).
    pub max_attempts: u32,
    /// The backoff before the second attempt; it doubles at each attempt
    /// after that, up to `max_delay`. Each wait is drawn uniformly between
    /// zero and that bound ("full jitter"), so writers that collided do not
    /// collide again in lockstep.
    pub first_delay: Duration,
    /// The largest backoff bound.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 20 attempts, backoff bound from 10 ms doubling to 1 s: with twenty
    /// writers racing on one branch from separate processes every one lands
    /// (measured in `tests/write.rs`), and a writer gives up after about
    /// ten seconds of being overtaken.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 20,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The (jittered) wait after failed attempt number `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(16);
        let bound = self
            .first_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        bound.mul_f64(random_fraction())
    }
}

/// A number in `[0, 1)`, different on every call and in every thread: enough
/// for jitter, without a dependency on a random number crate. `RandomState`
/// is seeded from the OS once per thread and its keys change with each
/// `new()`.
fn random_fraction() -> f64 {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    // 53 random bits: exactly what an f64 mantissa holds.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The outcome of one push attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PushOutcome {
    /// The remote branch now points at the commit.
    Accepted,
    /// Someone pushed first (the lease failed, or the server lost the race):
    /// fetch and build again.
    Overtaken,
}

/// The process-wide lock of one remote branch (see the module doc).
fn writer_lock(remote: &Remote) -> Arc<Mutex<()>> {
    type Locks = Mutex<HashMap<(String, String), Arc<Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Locks::default)
        .lock()
        // The map is only ever inserted into: a panic elsewhere cannot leave
        // it half-updated.
        .unwrap_or_else(PoisonError::into_inner);
    Arc::clone(
        locks
            .entry((remote.url.clone(), remote.branch.clone()))
            .or_default(),
    )
}

/// Whether a ref status from the server means "someone updated the ref
/// first" (retry) rather than a refusal (do not). The wording is git's
/// `receive-pack` (and forges built on it): `non-fast-forward`, `fetch
/// first`, `failed to update ref`, `cannot lock ref 'refs/heads/main': is
/// at ... but expected ...`, `failed to lock`, `stale info`.
fn is_overtaken(status: &str) -> bool {
    let status = status.to_ascii_lowercase();
    [
        "non-fast-forward",
        "fetch first",
        "failed to update ref",
        "cannot lock ref",
        "failed to lock",
        "stale info",
        "incorrect old value",
    ]
    .iter()
    .any(|phrase| status.contains(phrase))
}

impl GitRepo {
    /// Commits `request`'s edits on top of `remote`'s branch head and pushes
    /// the commit, retrying with [`RetryPolicy::default`] when someone else
    /// pushed first. Blocking; network I/O. See
    /// [`GitRepo::commit_and_push_with`].
    pub fn commit_and_push(
        &self,
        remote: &Remote,
        request: &CommitRequest,
    ) -> Result<PushedCommit> {
        self.commit_and_push_with(remote, request, &RetryPolicy::default())
    }

    /// Commits `request`'s edits on top of `remote`'s branch head and pushes
    /// the commit. Blocking; network I/O (and sleeps between attempts).
    ///
    /// Each attempt fetches the branch, checks each edit's
    /// [`Expect`](super::Expect) against the head, builds the commit (parent:
    /// that head; working tree, index and `HEAD` untouched) and pushes it
    /// with a lease on the head. When someone pushed first, the same edits
    /// are re-applied on the new head, after a jittered backoff, up to
    /// `policy.max_attempts` times ([`Error::RetriesExhausted`]). On success
    /// `refs/remotes/origin/<branch>` moves to the pushed commit.
    ///
    /// When the edits change nothing on the head, no commit is made and the
    /// result has `created: false` and the head's id: an update to the same
    /// content is a success, not an error, so a retried API call is
    /// idempotent.
    ///
    /// Not retried: invalid edits or identities ([`Error::InvalidEdit`],
    /// [`Error::InvalidIdentity`], checked before any network I/O), an
    /// unmet expectation ([`Error::Conflict`]), authentication
    /// ([`Error::AuthenticationFailed`], [`Error::AuthenticationRequired`]),
    /// a missing branch ([`Error::BranchNotFound`]), a refusal by the server
    /// ([`Error::PushRejected`]), network errors ([`Error::Fetch`],
    /// [`Error::Push`]). In every error case nothing was pushed.
    ///
    /// Calls for the same remote branch from one process run one at a time
    /// (module doc of `push.rs`); `GitRepo` is not `Sync`, so concurrent
    /// callers each open their own (`GitRepo::open` on the same clone is
    /// fine: nothing here writes a shared ref before the push is accepted).
    pub fn commit_and_push_with(
        &self,
        remote: &Remote,
        request: &CommitRequest,
        policy: &RetryPolicy,
    ) -> Result<PushedCommit> {
        let lock = writer_lock(remote);
        // The guarded value is `()`: a panicking writer leaves nothing
        // inconsistent behind.
        let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.commit_and_push_unlocked(remote, request, policy, &mut |_| {})
    }

    /// [`GitRepo::commit_and_push_with`] without the process-wide lock, with
    /// `before_push(attempt)` called between building a commit and pushing
    /// it: tests use both to play other writers.
    pub(crate) fn commit_and_push_unlocked(
        &self,
        remote: &Remote,
        request: &CommitRequest,
        policy: &RetryPolicy,
        before_push: &mut dyn FnMut(u32),
    ) -> Result<PushedCommit> {
        remote.check_branch()?;
        request.validate()?;
        self.check_origin(remote)?;
        let max_attempts = policy.max_attempts.max(1);
        for attempt in 1..=max_attempts {
            let head = self.fetch_head_for_write(remote)?;
            let Some(commit) = self.build_commit(request, &head, &remote.branch)? else {
                return Ok(PushedCommit {
                    commit: head,
                    attempts: attempt,
                    created: false,
                });
            };
            before_push(attempt);
            match self.push_with_lease(remote, &head, &commit)? {
                PushOutcome::Accepted => {
                    self.advance_tracking_ref(remote, &commit);
                    return Ok(PushedCommit {
                        commit,
                        attempts: attempt,
                        created: true,
                    });
                }
                PushOutcome::Overtaken if attempt < max_attempts => {
                    std::thread::sleep(policy.backoff(attempt));
                }
                PushOutcome::Overtaken => {}
            }
        }
        Err(Error::RetriesExhausted {
            url: remote.url.clone(),
            branch: remote.branch.clone(),
            attempts: max_attempts,
        })
    }

    /// Fetches the branch's objects, updating no ref (not even
    /// `FETCH_HEAD`: concurrent writers would fight over its lock), and
    /// returns the head the remote advertised.
    fn fetch_head_for_write(&self, remote: &Remote) -> Result<CommitId> {
        let started = std::time::Instant::now();
        let fetched = self.fetch_head_for_write_untimed(remote);
        crate::metrics::git_fetch(fetched.is_ok(), started.elapsed());
        fetched
    }

    /// [`GitRepo::fetch_head_for_write`], without its metrics.
    fn fetch_head_for_write_untimed(&self, remote: &Remote) -> Result<CommitId> {
        let fetch_error = |source| Error::Fetch {
            url: remote.url.clone(),
            branch: remote.branch.clone(),
            source,
        };
        let mut anonymous = self
            .repo
            .remote_anonymous(&remote.url)
            .map_err(fetch_error)?;
        let auth = Authenticator::new(&remote.credentials);
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(auth.callbacks())
            .update_fetchhead(false)
            .download_tags(AutotagOption::None);
        // No destination: objects only.
        let refspec = format!("refs/heads/{}", remote.branch);
        anonymous
            .fetch(&[refspec.as_str()], Some(&mut options), None)
            .map_err(|error| auth.classify(&remote.url, error, fetch_error))?;
        // As in `GitRepo::fetch`: what the remote advertised is the truth
        // (libgit2 fetches nothing, without error, for a missing branch).
        let head = anonymous
            .list()
            .map_err(fetch_error)?
            .iter()
            .find(|head| head.name() == refspec)
            .map(git2::RemoteHead::oid)
            .ok_or_else(|| Error::BranchNotFound {
                url: remote.url.clone(),
                branch: remote.branch.clone(),
            })?;
        Ok(CommitId::from_oid(head))
    }

    /// Pushes `commit` to the branch if the branch is still at `lease`.
    fn push_with_lease(
        &self,
        remote: &Remote,
        lease: &CommitId,
        commit: &CommitId,
    ) -> Result<PushOutcome> {
        let started = std::time::Instant::now();
        let pushed = self.push_with_lease_untimed(remote, lease, commit);
        let result = match pushed {
            Ok(PushOutcome::Accepted) => PushResult::Accepted,
            Ok(PushOutcome::Overtaken) => PushResult::Overtaken,
            Err(_) => PushResult::Error,
        };
        crate::metrics::git_push(result, started.elapsed());
        pushed
    }

    /// [`GitRepo::push_with_lease`], without its metrics.
    fn push_with_lease_untimed(
        &self,
        remote: &Remote,
        lease: &CommitId,
        commit: &CommitId,
    ) -> Result<PushOutcome> {
        let push_error = |source| Error::Push {
            url: remote.url.clone(),
            branch: remote.branch.clone(),
            source,
        };
        let branch_ref = format!("refs/heads/{}", remote.branch);
        let lease_oid = lease.to_oid();
        // Declared before the callbacks, which borrow them.
        let moved = Cell::new(false);
        let status: RefCell<Option<Option<String>>> = RefCell::new(None);
        let auth = Authenticator::new(&remote.credentials);

        let mut callbacks = auth.callbacks();
        callbacks.push_negotiation(|updates| {
            let branch_moved = updates.iter().any(|update| {
                update.dst_refname_bytes() == branch_ref.as_bytes() && update.src() != lease_oid
            });
            if branch_moved {
                moved.set(true);
                return Err(git2::Error::from_str(
                    "the branch moved since it was fetched",
                ));
            }
            Ok(())
        });
        callbacks.push_update_reference(|refname, message| {
            if refname == branch_ref {
                *status.borrow_mut() = Some(message.map(str::to_owned));
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);

        // Anonymous: with no fetch refspec, libgit2 does not move
        // `refs/remotes/origin/<branch>` itself (see the module doc).
        let mut anonymous = self
            .repo
            .remote_anonymous(&remote.url)
            .map_err(push_error)?;
        let refspec = format!("{commit}:{branch_ref}");
        let pushed = anonymous.push(&[refspec.as_str()], Some(&mut options));
        drop(options);
        match pushed {
            Err(_) if moved.get() => return Ok(PushOutcome::Overtaken),
            // libgit2's own check: the remote head is not an ancestor.
            Err(error) if error.code() == ErrorCode::NotFastForward => {
                return Ok(PushOutcome::Overtaken);
            }
            Err(error) => return Err(auth.classify(&remote.url, error, push_error)),
            Ok(()) => {}
        }
        match status.into_inner() {
            Some(None) => Ok(PushOutcome::Accepted),
            Some(Some(reason)) if is_overtaken(&reason) => Ok(PushOutcome::Overtaken),
            Some(Some(reason)) => Err(Error::PushRejected {
                url: remote.url.clone(),
                branch: remote.branch.clone(),
                reason,
            }),
            None => Err(Error::PushRejected {
                url: remote.url.clone(),
                branch: remote.branch.clone(),
                reason: "the remote did not report on the branch".to_owned(),
            }),
        }
    }

    /// Moves `refs/remotes/origin/<branch>` to the pushed commit if it is
    /// missing or behind it, with a compare-and-swap so that a concurrent
    /// fetch or writer is never moved backwards. Best effort: the push
    /// already succeeded, reporting a failure here would make the caller
    /// retry a change that landed, and the next fetch sets the ref anyway.
    fn advance_tracking_ref(&self, remote: &Remote, commit: &CommitId) {
        let name = format!("refs/remotes/origin/{}", remote.branch);
        let new = commit.to_oid();
        let message = "voc: push";
        let _ = match self.repo.refname_to_id(&name) {
            Ok(current) if current == new => return,
            Ok(current) => match self.repo.graph_descendant_of(new, current) {
                Ok(true) => self
                    .repo
                    .reference_matching(&name, new, true, current, message)
                    .map(|_| ()),
                _ => return,
            },
            Err(error) if error.code() == ErrorCode::NotFound => {
                self.repo.reference(&name, new, false, message).map(|_| ())
            }
            Err(_) => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn race_statuses_are_retried_and_refusals_are_not() {
        for overtaken in [
            "non-fast-forward",
            "fetch first",
            "failed to update ref",
            "cannot lock ref 'refs/heads/main': is at 1234 but expected 5678",
            "stale info",
        ] {
            assert!(is_overtaken(overtaken), "{overtaken}");
        }
        for refused in [
            "pre-receive hook declined",
            "protected branch hook declined",
            "deny updating a hidden ref",
            "funny refname",
        ] {
            assert!(!is_overtaken(refused), "{refused}");
        }
    }

    #[test]
    fn backoff_stays_under_its_doubling_bound() {
        let policy = RetryPolicy {
            max_attempts: 10,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        };
        for attempt in 1..=40 {
            let bound =
                Duration::from_millis(10 * (1 << (attempt - 1).min(4))).min(policy.max_delay);
            assert!(policy.backoff(attempt) <= bound, "attempt {attempt}");
        }
        let draws: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(5)).collect();
        assert!(draws.len() > 1, "the jitter varies");
    }
}
