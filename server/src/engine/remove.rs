//! Removing a stack: `docker stack rm`, natively. Services (sorted), then
//! secrets, then configs, then networks, carrying on past failures and
//! reporting them. Unlike the docker CLI, voc waits (bounded) until the
//! stack's tasks and containers are gone before removing networks, so that
//! no network is left half-removed or leaks its addresses. Volumes are never
//! removed.

use std::time::{Duration, Instant};

use bollard::query_parameters::ListContainersOptions;

use super::Engine;
use super::error::ErrorChain;
use super::error::{Error, ObjectKind, Result};
use super::file_object::{self, FileKind};
use super::stack::{list_stack_services, service_name, stack_filter};
use super::{network, task};

/// How long removal waits for the stack's tasks and containers to go.
const TASKS_GONE_TIMEOUT: Duration = Duration::from_secs(90);
/// Time between checks while waiting.
const POLL: Duration = Duration::from_millis(300);

/// Something a removal did, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveEvent {
    /// An object was removed.
    Removed {
        /// Service, secret, config or network.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// An object could not be removed (removal carries on).
    Failed {
        /// Service, secret, config or network.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// Why.
        error: String,
    },
    /// Waiting for this many tasks and containers to go before removing
    /// networks.
    WaitingForTasks {
        /// Tasks and containers still there.
        remaining: usize,
    },
    /// The stack has nothing to remove.
    NothingFound,
}

impl std::fmt::Display for RemoveEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoveEvent::Removed { kind, name } => write!(f, "{kind} {name}: removed"),
            RemoveEvent::Failed { kind, name, error } => {
                write!(f, "{kind} {name}: not removed: {error}")
            }
            RemoveEvent::WaitingForTasks { remaining } => {
                write!(f, "waiting for {remaining} tasks and containers to stop")
            }
            RemoveEvent::NothingFound => write!(f, "nothing found in stack"),
        }
    }
}

/// What a removal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveReport {
    /// The stack's name.
    pub stack: String,
    /// False if the stack had nothing to remove.
    pub found: bool,
    /// What was removed, in order.
    pub removed: Vec<(ObjectKind, String)>,
}

impl Engine {
    /// Removes stack `name`, like `docker stack rm`, for stacks deployed by
    /// voc and by the docker CLI alike. A stack with nothing left is not an
    /// error ([`RemoveReport::found`] is false). Fails with
    /// [`Error::RemoveIncomplete`] listing what could not be removed, after
    /// trying everything.
    pub async fn remove_stack(
        &self,
        name: &str,
        progress: &(dyn Fn(RemoveEvent) + Sync),
    ) -> Result<RemoveReport> {
        let _lock = self.lock_stack(name).await;
        let docker = self.docker();
        let mut report = RemoveReport {
            stack: name.to_owned(),
            ..RemoveReport::default()
        };
        let mut failures = Vec::new();
        let mut removed =
            |kind: ObjectKind, object: &str, result: Result<()>, report: &mut RemoveReport| {
                match result {
                    Ok(()) => {
                        report.removed.push((kind, object.to_owned()));
                        progress(RemoveEvent::Removed {
                            kind,
                            name: object.to_owned(),
                        });
                    }
                    Err(e) => {
                        let error = ErrorChain(&e).to_string();
                        failures.push(error.clone());
                        progress(RemoveEvent::Failed {
                            kind,
                            name: object.to_owned(),
                            error,
                        });
                    }
                }
            };

        let mut services = list_stack_services(docker, name, false).await?;
        services.sort_by(|a, b| service_name(a).cmp(service_name(b)));
        let secrets = file_object::list_stack_objects(docker, FileKind::Secret, name).await?;
        let configs = file_object::list_stack_objects(docker, FileKind::Config, name).await?;
        let networks = network::list_stack_networks(docker, name).await?;
        if services.is_empty() && secrets.is_empty() && configs.is_empty() && networks.is_empty() {
            progress(RemoveEvent::NothingFound);
            return Ok(report);
        }
        report.found = true;

        for service in &services {
            let id = service.id.clone().unwrap_or_default();
            let result = docker
                .call("delete_service", |docker| docker.delete_service(&id))
                .await
                .map_err(|source| Error::Api {
                    verb: "removing",
                    kind: ObjectKind::Service,
                    name: service_name(service).to_owned(),
                    source,
                });
            removed(
                ObjectKind::Service,
                service_name(service),
                result,
                &mut report,
            );
        }
        for (kind, objects) in [(FileKind::Secret, &secrets), (FileKind::Config, &configs)] {
            for object in objects {
                let result = file_object::remove(docker, kind, &object.id, &object.name).await;
                removed(kind.object_kind(), &object.name, result, &mut report);
            }
        }
        if !networks.is_empty() {
            self.wait_for_tasks_gone(name, progress).await?;
            for (id, network) in &networks {
                let result = docker
                    .call("remove_network", |docker| docker.remove_network(id))
                    .await
                    .map_err(|source| Error::Api {
                        verb: "removing",
                        kind: ObjectKind::Network,
                        name: network.clone(),
                        source,
                    });
                removed(ObjectKind::Network, network, result, &mut report);
            }
        }
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(Error::RemoveIncomplete {
                stack: name.to_owned(),
                failures,
            })
        }
    }

    /// Waits, at most [`TASKS_GONE_TIMEOUT`], until stack `name` has no
    /// task left in the swarm and no container left on this node. Past the
    /// bound, removal goes on (and network removal may then fail and be
    /// reported).
    async fn wait_for_tasks_gone(
        &self,
        name: &str,
        progress: &(dyn Fn(RemoveEvent) + Sync),
    ) -> Result<()> {
        let docker = self.docker();
        let start = Instant::now();
        let mut last_reported = None;
        loop {
            let tasks = task::list_stack_tasks(docker, name).await?;
            let options = ListContainersOptions {
                all: true,
                filters: Some(stack_filter(name)),
                ..Default::default()
            };
            let containers = docker
                .call("list_containers", |docker| {
                    docker.list_containers(Some(options))
                })
                .await
                .map_err(|source| Error::Api {
                    verb: "listing containers of stack",
                    kind: ObjectKind::Task,
                    name: name.to_owned(),
                    source,
                })?;
            let remaining = tasks.len() + containers.len();
            if remaining == 0 || start.elapsed() >= TASKS_GONE_TIMEOUT {
                return Ok(());
            }
            if last_reported != Some(remaining) {
                progress(RemoveEvent::WaitingForTasks { remaining });
                last_reported = Some(remaining);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
