//! Swarm tasks: listing them (there are no task events, so everything that
//! follows tasks polls) and reading their states.

use std::collections::HashMap;

use super::request::DockerApi;
use bollard::models::{Task, TaskState};
use bollard::query_parameters::ListTasksOptions;

use super::error::{ApiContext, ObjectKind, Result};
use super::stack::stack_filter;

/// Lists the tasks of every service of stack `stack` (tasks match the
/// owning service's labels).
pub(crate) async fn list_stack_tasks(docker: &DockerApi, stack: &str) -> Result<Vec<Task>> {
    let options = ListTasksOptions {
        filters: Some(stack_filter(stack)),
    };
    docker
        .call("list_tasks", |docker| docker.list_tasks(Some(options)))
        .await
        .during("listing tasks of stack", ObjectKind::Task, stack)
}

/// Lists the tasks of service `service_id` that run its current spec (the
/// daemon's `_up-to-date` filter, which the docker CLI's progress display
/// uses too).
pub(crate) async fn list_up_to_date_tasks(
    docker: &DockerApi,
    service_id: &str,
    service_name: &str,
) -> Result<Vec<Task>> {
    let filters = HashMap::from([
        ("service".to_owned(), vec![service_id.to_owned()]),
        ("_up-to-date".to_owned(), vec!["true".to_owned()]),
    ]);
    let options = ListTasksOptions {
        filters: Some(filters),
    };
    docker
        .call("list_tasks", |docker| docker.list_tasks(Some(options)))
        .await
        .during("listing tasks of service", ObjectKind::Task, service_name)
}

/// The order of task states, as the docker CLI ranks them (later = further
/// along; everything after `running` is terminal).
pub(crate) fn state_rank(state: TaskState) -> u8 {
    match state {
        TaskState::NEW => 1,
        TaskState::ALLOCATED => 2,
        TaskState::PENDING => 3,
        TaskState::ASSIGNED => 4,
        TaskState::ACCEPTED => 5,
        TaskState::PREPARING => 6,
        TaskState::READY => 7,
        TaskState::STARTING => 8,
        TaskState::RUNNING => 9,
        TaskState::COMPLETE => 10,
        TaskState::SHUTDOWN => 11,
        TaskState::FAILED => 12,
        TaskState::REJECTED => 13,
        TaskState::REMOVE => 14,
        TaskState::ORPHANED => 15,
    }
}

/// True for states a task never leaves (`complete`, `shutdown`, `failed`,
/// `rejected`, ...).
pub(crate) fn is_terminal(state: TaskState) -> bool {
    state_rank(state) > state_rank(TaskState::RUNNING)
}

/// True for the states that mean a task failed (`failed`, `rejected`).
pub(crate) fn is_failure(state: TaskState) -> bool {
    matches!(state, TaskState::FAILED | TaskState::REJECTED)
}

/// The lowercase name Docker uses for a state (`running`).
pub(crate) fn state_name(state: TaskState) -> &'static str {
    match state {
        TaskState::NEW => "new",
        TaskState::ALLOCATED => "allocated",
        TaskState::PENDING => "pending",
        TaskState::ASSIGNED => "assigned",
        TaskState::ACCEPTED => "accepted",
        TaskState::PREPARING => "preparing",
        TaskState::READY => "ready",
        TaskState::STARTING => "starting",
        TaskState::RUNNING => "running",
        TaskState::COMPLETE => "complete",
        TaskState::SHUTDOWN => "shutdown",
        TaskState::FAILED => "failed",
        TaskState::REJECTED => "rejected",
        TaskState::REMOVE => "remove",
        TaskState::ORPHANED => "orphaned",
    }
}

/// A task's observed state (`new` when the engine did not say).
pub(crate) fn observed_state(task: &Task) -> TaskState {
    task.status
        .as_ref()
        .and_then(|status| status.state)
        .unwrap_or(TaskState::NEW)
}

/// A task's desired state (`new` when the engine did not say).
pub(crate) fn desired_state(task: &Task) -> TaskState {
    task.desired_state.unwrap_or(TaskState::NEW)
}

/// The task's error message (`Status.Err`), if any.
pub(crate) fn task_error(task: &Task) -> Option<&str> {
    task.status
        .as_ref()
        .and_then(|status| status.err.as_deref())
        .filter(|err| !err.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_and_failure_states() {
        let cases = [
            (TaskState::NEW, false, false),
            (TaskState::PENDING, false, false),
            (TaskState::READY, false, false),
            (TaskState::STARTING, false, false),
            (TaskState::RUNNING, false, false),
            (TaskState::COMPLETE, true, false),
            (TaskState::SHUTDOWN, true, false),
            (TaskState::FAILED, true, true),
            (TaskState::REJECTED, true, true),
            (TaskState::ORPHANED, true, false),
        ];
        for (state, terminal, failure) in cases {
            assert_eq!(is_terminal(state), terminal, "{}", state_name(state));
            assert_eq!(is_failure(state), failure, "{}", state_name(state));
        }
    }

    #[test]
    fn state_names_match_the_api() {
        for state in [
            TaskState::NEW,
            TaskState::RUNNING,
            TaskState::REJECTED,
            TaskState::COMPLETE,
        ] {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state_name(state));
        }
    }
}
