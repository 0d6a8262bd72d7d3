//! Waiting until a deploy's services converge, and telling a failed deploy
//! from a slow one.
//!
//! There are no task events, so this polls: each round inspects every
//! service that has not converged yet and lists its tasks that run the
//! current spec (`_up-to-date`). A service has converged when
//! - replicated: every replica runs;
//! - global: every node that got a task runs it;
//! - jobs: the current iteration completed;
//!
//! and, except for jobs, it stayed so for the stability window (the
//! service's `UpdateConfig.Monitor`, 5 s by default, as the docker CLI
//! does). A service has failed when its tasks failed `max_task_failures`
//! times, when tasks failed and none is left trying, or when swarm paused or
//! rolled back its update; the error quotes the last task error.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::request::DockerApi;
use bollard::models::{
    NodeState, Service, ServiceUpdateStatusStateEnum as UpdateState, Task, TaskState,
};
use bollard::query_parameters::{ListNodesOptions, ListTasksOptions};

use super::deploy::DeployEvent;
use super::error::{ApiContext, Error, ObjectKind, Result};
use super::stack::ServiceMode;
use super::task::{self, is_failure, is_terminal, observed_state, state_rank, task_error};

/// The stability window when the service does not set `UpdateConfig.Monitor`.
const DEFAULT_MONITOR: Duration = Duration::from_secs(5);
/// Rounds in a row with failed tasks and none left trying before a service
/// counts as failed (swarm creates the replacement a moment after the
/// failure).
const IDLE_ROUNDS_BEFORE_FAILURE: u32 = 4;

/// How to wait.
#[derive(Debug, Clone)]
pub struct WaitSettings {
    /// Give up after this long.
    pub timeout: Duration,
    /// How long a converged service must stay so; `None` = its
    /// `UpdateConfig.Monitor` (5 s by default).
    pub stability: Option<Duration>,
    /// A service whose tasks failed this many times has failed.
    pub max_task_failures: u32,
    /// Time between polls.
    pub poll: Duration,
}

/// A service to watch.
#[derive(Debug, Clone)]
pub(crate) struct Watched {
    pub id: String,
    pub name: String,
    /// True if this deploy created or updated it; false if it was left
    /// unchanged (then its past failures, and a past rollback, are not this
    /// deploy's).
    pub changed: bool,
    /// `UpdateStatus.StartedAt` before this deploy updated it: a status with
    /// the same start belongs to an earlier update.
    pub update_started_before: Option<String>,
}

/// Running (or completed, for jobs) tasks against desired ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    pub running: u64,
    pub desired: u64,
    pub converged: bool,
}

/// Counts the up-to-date `tasks` of `service`, the docker CLI's way: one task
/// per slot (replicated) or node (global), preferring the one with the lowest
/// desired state, then the lowest observed state; tasks on nodes that are
/// down do not count.
pub(crate) fn count(service: &Service, tasks: &[Task], active_nodes: &HashSet<String>) -> Count {
    let spec = service.spec.clone().unwrap_or_default();
    let mode = ServiceMode::of(spec.mode.as_ref());
    let iteration = service
        .job_status
        .as_ref()
        .and_then(|j| j.job_iteration.as_ref())
        .and_then(|v| v.index);
    let on_active_node = |t: &Task| {
        t.node_id
            .as_deref()
            .is_none_or(|node| node.is_empty() || active_nodes.contains(node))
    };
    let current: Vec<&Task> = tasks
        .iter()
        .filter(|t| on_active_node(t))
        .filter(|t| !mode.is_job() || t.job_iteration.as_ref().and_then(|v| v.index) == iteration)
        .collect();
    let by_key = |key: &dyn Fn(&Task) -> String| {
        let mut chosen: HashMap<String, &Task> = HashMap::new();
        for task in &current {
            let rank = (
                state_rank(task::desired_state(task)),
                state_rank(observed_state(task)),
            );
            let entry = chosen.entry(key(task)).or_insert(task);
            let existing = (
                state_rank(task::desired_state(entry)),
                state_rank(observed_state(entry)),
            );
            if rank < existing {
                *entry = task;
            }
        }
        chosen
    };
    let is_running = |t: &&&Task| {
        !is_terminal(task::desired_state(t)) && observed_state(t) == TaskState::RUNNING
    };
    let is_complete = |t: &&&Task| observed_state(t) == TaskState::COMPLETE;
    match mode {
        ServiceMode::Replicated => {
            let replicas = spec
                .mode
                .as_ref()
                .and_then(|m| m.replicated.as_ref())
                .and_then(|r| r.replicas)
                .map_or(1, |r| r.max(0) as u64);
            let slots = by_key(&|t| t.slot.unwrap_or_default().to_string());
            let running = slots.values().filter(is_running).count() as u64;
            Count {
                running,
                desired: replicas,
                converged: running == replicas,
            }
        }
        ServiceMode::Global => {
            let nodes = by_key(&|t| t.node_id.clone().unwrap_or_default());
            let running = nodes.values().filter(is_running).count() as u64;
            let desired = nodes.len() as u64;
            Count {
                running,
                desired,
                converged: desired > 0 && running == desired,
            }
        }
        ServiceMode::ReplicatedJob => {
            let job = spec
                .mode
                .as_ref()
                .and_then(|m| m.replicated_job.clone())
                .unwrap_or_default();
            let desired = job
                .total_completions
                .or(job.max_concurrent)
                .map_or(1, |n| n.max(0) as u64);
            let done = current.iter().filter(|t| is_complete(t)).count() as u64;
            Count {
                running: done,
                desired,
                converged: done >= desired,
            }
        }
        ServiceMode::GlobalJob => {
            let nodes = by_key(&|t| t.node_id.clone().unwrap_or_default());
            let done = nodes.values().filter(is_complete).count() as u64;
            let desired = nodes.len() as u64;
            Count {
                running: done,
                desired,
                converged: desired > 0 && done == desired,
            }
        }
    }
}

/// Why swarm's update status, if it says so, makes the deploy fail.
pub(crate) fn update_failure(service: &Service, watched: &Watched) -> Option<String> {
    let status = service.update_status.as_ref()?;
    let state = status.state?;
    if watched.changed
        && status.started_at.is_some()
        && status.started_at == watched.update_started_before
    {
        return None;
    }
    let message = status.message.clone().unwrap_or_default();
    let stuck = match state {
        UpdateState::PAUSED => Some(format!("swarm paused the update: {message}")),
        UpdateState::ROLLBACK_PAUSED => Some(format!("swarm paused the rollback: {message}")),
        _ => None,
    };
    if stuck.is_some() || !watched.changed {
        return stuck;
    }
    match state {
        UpdateState::ROLLBACK_STARTED | UpdateState::ROLLBACK_COMPLETED => {
            Some(format!("swarm rolled the update back: {message}"))
        }
        _ => None,
    }
}

/// What is known about one watched service between polls.
struct Progress {
    watched: Watched,
    /// Failed tasks that predate this deploy (unchanged services only).
    old_failures: Option<HashSet<String>>,
    seen_failures: HashSet<String>,
    last_error: Option<String>,
    idle_rounds: u32,
    converged_at: Option<Instant>,
    count: Option<Count>,
    done: bool,
}

impl Progress {
    fn failure(&self, reason: impl Into<String>) -> Error {
        let mut reason = reason.into();
        if let Some(error) = &self.last_error {
            if reason.is_empty() {
                reason = format!("task error: \"{error}\"");
            } else {
                reason = format!("{reason}; last task error: \"{error}\"");
            }
        }
        Error::ServiceFailed {
            service: self.watched.name.clone(),
            reason,
        }
    }

    fn pending_description(&self) -> String {
        match self.count {
            Some(c) if c.converged => {
                format!("{} (converged, checking stability)", self.watched.name)
            }
            Some(c) => format!(
                "{} ({}/{} running)",
                self.watched.name, c.running, c.desired
            ),
            None => self.watched.name.clone(),
        }
    }
}

async fn active_nodes(docker: &DockerApi) -> Result<HashSet<String>> {
    let nodes = docker
        .call("list_nodes", |docker| {
            docker.list_nodes(None::<ListNodesOptions>)
        })
        .await
        .during("listing", ObjectKind::Engine, "nodes")?;
    Ok(nodes
        .into_iter()
        .filter(|n| n.status.as_ref().and_then(|s| s.state) != Some(NodeState::DOWN))
        .filter_map(|n| n.id)
        .collect())
}

/// The newest task error of service `id`, among all its tasks (after a
/// rollback, the failed tasks no longer run the current spec).
async fn newest_task_error(docker: &DockerApi, id: &str, name: &str) -> Result<Option<String>> {
    let filters = HashMap::from([("service".to_owned(), vec![id.to_owned()])]);
    let tasks = docker
        .call("list_tasks", |docker| {
            docker.list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
        })
        .await
        .during("listing tasks of service", ObjectKind::Task, name)?;
    Ok(tasks
        .iter()
        .filter(|t| is_failure(observed_state(t)))
        .max_by_key(|t| {
            t.status
                .as_ref()
                .and_then(|s| s.timestamp.clone())
                .unwrap_or_default()
        })
        .and_then(|t| task_error(t).map(str::to_owned)))
}

/// Polls until every service of `watched` has converged and stayed so,
/// reporting progress through `event`. Fails on the first service that
/// failed, or when `settings.timeout` passes.
pub(crate) async fn wait(
    docker: &DockerApi,
    watched: Vec<Watched>,
    settings: &WaitSettings,
    event: &mut (dyn FnMut(DeployEvent) + Send),
) -> Result<()> {
    let start = Instant::now();
    let mut services: Vec<Progress> = watched
        .into_iter()
        .map(|watched| Progress {
            old_failures: None,
            seen_failures: HashSet::new(),
            last_error: None,
            idle_rounds: 0,
            converged_at: None,
            count: None,
            done: false,
            watched,
        })
        .collect();
    loop {
        let nodes = active_nodes(docker).await?;
        for progress in services.iter_mut().filter(|p| !p.done) {
            poll_one(docker, progress, &nodes, settings, event).await?;
        }
        if services.iter().all(|p| p.done) {
            return Ok(());
        }
        if start.elapsed() >= settings.timeout {
            return Err(Error::ConvergeTimeout {
                waited: settings.timeout,
                pending: services
                    .iter()
                    .filter(|p| !p.done)
                    .map(Progress::pending_description)
                    .collect(),
            });
        }
        tokio::time::sleep(settings.poll).await;
    }
}

async fn poll_one(
    docker: &DockerApi,
    progress: &mut Progress,
    nodes: &HashSet<String>,
    settings: &WaitSettings,
    event: &mut (dyn FnMut(DeployEvent) + Send),
) -> Result<()> {
    let name = progress.watched.name.clone();
    let service = docker
        .call("inspect_service", |docker| {
            docker.inspect_service(&progress.watched.id, None)
        })
        .await
        .during("inspecting", ObjectKind::Service, &name)?;
    let tasks = task::list_up_to_date_tasks(docker, &progress.watched.id, &name).await?;

    let failed: Vec<&Task> = tasks
        .iter()
        .filter(|t| is_failure(observed_state(t)))
        .collect();
    let old = progress.old_failures.get_or_insert_with(|| {
        if progress.watched.changed {
            HashSet::new()
        } else {
            failed.iter().filter_map(|t| t.id.clone()).collect()
        }
    });
    let mut fresh: Vec<&Task> = failed
        .into_iter()
        .filter(|t| {
            t.id.as_ref()
                .is_some_and(|id| !old.contains(id) && !progress.seen_failures.contains(id))
        })
        .collect();
    fresh.sort_by_key(|t| {
        t.status
            .as_ref()
            .and_then(|s| s.timestamp.clone())
            .unwrap_or_default()
    });
    for task in fresh {
        progress
            .seen_failures
            .insert(task.id.clone().unwrap_or_default());
        let error = task_error(task)
            .map(str::to_owned)
            .or_else(|| task.status.as_ref().and_then(|s| s.message.clone()))
            .unwrap_or_else(|| task::state_name(observed_state(task)).to_owned());
        progress.last_error = Some(error.clone());
        event(DeployEvent::TaskFailed {
            service: name.clone(),
            error,
        });
    }

    if let Some(reason) = update_failure(&service, &progress.watched) {
        if progress.last_error.is_none() {
            progress.last_error = newest_task_error(docker, &progress.watched.id, &name).await?;
        }
        return Err(progress.failure(reason));
    }

    let count = count(&service, &tasks, nodes);
    if progress.count != Some(count) {
        event(DeployEvent::Waiting {
            service: name.clone(),
            running: count.running,
            desired: count.desired,
        });
        progress.count = Some(count);
    }
    let failures = progress.seen_failures.len() as u32;
    if failures >= settings.max_task_failures.max(1) {
        return Err(progress.failure(format!("{failures} tasks failed")));
    }
    let trying = tasks.iter().any(|t| !is_terminal(observed_state(t)));
    if failures > 0 && !trying && !count.converged {
        progress.idle_rounds += 1;
        if progress.idle_rounds >= IDLE_ROUNDS_BEFORE_FAILURE {
            return Err(progress.failure(format!(
                "{failures} tasks failed and swarm stopped retrying"
            )));
        }
    } else {
        progress.idle_rounds = 0;
    }

    if !count.converged {
        progress.converged_at = None;
        return Ok(());
    }
    let mode = ServiceMode::of(service.spec.as_ref().and_then(|s| s.mode.as_ref()));
    let stability = settings.stability.unwrap_or_else(|| {
        service
            .spec
            .as_ref()
            .and_then(|s| s.update_config.as_ref())
            .and_then(|u| u.monitor)
            .filter(|ns| *ns > 0)
            .map_or(DEFAULT_MONITOR, |ns| Duration::from_nanos(ns as u64))
    });
    let since = *progress.converged_at.get_or_insert_with(Instant::now);
    // A service this deploy did not touch has nothing new to prove stable:
    // running as desired now is enough, so a no-op deploy returns at once.
    if mode.is_job() || !progress.watched.changed || since.elapsed() >= stability {
        progress.done = true;
        event(DeployEvent::ServiceConverged { service: name });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bollard::models::{
        ObjectVersion, ServiceJobStatus, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated,
        ServiceSpecModeReplicatedJob, ServiceUpdateStatus, TaskStatus,
    };

    use super::*;

    fn service(mode: ServiceSpecMode) -> Service {
        Service {
            spec: Some(ServiceSpec {
                mode: Some(mode),
                ..Default::default()
            }),
            job_status: Some(ServiceJobStatus {
                job_iteration: Some(ObjectVersion { index: Some(7) }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn replicated(n: i64) -> Service {
        service(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(n) }),
            ..Default::default()
        })
    }

    fn task(slot: i64, node: &str, desired: TaskState, state: TaskState) -> Task {
        Task {
            id: Some(format!("{slot}-{node}-{desired:?}-{state:?}")),
            slot: (slot > 0).then_some(slot),
            node_id: Some(node.into()),
            desired_state: Some(desired),
            status: Some(TaskStatus {
                state: Some(state),
                ..Default::default()
            }),
            job_iteration: Some(ObjectVersion { index: Some(7) }),
            ..Default::default()
        }
    }

    use TaskState::{COMPLETE, FAILED, NEW, PREPARING, READY, RUNNING, SHUTDOWN};

    #[test]
    fn replicated_counts_one_task_per_slot_on_live_nodes() {
        let nodes = HashSet::from(["n1".to_owned()]);
        let cases: Vec<(Service, Vec<Task>, Count)> = vec![
            (
                replicated(2),
                vec![],
                Count {
                    running: 0,
                    desired: 2,
                    converged: false,
                },
            ),
            (
                replicated(2),
                vec![
                    task(1, "n1", RUNNING, RUNNING),
                    task(2, "n1", RUNNING, PREPARING),
                ],
                Count {
                    running: 1,
                    desired: 2,
                    converged: false,
                },
            ),
            (
                replicated(2),
                vec![
                    task(1, "n1", RUNNING, RUNNING),
                    task(2, "n1", RUNNING, RUNNING),
                ],
                Count {
                    running: 2,
                    desired: 2,
                    converged: true,
                },
            ),
            // A failed task waiting for its replacement: the replacement
            // (lower desired state) represents the slot.
            (
                replicated(1),
                vec![task(1, "n1", SHUTDOWN, FAILED), task(1, "n1", READY, NEW)],
                Count {
                    running: 0,
                    desired: 1,
                    converged: false,
                },
            ),
            // Shutting down but still running does not count.
            (
                replicated(1),
                vec![task(1, "n1", SHUTDOWN, RUNNING)],
                Count {
                    running: 0,
                    desired: 1,
                    converged: false,
                },
            ),
            // Tasks on a node that is down do not count.
            (
                replicated(1),
                vec![task(1, "n2", RUNNING, RUNNING)],
                Count {
                    running: 0,
                    desired: 1,
                    converged: false,
                },
            ),
            (
                replicated(0),
                vec![],
                Count {
                    running: 0,
                    desired: 0,
                    converged: true,
                },
            ),
        ];
        for (service, tasks, expected) in cases {
            assert_eq!(count(&service, &tasks, &nodes), expected, "{tasks:?}");
        }
    }

    #[test]
    fn global_and_job_modes() {
        let nodes = HashSet::from(["n1".to_owned(), "n2".to_owned()]);
        let global = service(ServiceSpecMode {
            global: Some(Default::default()),
            ..Default::default()
        });
        assert_eq!(
            count(&global, &[], &nodes),
            Count {
                running: 0,
                desired: 0,
                converged: false
            }
        );
        assert_eq!(
            count(
                &global,
                &[
                    task(0, "n1", RUNNING, RUNNING),
                    task(0, "n2", RUNNING, PREPARING)
                ],
                &nodes
            ),
            Count {
                running: 1,
                desired: 2,
                converged: false
            }
        );
        assert_eq!(
            count(
                &global,
                &[
                    task(0, "n1", RUNNING, RUNNING),
                    task(0, "n2", RUNNING, RUNNING)
                ],
                &nodes
            ),
            Count {
                running: 2,
                desired: 2,
                converged: true
            }
        );

        let job = service(ServiceSpecMode {
            replicated_job: Some(ServiceSpecModeReplicatedJob {
                max_concurrent: Some(1),
                total_completions: Some(2),
            }),
            ..Default::default()
        });
        let mut old_iteration = task(1, "n1", COMPLETE, COMPLETE);
        old_iteration.job_iteration = Some(ObjectVersion { index: Some(6) });
        assert_eq!(
            count(
                &job,
                &[old_iteration.clone(), task(1, "n1", COMPLETE, COMPLETE)],
                &nodes
            ),
            Count {
                running: 1,
                desired: 2,
                converged: false
            }
        );
        assert_eq!(
            count(
                &job,
                &[
                    task(1, "n1", COMPLETE, COMPLETE),
                    task(2, "n1", COMPLETE, COMPLETE)
                ],
                &nodes
            ),
            Count {
                running: 2,
                desired: 2,
                converged: true
            }
        );

        let global_job = service(ServiceSpecMode {
            global_job: Some(Default::default()),
            ..Default::default()
        });
        assert_eq!(
            count(&global_job, &[task(0, "n1", COMPLETE, COMPLETE)], &nodes),
            Count {
                running: 1,
                desired: 1,
                converged: true
            }
        );
    }

    fn with_update(state: UpdateState, started: &str) -> Service {
        Service {
            update_status: Some(ServiceUpdateStatus {
                state: Some(state),
                started_at: Some(started.into()),
                message: Some("update paused due to failure or early termination of task x".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn watched(changed: bool, before: Option<&str>) -> Watched {
        Watched {
            id: "id".into(),
            name: "s_web".into(),
            changed,
            update_started_before: before.map(str::to_owned),
        }
    }

    #[test]
    fn update_status_fails_only_this_deploys_updates() {
        use UpdateState::*;
        let cases = [
            (PAUSED, "t2", watched(true, Some("t1")), true),
            (PAUSED, "t1", watched(true, Some("t1")), false),
            (ROLLBACK_COMPLETED, "t2", watched(true, None), true),
            (ROLLBACK_STARTED, "t2", watched(true, Some("t1")), true),
            (ROLLBACK_PAUSED, "t2", watched(true, Some("t1")), true),
            (UPDATING, "t2", watched(true, Some("t1")), false),
            (COMPLETED, "t2", watched(true, Some("t1")), false),
            // Left unchanged: a past rollback is not this deploy's failure,
            // but a service stuck in a paused update is not healthy.
            (ROLLBACK_COMPLETED, "t1", watched(false, None), false),
            (PAUSED, "t1", watched(false, None), true),
            (ROLLBACK_PAUSED, "t1", watched(false, None), true),
        ];
        for (state, started, watched, fails) in cases {
            assert_eq!(
                update_failure(&with_update(state, started), &watched).is_some(),
                fails,
                "{state:?} {watched:?}"
            );
        }
        assert_eq!(
            update_failure(&Service::default(), &watched(true, None)),
            None
        );
    }
}
