//! Following the conf repo from `voc serve`: one reconcile loop per target,
//! woken by the poll timer, webhooks, `syncNow` and commits voc pushes
//! itself; commits that arrive during a reconcile are coalesced into the
//! next one.
//!
//! INTERFACE STUB: the signatures below are what the API calls; the loop
//! itself is being written.

use crate::git::CommitId;
use crate::store::{JobId, JobKind};

/// The handle to the follow loops. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Follow {}

/// A job the API asks for, to be run by the next reconcile of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedJob {
    /// Deploy, remove or build.
    pub kind: JobKind,
    /// The stack or image.
    pub subject: String,
    /// The target.
    pub target: String,
}

/// Why the follow loops cannot take a request.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FollowError(pub String);

impl Follow {
    /// Asks every target's loop to fetch and reconcile soon. Returns at once.
    pub fn sync_now(&self) {}

    /// Records queued jobs for `jobs`, to be run by the reconcile that
    /// applies `commit` (a commit voc just pushed), and wakes the loops.
    /// The ids let an API caller follow the deploy its commit causes.
    pub fn expect_jobs(
        &self,
        _commit: &CommitId,
        _jobs: &[ExpectedJob],
    ) -> Result<Vec<JobId>, FollowError> {
        Err(FollowError("the follow loop is not running".into()))
    }

    /// Runs one job outside of the git flow, in its target's loop (after a
    /// reconcile in progress): redeploy a stack as committed (`force`: even
    /// when unchanged) or build an image. Returns the job's id at once.
    pub fn run_job(&self, _job: ExpectedJob, _force: bool) -> Result<JobId, FollowError> {
        Err(FollowError("the follow loop is not running".into()))
    }
}
