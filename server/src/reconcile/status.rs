//! A stack's sync status and health, from what git wants (desired), what
//! voc did (the last deploy job, the last applied commit) and what runs
//! (the live services and tasks). Pure: `serve::live` gathers the inputs.
//!
//! - **Sync status** says whether the stack runs what git has:
//!   [`SyncStatus::Synced`], [`SyncStatus::OutOfSync`] (with the drift that
//!   makes it so), [`SyncStatus::Failed`] (the last deploy failed) or
//!   [`SyncStatus::Unknown`] (the target cannot be read, or git's files for
//!   the stack cannot be loaded). Every status comes with a reason sentence.
//! - **Drift** is found per service by voc's two hashes: the
//!   `io.voc.spec-hash` label says which spec voc deployed, and the live
//!   spec's comparable hash says whether the service still has it. A label
//!   that differs from git's hash means git moved; a live spec that differs
//!   from git's while the label matches means someone changed the service
//!   by hand. Services git has and the swarm lacks are missing; the reverse
//!   are not in git.
//! - **Health** comes from the tasks alone: running against desired
//!   replicas, rolling updates, and tasks that failed recently.

use std::collections::BTreeMap;

use crate::engine::watch::{LiveService, LiveTask};
use crate::store::{JobId, JobStatus};

/// How long a failed task keeps a service degraded.
pub const RECENT_FAILURE_SECS: i64 = 120;

/// Whether a stack runs what git has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    /// It runs what git has.
    Synced,
    /// It differs from git (see the reason).
    OutOfSync,
    /// voc's last deploy of it failed.
    Failed,
    /// voc cannot tell (the target cannot be read, or git's files cannot
    /// be loaded).
    Unknown,
}

/// How a stack's tasks are doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Health {
    /// Every service runs its desired tasks.
    Healthy,
    /// Tasks are starting, or a rolling update is under way.
    Progressing,
    /// Tasks fail, or an update paused or rolled back.
    Degraded,
    /// Nothing of the stack runs.
    Missing,
}

/// One service of the desired stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    /// The swarm name (`shop_web`).
    pub name: String,
    /// The spec hash voc labels it with when it deploys it.
    pub spec_hash: String,
    /// The comparable hash of that spec (`engine::watch::comparable_hash`).
    pub comparable_hash: String,
}

/// What git says about a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    /// The conf repo has not been read yet: nobody knows what git wants.
    NotYetRead,
    /// Git does not have it.
    Absent,
    /// Git has it but its files cannot be loaded (the reason).
    Unloadable(String),
    /// Git has it, disabled.
    Disabled,
    /// Git has it, with these services, at `commit`.
    Services {
        /// The commit git is at.
        commit: String,
        /// Its services.
        services: Vec<DesiredService>,
    },
}

/// voc's last deploy of a stack, from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDeploy {
    /// The job.
    pub id: JobId,
    /// Its status.
    pub status: JobStatus,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// When it finished (Unix seconds), if it did.
    pub finished_at: Option<i64>,
}

/// What the swarm looks like, as far as a status can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability<'a> {
    /// Read at the last interval.
    Read,
    /// Never read yet.
    NotYetRead,
    /// The last read failed (the error); what is known is older.
    Unreachable(&'a str),
}

/// Everything a stack's status depends on.
#[derive(Debug, Clone, Copy)]
pub struct StatusInput<'a> {
    /// The target's name.
    pub target: &'a str,
    /// Whether the target could be read.
    pub reachability: Reachability<'a>,
    /// What git says.
    pub desired: &'a Desired,
    /// The stack's live services.
    pub live: &'a [&'a LiveService],
    /// The last deploy job of the stack on this target.
    pub last_deploy: Option<&'a LastDeploy>,
    /// The target's last applied commit (the store).
    pub applied_commit: Option<&'a str>,
}

/// A way a live service differs from git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Git has it, the swarm does not.
    Missing(String),
    /// The swarm has it, git does not.
    NotInGit(String),
    /// voc did not deploy it (no spec-hash label): the docker CLI or
    /// someone else did.
    NotDeployedByVoc(String),
    /// It carries the label of another spec than git's (git moved since
    /// voc deployed it).
    GitMoved(String),
    /// It carries git's label but its live spec differs.
    ChangedByHand(String),
}

impl Drift {
    /// The sentence that says it.
    pub fn sentence(&self) -> String {
        match self {
            Drift::Missing(service) => format!("service {service} is missing"),
            Drift::NotInGit(service) => format!("service {service} is not in git"),
            Drift::NotDeployedByVoc(service) => {
                format!("service {service} was not deployed by voc")
            }
            Drift::GitMoved(service) => {
                format!("service {service} runs another spec than git has")
            }
            Drift::ChangedByHand(service) => format!(
                "service {service} was changed by hand: its spec differs from what voc deployed"
            ),
        }
    }
}

/// A stack's sync status with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sync {
    /// The status.
    pub status: SyncStatus,
    /// Why, in a sentence.
    pub reason: String,
    /// The drift found (empty unless comparing was possible).
    pub drift: Vec<Drift>,
}

/// The drift of `live` from `desired` services, sorted by service.
pub fn find_drift(desired: &[DesiredService], live: &[&LiveService]) -> Vec<Drift> {
    let live_by_name: BTreeMap<&str, &LiveService> =
        live.iter().map(|s| (s.name.as_str(), *s)).collect();
    let mut drift: Vec<Drift> = Vec::new();
    for want in desired {
        let Some(have) = live_by_name.get(want.name.as_str()) else {
            drift.push(Drift::Missing(want.name.clone()));
            continue;
        };
        match have.spec_hash_label.as_deref() {
            // Deployed by someone else: only the spec itself can say.
            None if have.comparable_hash != want.comparable_hash => {
                drift.push(Drift::NotDeployedByVoc(want.name.clone()));
            }
            None => {}
            Some(label) if label != want.spec_hash => {
                drift.push(Drift::GitMoved(want.name.clone()));
            }
            Some(_) if have.comparable_hash != want.comparable_hash => {
                drift.push(Drift::ChangedByHand(want.name.clone()));
            }
            Some(_) => {}
        }
    }
    for have in live {
        if !desired.iter().any(|want| want.name == have.name) {
            drift.push(Drift::NotInGit(have.name.clone()));
        }
    }
    drift.sort_by(|a, b| drift_service(a).cmp(drift_service(b)));
    drift
}

fn drift_service(drift: &Drift) -> &str {
    match drift {
        Drift::Missing(s)
        | Drift::NotInGit(s)
        | Drift::NotDeployedByVoc(s)
        | Drift::GitMoved(s)
        | Drift::ChangedByHand(s) => s,
    }
}

/// The first 7 characters of a commit id.
fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// The sync status of one stack.
pub fn sync_status(input: &StatusInput<'_>) -> Sync {
    let status = |status, reason: String| Sync {
        status,
        reason,
        drift: Vec::new(),
    };
    match input.reachability {
        Reachability::Unreachable(error) => {
            return status(
                SyncStatus::Unknown,
                format!("target {} cannot be reached: {error}", input.target),
            );
        }
        Reachability::NotYetRead => {
            return status(
                SyncStatus::Unknown,
                format!("target {} has not been read yet", input.target),
            );
        }
        Reachability::Read => {}
    }
    if let Some(job) = input.last_deploy
        && job.status == JobStatus::Failed
        && !matches!(input.desired, Desired::Absent)
    {
        let error = job.error.as_deref().unwrap_or("no error was recorded");
        return status(
            SyncStatus::Failed,
            format!("the last deploy (job {}) failed: {error}", job.id.0),
        );
    }
    let (commit, services) = match input.desired {
        Desired::NotYetRead => {
            return status(
                SyncStatus::Unknown,
                "the conf repo has not been read yet".to_owned(),
            );
        }
        Desired::Unloadable(reason) => {
            return status(
                SyncStatus::Unknown,
                format!("git's files for the stack cannot be loaded: {reason}"),
            );
        }
        Desired::Absent => {
            let drift = find_drift(&[], input.live);
            return Sync {
                status: SyncStatus::OutOfSync,
                reason: "the stack is not in git".to_owned(),
                drift,
            };
        }
        Desired::Disabled if input.live.is_empty() => {
            return status(
                SyncStatus::Synced,
                "the stack is disabled in git and does not run".to_owned(),
            );
        }
        Desired::Disabled => {
            return status(
                SyncStatus::OutOfSync,
                "the stack is disabled in git but still runs".to_owned(),
            );
        }
        Desired::Services { commit, services } => (commit, services),
    };
    let drift = find_drift(services, input.live);
    if drift.is_empty() {
        return status(
            SyncStatus::Synced,
            format!("every service runs what git has at {}", short(commit)),
        );
    }
    let by_hand = drift
        .iter()
        .filter(|d| matches!(d, Drift::ChangedByHand(_)))
        .map(Drift::sentence)
        .collect::<Vec<_>>();
    let applied = input.applied_commit == Some(commit.as_str());
    let reason = if !by_hand.is_empty() {
        // The most specific news first: git moving does not explain it.
        by_hand.join("; ")
    } else if !applied {
        format!("commit {} is not applied yet", short(commit))
    } else {
        drift
            .iter()
            .map(Drift::sentence)
            .collect::<Vec<_>>()
            .join("; ")
    };
    Sync {
        status: SyncStatus::OutOfSync,
        reason,
        drift,
    }
}

/// A service's task counts and health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHealth {
    /// Tasks that run as desired (completed ones, for jobs).
    pub running: u64,
    /// Tasks it should have.
    pub desired: u64,
    /// Its health.
    pub health: Health,
}

/// The health of `service` from its tasks (`tasks` may hold other
/// services' tasks; they are ignored), at `now` (Unix seconds).
pub fn service_health(service: &LiveService, tasks: &[&LiveTask], now: i64) -> ServiceHealth {
    let own: Vec<&LiveTask> = tasks
        .iter()
        .copied()
        .filter(|t| t.service_id == service.id)
        .collect();
    let is_job = service.mode.is_job();
    let running = own
        .iter()
        .filter(|t| {
            if is_job {
                t.state == "complete"
            } else {
                t.is_running() && t.desired_state == "running"
            }
        })
        .count() as u64;
    let desired = service.replicas.unwrap_or_else(|| {
        // Global services want one task per eligible node: the tasks swarm
        // wants running say how many.
        own.iter()
            .filter(|t| t.desired_state == "running" || (is_job && t.desired_state == "complete"))
            .count() as u64
    });
    let failed_recently = own.iter().any(|t| {
        t.is_failure()
            && t.updated_at
                .as_deref()
                .and_then(parse_rfc3339)
                .is_some_and(|at| now - at <= RECENT_FAILURE_SECS)
    });
    let update = service.update_state.as_deref().unwrap_or_default();
    let health = if matches!(update, "paused" | "rollback_paused" | "rollback_completed")
        || (failed_recently && running < desired)
    {
        Health::Degraded
    } else if matches!(update, "updating" | "rollback_started") || running < desired {
        Health::Progressing
    } else {
        Health::Healthy
    };
    ServiceHealth {
        running,
        desired,
        health,
    }
}

/// A stack's health: the worst of its services', or missing when none
/// runs.
pub fn stack_health(services: &[ServiceHealth]) -> Health {
    if services.is_empty() {
        return Health::Missing;
    }
    services
        .iter()
        .map(|s| s.health)
        .max()
        .unwrap_or(Health::Missing)
}

/// A change of one task between two reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange<'a> {
    /// The task as it was (`None`: new).
    pub before: Option<&'a LiveTask>,
    /// The task as it is (`None`: gone).
    pub after: Option<&'a LiveTask>,
}

/// The tasks that appeared, changed state (observed or desired) or error,
/// or disappeared between `before` and `after`, in `after`'s order, then
/// the gone ones in `before`'s order.
pub fn diff_tasks<'a>(before: &'a [LiveTask], after: &'a [LiveTask]) -> Vec<TaskChange<'a>> {
    let old: BTreeMap<&str, &LiveTask> = before.iter().map(|t| (t.id.as_str(), t)).collect();
    let new: BTreeMap<&str, &LiveTask> = after.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut changes: Vec<TaskChange<'a>> = Vec::new();
    for task in after {
        match old.get(task.id.as_str()) {
            None => changes.push(TaskChange {
                before: None,
                after: Some(task),
            }),
            Some(previous)
                if previous.state != task.state
                    || previous.desired_state != task.desired_state
                    || previous.error != task.error =>
            {
                changes.push(TaskChange {
                    before: Some(previous),
                    after: Some(task),
                });
            }
            Some(_) => {}
        }
    }
    for task in before {
        if !new.contains_key(task.id.as_str()) {
            changes.push(TaskChange {
                before: Some(task),
                after: None,
            });
        }
    }
    changes
}

pub use crate::timestamp::{format_rfc3339, parse_rfc3339};

#[cfg(test)]
mod tests;
