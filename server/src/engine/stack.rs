//! Reading stacks: `docker stack ls`, `docker stack services` and
//! `docker stack ps`, natively. A stack is nothing but the objects that carry
//! the label `com.docker.stack.namespace=<stack>`, so these work the same for
//! stacks deployed by voc and by the docker CLI.

use std::collections::{BTreeMap, HashMap};

use super::request::DockerApi;
use bollard::models::{Service, ServiceSpecMode, Task, TaskState};
use bollard::query_parameters::{ListNodesOptions, ListServicesOptions};

use super::Engine;
use super::error::{ApiContext, Error, ObjectKind, Result};
use super::task;
use crate::compose::spec::{LABEL_IMAGE, LABEL_NAMESPACE};

/// One stack, as `docker stack ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSummary {
    /// The stack's name.
    pub name: String,
    /// How many services it has.
    pub services: usize,
}

/// How a service schedules its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMode {
    /// A fixed number of replicas.
    Replicated,
    /// One task per eligible node.
    Global,
    /// A job run to a number of completions.
    ReplicatedJob,
    /// A job run once per eligible node.
    GlobalJob,
}

impl std::fmt::Display for ServiceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceMode::Replicated => "replicated",
            ServiceMode::Global => "global",
            ServiceMode::ReplicatedJob => "replicated job",
            ServiceMode::GlobalJob => "global job",
        })
    }
}

impl ServiceMode {
    /// The mode of a service spec (replicated when unset, as swarm does).
    pub(crate) fn of(mode: Option<&ServiceSpecMode>) -> ServiceMode {
        match mode {
            Some(m) if m.global.is_some() => ServiceMode::Global,
            Some(m) if m.replicated_job.is_some() => ServiceMode::ReplicatedJob,
            Some(m) if m.global_job.is_some() => ServiceMode::GlobalJob,
            _ => ServiceMode::Replicated,
        }
    }

    /// True for jobs, which converge by completing instead of running.
    pub fn is_job(self) -> bool {
        matches!(self, ServiceMode::ReplicatedJob | ServiceMode::GlobalJob)
    }
}

/// One service of a stack, as `docker stack services` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    /// The service ID.
    pub id: String,
    /// The swarm name (`shop_web`).
    pub name: String,
    /// Replicated, global or a job.
    pub mode: ServiceMode,
    /// Running tasks (completed ones, for jobs).
    pub running: u64,
    /// Desired tasks (completions, for jobs).
    pub desired: u64,
    /// The image the tasks run (pinned to a digest when it was resolved).
    pub image: String,
    /// The image as written in the Compose file (`com.docker.stack.image`).
    pub compose_image: Option<String>,
    /// Published ports (`*:8080->80/tcp`).
    pub ports: Vec<String>,
}

/// One task of a stack, as `docker stack ps` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// The task ID.
    pub id: String,
    /// The task's display name: `<service>.<slot>` for replicated services,
    /// `<service>.<node id>` for global ones.
    pub name: String,
    /// The service's swarm name.
    pub service: String,
    /// The image the task runs.
    pub image: String,
    /// The hostname of the node it is assigned to (its ID if the node is
    /// gone; empty while unassigned).
    pub node: String,
    /// The state swarm wants (`running`, `shutdown`).
    pub desired_state: String,
    /// The observed state (`running`, `failed`).
    pub state: String,
    /// When the task entered its observed state (RFC 3339).
    pub since: String,
    /// The task's error message, if it failed.
    pub error: Option<String>,
    /// True when a newer task replaced this one in its slot (the docker CLI
    /// prints these with a `\_` prefix).
    pub is_history: bool,
}

/// The filter that selects one stack's objects.
pub(crate) fn stack_filter(stack: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_NAMESPACE}={stack}")],
    )])
}

/// Lists the services of stack `stack`, optionally with task counts.
pub(crate) async fn list_stack_services(
    docker: &DockerApi,
    stack: &str,
    status: bool,
) -> Result<Vec<Service>> {
    let options = ListServicesOptions {
        filters: Some(stack_filter(stack)),
        status: Some(status),
    };
    docker
        .call("list_services", |docker| {
            docker.list_services(Some(options))
        })
        .await
        .during("listing services of stack", ObjectKind::Service, stack)
}

/// The swarm name of a service (empty if the engine did not say).
pub(crate) fn service_name(service: &Service) -> &str {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.name.as_deref())
        .unwrap_or_default()
}

impl Engine {
    /// Lists every stack of the swarm with its number of services, sorted by
    /// name, like `docker stack ls`.
    pub async fn list_stacks(&self) -> Result<Vec<StackSummary>> {
        let filters = HashMap::from([("label".to_owned(), vec![LABEL_NAMESPACE.to_owned()])]);
        let options = ListServicesOptions {
            filters: Some(filters),
            status: None,
        };
        let services = self
            .docker()
            .call("list_services", |docker| {
                docker.list_services(Some(options))
            })
            .await
            .during("listing", ObjectKind::Service, "all stacks")?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for service in &services {
            let stack = service
                .spec
                .as_ref()
                .and_then(|spec| spec.labels.as_ref()?.get(LABEL_NAMESPACE));
            if let Some(stack) = stack {
                *counts.entry(stack.clone()).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|(name, services)| StackSummary { name, services })
            .collect())
    }

    /// Lists the services of stack `name` with their running and desired
    /// task counts, sorted by name, like `docker stack services`. An
    /// unknown stack has no services.
    pub async fn stack_services(&self, name: &str) -> Result<Vec<ServiceSummary>> {
        let services = list_stack_services(self.docker(), name, true).await?;
        let mut summaries: Vec<ServiceSummary> = services.iter().map(to_service_summary).collect();
        summaries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(summaries)
    }

    /// Lists the tasks of stack `name`, current and past, sorted by service,
    /// slot (or node) and then newest first, like `docker stack ps`. Fails
    /// with `nothing found in stack: NAME` when there is none.
    pub async fn stack_tasks(&self, name: &str) -> Result<Vec<TaskSummary>> {
        let tasks = task::list_stack_tasks(self.docker(), name).await?;
        if tasks.is_empty() {
            return Err(Error::NothingFound {
                stack: name.to_owned(),
            });
        }
        let services = list_stack_services(self.docker(), name, false).await?;
        let service_names: HashMap<&str, &str> = services
            .iter()
            .filter_map(|s| Some((s.id.as_deref()?, service_name(s))))
            .collect();
        let nodes = self
            .docker()
            .call("list_nodes", |docker| {
                docker.list_nodes(None::<ListNodesOptions>)
            })
            .await
            .during("listing nodes for stack", ObjectKind::Engine, name)?;
        let hostnames: HashMap<&str, &str> = nodes
            .iter()
            .filter_map(|n| {
                Some((
                    n.id.as_deref()?,
                    n.description.as_ref()?.hostname.as_deref()?,
                ))
            })
            .collect();
        Ok(to_task_summaries(&tasks, &service_names, &hostnames))
    }
}

fn to_service_summary(service: &Service) -> ServiceSummary {
    let spec = service.spec.clone().unwrap_or_default();
    let mode = ServiceMode::of(spec.mode.as_ref());
    let status = service.service_status.clone().unwrap_or_default();
    let running = if mode.is_job() {
        status.completed_tasks
    } else {
        status.running_tasks
    };
    let desired = match (mode, spec.mode.as_ref()) {
        (ServiceMode::ReplicatedJob, Some(m)) => m
            .replicated_job
            .as_ref()
            .and_then(|job| job.total_completions)
            .map(|n| n.max(0) as u64),
        _ => status.desired_tasks,
    };
    let image = spec
        .task_template
        .as_ref()
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let ports = service
        .endpoint
        .as_ref()
        .and_then(|e| e.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| {
                    let published = p.published_port?;
                    let target = p.target_port.unwrap_or_default();
                    let protocol = p
                        .protocol
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "tcp".to_owned());
                    Some(format!("*:{published}->{target}/{protocol}"))
                })
                .collect()
        })
        .unwrap_or_default();
    ServiceSummary {
        id: service.id.clone().unwrap_or_default(),
        name: spec.name.clone().unwrap_or_default(),
        mode,
        running: running.unwrap_or_default(),
        desired: desired.unwrap_or_default(),
        image,
        compose_image: spec
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_IMAGE).cloned()),
        ports,
    }
}

fn to_task_summaries(
    tasks: &[Task],
    service_names: &HashMap<&str, &str>,
    hostnames: &HashMap<&str, &str>,
) -> Vec<TaskSummary> {
    struct Row<'a> {
        task: &'a Task,
        service: String,
        group: String,
    }
    let mut rows: Vec<Row> = tasks
        .iter()
        .map(|task| {
            let service_id = task.service_id.as_deref().unwrap_or_default();
            let service = service_names
                .get(service_id)
                .map_or(service_id, |name| name)
                .to_owned();
            // Replicated tasks are numbered by slot; global ones by node.
            let group = match task.slot {
                Some(slot) if slot > 0 => slot.to_string(),
                _ => task.node_id.clone().unwrap_or_default(),
            };
            Row {
                task,
                service,
                group,
            }
        })
        .collect();
    let created = |t: &Task| t.created_at.clone().unwrap_or_default();
    rows.sort_by(|a, b| {
        (
            a.service.as_str(),
            a.task.slot.unwrap_or(0),
            a.group.as_str(),
        )
            .cmp(&(
                b.service.as_str(),
                b.task.slot.unwrap_or(0),
                b.group.as_str(),
            ))
            .then_with(|| created(b.task).cmp(&created(a.task)))
    });
    let mut summaries = Vec::with_capacity(rows.len());
    let mut previous_group: Option<(String, String)> = None;
    for row in rows {
        let key = (row.service.clone(), row.group.clone());
        let is_history = previous_group.as_ref() == Some(&key);
        previous_group = Some(key);
        let task = row.task;
        let node_id = task.node_id.clone().unwrap_or_default();
        let status = task.status.clone().unwrap_or_default();
        summaries.push(TaskSummary {
            id: task.id.clone().unwrap_or_default(),
            name: format!("{}.{}", row.service, row.group),
            service: row.service,
            image: task
                .spec
                .as_ref()
                .and_then(|s| s.container_spec.as_ref())
                .and_then(|c| c.image.clone())
                .unwrap_or_default(),
            node: hostnames
                .get(node_id.as_str())
                .map_or(node_id.clone(), |h| (*h).to_owned()),
            desired_state: task::state_name(task::desired_state(task)).to_owned(),
            state: task::state_name(status.state.unwrap_or(TaskState::NEW)).to_owned(),
            since: status.timestamp.unwrap_or_default(),
            error: task::task_error(task).map(str::to_owned),
            is_history,
        });
    }
    summaries
}

#[cfg(test)]
mod tests {
    use bollard::models::TaskStatus;

    use super::*;

    fn task(
        id: &str,
        service: &str,
        slot: i64,
        node: &str,
        created: &str,
        state: TaskState,
    ) -> Task {
        Task {
            id: Some(id.into()),
            service_id: Some(service.into()),
            slot: (slot > 0).then_some(slot),
            node_id: Some(node.into()),
            created_at: Some(created.into()),
            desired_state: Some(if state == TaskState::RUNNING {
                TaskState::RUNNING
            } else {
                TaskState::SHUTDOWN
            }),
            status: Some(TaskStatus {
                state: Some(state),
                err: (state == TaskState::FAILED).then(|| "task: non-zero exit (1)".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn tasks_are_named_sorted_and_marked_as_history() {
        let tasks = [
            task(
                "t3",
                "sid-web",
                2,
                "n1",
                "2024-01-01T00:00:03Z",
                TaskState::RUNNING,
            ),
            task(
                "t1",
                "sid-web",
                1,
                "n1",
                "2024-01-01T00:00:01Z",
                TaskState::FAILED,
            ),
            task(
                "t2",
                "sid-web",
                1,
                "n1",
                "2024-01-01T00:00:02Z",
                TaskState::RUNNING,
            ),
            task(
                "t4",
                "sid-agent",
                0,
                "n1",
                "2024-01-01T00:00:04Z",
                TaskState::RUNNING,
            ),
            task(
                "t5",
                "sid-gone",
                1,
                "n9",
                "2024-01-01T00:00:05Z",
                TaskState::RUNNING,
            ),
        ];
        let services = HashMap::from([("sid-web", "s_web"), ("sid-agent", "s_agent")]);
        let hosts = HashMap::from([("n1", "host-one")]);
        let rows = to_task_summaries(&tasks, &services, &hosts);
        let got: Vec<(&str, &str, bool, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.name.as_str(),
                    r.is_history,
                    r.node.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("t4", "s_agent.n1", false, "host-one"),
                ("t2", "s_web.1", false, "host-one"),
                ("t1", "s_web.1", true, "host-one"),
                ("t3", "s_web.2", false, "host-one"),
                ("t5", "sid-gone.1", false, "n9"),
            ]
        );
        assert_eq!(rows[2].error.as_deref(), Some("task: non-zero exit (1)"));
        assert_eq!(rows[2].state, "failed");
        assert_eq!(rows[2].desired_state, "shutdown");
    }

    #[test]
    fn service_modes() {
        use bollard::models::{ServiceSpecModeReplicated, ServiceSpecModeReplicatedJob};
        let cases = [
            (None, ServiceMode::Replicated),
            (
                Some(ServiceSpecMode {
                    replicated: Some(ServiceSpecModeReplicated { replicas: Some(2) }),
                    ..Default::default()
                }),
                ServiceMode::Replicated,
            ),
            (
                Some(ServiceSpecMode {
                    global: Some(Default::default()),
                    ..Default::default()
                }),
                ServiceMode::Global,
            ),
            (
                Some(ServiceSpecMode {
                    replicated_job: Some(ServiceSpecModeReplicatedJob::default()),
                    ..Default::default()
                }),
                ServiceMode::ReplicatedJob,
            ),
            (
                Some(ServiceSpecMode {
                    global_job: Some(Default::default()),
                    ..Default::default()
                }),
                ServiceMode::GlobalJob,
            ),
        ];
        for (mode, expected) in cases {
            assert_eq!(ServiceMode::of(mode.as_ref()), expected);
        }
    }
}
