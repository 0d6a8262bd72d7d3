//! What happens inside voc, broadcast to whoever listens: the GraphQL
//! subscriptions, and the loops that react to each other (a finished job
//! refreshes the live state).
//!
//! Broadcast channels drop the oldest events for a listener that falls
//! behind; a subscription that lagged says so instead of silently missing
//! events (see `api`).

use tokio::sync::broadcast;

use crate::store::{JobId, JobStatus};

/// How many events a slow listener may fall behind before it lags.
const CAPACITY: usize = 4096;

/// A job changed status or wrote a line to its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// The job's status changed.
    Status {
        /// The job.
        job: JobId,
        /// Its new status.
        status: JobStatus,
        /// What went wrong (a failed job) or why it was skipped.
        error: Option<String>,
    },
    /// The job wrote a line to its log.
    Log {
        /// The job.
        job: JobId,
        /// The line's position in the job's log, from 1 (0 when the store
        /// could not record it).
        seq: i64,
        /// The line.
        line: String,
    },
}

impl JobEvent {
    /// The job the event is about.
    pub fn job(&self) -> JobId {
        match self {
            JobEvent::Status { job, .. } | JobEvent::Log { job, .. } => *job,
        }
    }
}

/// A task of a stack appeared, changed state, or disappeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    /// The target it runs on.
    pub target: String,
    /// Its stack.
    pub stack: String,
    /// Its service (full name, `<stack>_<service>`).
    pub service: String,
    /// The task id.
    pub task: String,
    /// The state before (`None`: the task is new).
    pub previous_state: Option<String>,
    /// The state now (`None`: the task is gone).
    pub state: Option<String>,
    /// The task's error message, if any.
    pub error: Option<String>,
}

/// A stack's sync status or health changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackStatusEvent {
    /// The target.
    pub target: String,
    /// The stack.
    pub stack: String,
}

/// The channels, one per kind of event. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    /// Job status changes and log lines.
    pub jobs: broadcast::Sender<JobEvent>,
    /// Task state changes.
    pub tasks: broadcast::Sender<TaskEvent>,
    /// Stack status changes.
    pub stacks: broadcast::Sender<StackStatusEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            jobs: broadcast::channel(CAPACITY).0,
            tasks: broadcast::channel(CAPACITY).0,
            stacks: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Events {
    /// Sends a job event; nobody listening is fine.
    pub fn job(&self, event: JobEvent) {
        let _ = self.jobs.send(event);
    }
}
