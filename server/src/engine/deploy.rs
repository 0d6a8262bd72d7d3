//! Deploying [`StackSpec`]s: `docker stack deploy`, natively, with voc's
//! improvements (no-op detection, content-versioned secrets and configs,
//! pruning by default, waiting for convergence, per-stack serialisation),
//! for one stack ([`Engine::deploy_stack`]) or a batch of them
//! ([`Engine::deploy_stacks`], how a conf repo is deployed).
//!
//! In order:
//! 1. check each spec (every service has an image, every secret and config
//!    a service uses is defined), take the stacks' locks, read the swarm
//!    once for the whole batch (the snapshot: services, networks, secrets,
//!    configs), which also checks that the engine is a swarm manager;
//! 2. check external networks, and existing secrets and configs (an
//!    explicitly named one whose content changed fails the deploy here,
//!    before anything is written);
//! 3. create missing networks, secrets and configs;
//! 4. prune the stack's services the spec no longer has (if asked);
//! 5. create, update or leave alone each service ([`super::service`]);
//! 6. wait for convergence (if asked, [`super::converge`]);
//! 7. remove the stack's old secret and config versions that nothing uses
//!    any more (only when the snapshot shows some).
//!
//! Steps 2 to 7 run for each stack of a batch side by side, and decide
//! everything from the snapshot: a stack that did not change sends no
//! request at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use bollard::models::Service;
use bollard::query_parameters::{ListServicesOptions, ListTasksOptions};
use futures_util::future::join_all;
use tokio::sync::Semaphore;

use super::converge::{self, WaitSettings, Watched};
use super::distribution::Resolver;
use super::error::{ApiContext, Error, ErrorChain, ObjectKind, Result};
use super::file_object::{self, FileKind};
use super::registry_auth::RegistryAuth;
use super::service::{self, ServiceContext};
use super::snapshot::SwarmSnapshot;
use super::stack::service_name;
use super::{Engine, network};
use crate::compose::StackSpec;

/// How many stacks of a batch send their writes at the same time: enough to
/// keep the daemon busy, few enough that a large conf repo does not queue
/// hundreds of requests on it at once.
pub const CONCURRENT_STACKS: usize = 8;

/// When to ask the registry for an image's digest (`--resolve-image`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResolveImage {
    /// Always, and pin `image:tag@sha256:…` (the docker CLI's default).
    #[default]
    Always,
    /// Only when the image in the Compose file changed.
    Changed,
    /// Never: nodes pull the tag themselves.
    Never,
}

/// How to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// When to pin images to digests.
    pub resolve_image: ResolveImage,
    /// Remove the stack's services that the spec no longer has.
    pub prune: bool,
    /// Credentials sent to the daemon for the registry (`X-Registry-Auth`),
    /// to resolve digests and for nodes to pull.
    pub registry_auth: Option<RegistryAuth>,
    /// Wait at most this long for the services to converge; `None` returns
    /// as soon as everything is sent (detached).
    pub wait: Option<Duration>,
    /// How long a converged service must stay so; `None` = its
    /// `UpdateConfig.Monitor` (5 s by default).
    pub stability: Option<Duration>,
    /// A service whose new tasks failed this many times has failed.
    pub max_task_failures: u32,
    /// Extra service labels (`io.voc.commit`). They are written when a
    /// service is created or updated, but do not count as a change by
    /// themselves: a service that did not change keeps the labels of the
    /// deploy that last changed it.
    pub labels: BTreeMap<String, String>,
    /// Update every service even when unchanged, so that swarm replaces
    /// its tasks (`docker service update --force`); a stack deploy never
    /// forces.
    pub force: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            resolve_image: ResolveImage::Always,
            prune: true,
            registry_auth: None,
            wait: None,
            stability: None,
            max_task_failures: 3,
            labels: BTreeMap::new(),
            force: false,
        }
    }
}

/// What happened to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// It did not exist and was created.
    Created,
    /// It differed and was updated.
    Updated,
    /// It was as desired: nothing was sent.
    Unchanged,
    /// The spec no longer has it: it was removed (pruned).
    Removed,
}

impl fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceAction::Created => "created",
            ServiceAction::Updated => "updated",
            ServiceAction::Unchanged => "unchanged",
            ServiceAction::Removed => "removed",
        })
    }
}

/// Something a deploy did or saw, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployEvent {
    /// A network, secret or config was created.
    Created {
        /// Network, secret or config.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// An existing secret or config got the spec's labels.
    LabelsUpdated {
        /// Secret or config.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// A service was created, updated, left unchanged or pruned.
    Service {
        /// Its swarm name.
        name: String,
        /// What was done.
        action: ServiceAction,
    },
    /// A secret or config of an older version was removed.
    Removed {
        /// Secret or config.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// Something worth knowing that does not fail the deploy.
    Warning {
        /// The message.
        message: String,
    },
    /// A service's task count changed while waiting.
    Waiting {
        /// The service's swarm name.
        service: String,
        /// Tasks running the current spec (completed, for jobs).
        running: u64,
        /// Tasks wanted.
        desired: u64,
    },
    /// A task of a service failed while waiting.
    TaskFailed {
        /// The service's swarm name.
        service: String,
        /// The task's error message.
        error: String,
    },
    /// A service converged and stayed stable.
    ServiceConverged {
        /// The service's swarm name.
        service: String,
    },
    /// Every service converged.
    Converged,
}

impl fmt::Display for DeployEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployEvent::Created { kind, name } => write!(f, "{kind} {name}: created"),
            DeployEvent::LabelsUpdated { kind, name } => write!(f, "{kind} {name}: labels updated"),
            DeployEvent::Service { name, action } => write!(f, "service {name}: {action}"),
            DeployEvent::Removed { kind, name } => write!(f, "{kind} {name}: removed"),
            DeployEvent::Warning { message } => write!(f, "warning: {message}"),
            DeployEvent::Waiting {
                service,
                running,
                desired,
            } => {
                write!(f, "waiting: {service} {running}/{desired} running")
            }
            DeployEvent::TaskFailed { service, error } => {
                write!(f, "waiting: {service} task failed: {error}")
            }
            DeployEvent::ServiceConverged { service } => write!(f, "service {service}: converged"),
            DeployEvent::Converged => write!(f, "converged"),
        }
    }
}

/// What was done to one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceOutcome {
    /// Its swarm name.
    pub name: String,
    /// Its ID.
    pub id: String,
    /// What was done.
    pub action: ServiceAction,
    /// The image it runs now (pinned to a digest when resolved; empty for
    /// removed services).
    pub image: String,
}

/// What a deploy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// The stack's name.
    pub stack: String,
    /// One entry per service of the spec, in the spec's order, then the
    /// pruned ones.
    pub services: Vec<ServiceOutcome>,
    /// Networks, secrets and configs created.
    pub created: Vec<(ObjectKind, String)>,
    /// Old secret and config versions removed.
    pub removed: Vec<(ObjectKind, String)>,
    /// Warnings (digests that could not be resolved, failed prunes, old
    /// versions that could not be removed).
    pub warnings: Vec<String>,
    /// True if the deploy waited and every service converged.
    pub converged: bool,
}

impl DeployReport {
    /// True if nothing at all was written to the swarm.
    pub fn is_noop(&self) -> bool {
        self.created.is_empty()
            && self.removed.is_empty()
            && self
                .services
                .iter()
                .all(|s| s.action == ServiceAction::Unchanged)
    }
}

/// Sends each event to the caller, tagged with the stack's name, and
/// records it in the report.
struct Recorder<'a> {
    progress: &'a (dyn Fn(&str, DeployEvent) + Sync),
    report: DeployReport,
}

impl Recorder<'_> {
    fn emit(&mut self, event: DeployEvent) {
        match &event {
            DeployEvent::Created { kind, name } => self.report.created.push((*kind, name.clone())),
            DeployEvent::Removed { kind, name } => self.report.removed.push((*kind, name.clone())),
            DeployEvent::Warning { message } => self.report.warnings.push(message.clone()),
            _ => {}
        }
        (self.progress)(&self.report.stack, event);
    }
}

/// What the stacks of a batch share.
struct Batch<'a> {
    options: &'a DeployOptions,
    /// The swarm as read once for the batch (without the services, which
    /// each stack's deploy takes).
    snapshot: SwarmSnapshot,
    /// A client carrying the registry credentials, if any, for creating and
    /// updating services.
    service_docker: super::request::DockerApi,
    /// Digests asked of the registry, once per image for the whole batch.
    resolver: Resolver,
    /// Bounds how many stacks send their writes at the same time.
    permits: Semaphore,
    progress: &'a (dyn Fn(&str, DeployEvent) + Sync),
}

/// The IDs of a stack's secrets and configs, by name.
#[derive(Clone, Copy)]
struct FileObjectIds<'a> {
    secrets: &'a HashMap<String, String>,
    configs: &'a HashMap<String, String>,
}

/// The event for a secret or config that was created or relabelled.
fn file_event(kind: FileKind, name: &str, created: bool) -> DeployEvent {
    let (kind, name) = (kind.object_kind(), name.to_owned());
    if created {
        DeployEvent::Created { kind, name }
    } else {
        DeployEvent::LabelsUpdated { kind, name }
    }
}

/// Fails if the spec cannot be deployed as it is, before anything is sent.
fn check_spec(spec: &StackSpec) -> Result<()> {
    let secrets: HashSet<&str> = spec.secrets.iter().map(|s| s.name.as_str()).collect();
    let configs: HashSet<&str> = spec.configs.iter().map(|c| c.name.as_str()).collect();
    for service in &spec.services {
        let container = service
            .spec
            .task_template
            .as_ref()
            .and_then(|t| t.container_spec.as_ref());
        let image = container
            .and_then(|c| c.image.as_deref())
            .unwrap_or_default();
        if service.image.trim().is_empty() && image.trim().is_empty() {
            return Err(Error::MissingImage {
                service: service.name.clone(),
            });
        }
        let Some(container) = container else { continue };
        for secret in container.secrets.iter().flatten() {
            let name = secret.secret_name.as_deref().unwrap_or_default();
            if secret.secret_id.is_none() && !secrets.contains(name) {
                return Err(Error::UndefinedObject {
                    service: service.name.clone(),
                    kind: ObjectKind::Secret,
                    name: name.to_owned(),
                });
            }
        }
        for config in container.configs.iter().flatten() {
            let name = config.config_name.as_deref().unwrap_or_default();
            if config.config_id.is_none() && !configs.contains(name) {
                return Err(Error::UndefinedObject {
                    service: service.name.clone(),
                    kind: ObjectKind::Config,
                    name: name.to_owned(),
                });
            }
        }
    }
    Ok(())
}

impl Engine {
    /// Deploys `spec`, reporting progress through `progress` as the work
    /// happens (see the [module docs](self) for the steps). Deploys of the
    /// same stack through this engine run one at a time.
    ///
    /// With [`DeployOptions::wait`], returns only once every service of the
    /// spec converged, or fails naming the service and quoting its task's
    /// error.
    ///
    /// This is [`Engine::deploy_stacks`] with a batch of one.
    pub async fn deploy_stack(
        &self,
        spec: &StackSpec,
        options: &DeployOptions,
        progress: &(dyn Fn(DeployEvent) + Sync),
    ) -> Result<DeployReport> {
        let forward = |_: &str, event: DeployEvent| progress(event);
        let mut reports = self
            .deploy_stacks(std::slice::from_ref(spec), options, &forward)
            .await?;
        reports.pop().expect("a batch of one spec gives one result")
    }

    /// Deploys every spec of `specs` (each a different stack), reading the
    /// swarm once for all of them (services, networks, secrets and configs,
    /// one listing each): a stack that did not change costs no request of
    /// its own. Events come through `progress`
    /// tagged with their stack's name.
    ///
    /// The stacks' locks are taken first, in name order (so two batches
    /// cannot deadlock); then the stacks deploy side by side, at most
    /// [`CONCURRENT_STACKS`] sending their writes at a time, and wait for
    /// convergence side by side (with [`DeployOptions::wait`]).
    ///
    /// Returns one result per spec, in the order of `specs`: a stack that
    /// fails (an invalid spec, a missing external network, a service that
    /// does not converge) fails alone. A spec whose stack appears twice
    /// fails with [`Error::DuplicateStack`]. Fails as a whole only when the
    /// swarm cannot be read, or with [`Error::NotSwarmManager`].
    pub async fn deploy_stacks(
        &self,
        specs: &[StackSpec],
        options: &DeployOptions,
        progress: &(dyn Fn(&str, DeployEvent) + Sync),
    ) -> Result<Vec<Result<DeployReport>>> {
        let mut occurrences: HashMap<&str, usize> = HashMap::new();
        for spec in specs {
            *occurrences.entry(spec.name.as_str()).or_default() += 1;
        }
        // Checks that need no request come first: a spec that fails them is
        // left out of everything else.
        let mut results: Vec<Option<Result<DeployReport>>> = specs
            .iter()
            .map(|spec| {
                if occurrences[spec.name.as_str()] > 1 {
                    Some(Err(Error::DuplicateStack {
                        stack: spec.name.clone(),
                    }))
                } else {
                    check_spec(spec).err().map(Err)
                }
            })
            .collect();
        let valid: Vec<usize> = (0..specs.len())
            .filter(|&index| results[index].is_none())
            .collect();

        let mut names: Vec<&str> = valid.iter().map(|&i| specs[i].name.as_str()).collect();
        names.sort_unstable();
        let mut locks = Vec::with_capacity(names.len());
        for name in names {
            locks.push(self.lock_stack(name).await);
        }

        let valid_specs: Vec<&StackSpec> = valid.iter().map(|&i| &specs[i]).collect();
        // Fails with the docker CLI's message on an engine that is not a
        // swarm manager.
        let mut snapshot = SwarmSnapshot::read(self.docker(), &valid_specs).await?;
        let live: Vec<Vec<Service>> = valid_specs
            .iter()
            .map(|spec| snapshot.take_services(&spec.name))
            .collect();
        let docker = self.docker();
        let service_docker = options
            .registry_auth
            .as_ref()
            .map_or_else(|| docker.clone(), |auth| auth.apply_to(docker));
        let batch = Batch {
            options,
            snapshot,
            resolver: Resolver::new(service_docker.clone()),
            service_docker,
            permits: Semaphore::new(CONCURRENT_STACKS),
            progress,
        };
        let deploys = valid_specs
            .iter()
            .zip(live)
            .map(|(spec, live)| self.deploy_with_snapshot(&batch, spec, live));
        let outcomes = join_all(deploys).await;
        drop(locks);

        for (index, outcome) in valid.into_iter().zip(outcomes) {
            results[index] = Some(outcome);
        }
        Ok(results
            .into_iter()
            .map(|result| result.expect("every spec failed a check or was deployed"))
            .collect())
    }

    /// Deploys one stack of `batch` (`live`: its services, taken out of the
    /// snapshot).
    async fn deploy_with_snapshot(
        &self,
        batch: &Batch<'_>,
        spec: &StackSpec,
        live: Vec<Service>,
    ) -> Result<DeployReport> {
        let options = batch.options;
        let mut recorder = Recorder {
            progress: batch.progress,
            report: DeployReport {
                stack: spec.name.clone(),
                ..DeployReport::default()
            },
        };
        let watched = {
            // The semaphore is never closed, so a permit always comes; were
            // it closed, deploying unbounded would still be correct.
            let _permit = batch.permits.acquire().await.ok();
            self.write_stack(batch, spec, live, &mut recorder).await?
        };

        if let Some(timeout) = options.wait {
            let settings = WaitSettings {
                timeout,
                stability: options.stability,
                max_task_failures: options.max_task_failures,
                poll: Duration::from_millis(300),
            };
            converge::wait(self.docker(), watched, &settings, &mut |event| {
                recorder.emit(event)
            })
            .await?;
            recorder.report.converged = true;
            recorder.emit(DeployEvent::Converged);
        }

        self.remove_unused_versions(spec, &batch.snapshot, &mut recorder)
            .await?;
        Ok(recorder.report)
    }

    /// Steps 2 to 5 of the [module docs](self): everything that writes,
    /// decided from the snapshot, so that a stack that did not change sends
    /// nothing. Returns what to watch for convergence.
    async fn write_stack(
        &self,
        batch: &Batch<'_>,
        spec: &StackSpec,
        live: Vec<Service>,
        recorder: &mut Recorder<'_>,
    ) -> Result<Vec<Watched>> {
        let docker = self.docker();
        let snapshot = &batch.snapshot;
        network::check_external(docker, &snapshot.networks, &spec.networks).await?;
        let secret_plans = file_object::plan(
            docker,
            FileKind::Secret,
            &spec.secrets,
            snapshot.file_objects(FileKind::Secret),
        )
        .await?;
        let config_plans = file_object::plan(
            docker,
            FileKind::Config,
            &spec.configs,
            snapshot.file_objects(FileKind::Config),
        )
        .await?;

        let existing_networks = snapshot.stack_networks(&spec.name);
        network::create_missing(docker, &existing_networks, &spec.networks, &mut |name| {
            recorder.emit(DeployEvent::Created {
                kind: ObjectKind::Network,
                name: name.to_owned(),
            })
        })
        .await?;
        let secret_ids = file_object::apply(
            docker,
            FileKind::Secret,
            &spec.secrets,
            secret_plans,
            &mut |name, created| recorder.emit(file_event(FileKind::Secret, name, created)),
        )
        .await?;
        let config_ids = file_object::apply(
            docker,
            FileKind::Config,
            &spec.configs,
            config_plans,
            &mut |name, created| recorder.emit(file_event(FileKind::Config, name, created)),
        )
        .await?;

        let mut live_by_name: HashMap<String, Service> = live
            .into_iter()
            .map(|s| (service_name(&s).to_owned(), s))
            .collect();
        let pruned = if batch.options.prune {
            self.prune_services(spec, &mut live_by_name, recorder).await
        } else {
            Vec::new()
        };
        let ids = FileObjectIds {
            secrets: &secret_ids,
            configs: &config_ids,
        };
        let watched = self
            .deploy_services(batch, spec, ids, live_by_name, recorder)
            .await?;
        recorder.report.services.extend(pruned);
        Ok(watched)
    }

    /// Removes the live services (taken out of `live`) that the spec no
    /// longer has, sorted by name. Like the docker CLI, a failed removal is
    /// a warning and does not stop the deploy.
    async fn prune_services(
        &self,
        spec: &StackSpec,
        live: &mut HashMap<String, Service>,
        recorder: &mut Recorder<'_>,
    ) -> Vec<ServiceOutcome> {
        let wanted: HashSet<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
        let mut extra: Vec<String> = live
            .keys()
            .filter(|name| !wanted.contains(name.as_str()))
            .cloned()
            .collect();
        extra.sort();
        let mut pruned = Vec::with_capacity(extra.len());
        for name in extra {
            let Some(service) = live.remove(&name) else {
                continue;
            };
            let id = service.id.unwrap_or_default();
            let removed = self
                .docker()
                .call("delete_service", |docker| docker.delete_service(&id))
                .await;
            match removed.during("removing", ObjectKind::Service, &name) {
                Ok(()) => {
                    recorder.emit(DeployEvent::Service {
                        name: name.clone(),
                        action: ServiceAction::Removed,
                    });
                    pruned.push(ServiceOutcome {
                        name,
                        id,
                        action: ServiceAction::Removed,
                        image: String::new(),
                    });
                }
                Err(e) => recorder.emit(DeployEvent::Warning {
                    message: ErrorChain(&e).to_string(),
                }),
            }
        }
        pruned
    }

    /// Creates, updates or leaves alone every service of the spec, in order,
    /// stopping at the first failure. Returns what to watch for
    /// convergence.
    async fn deploy_services(
        &self,
        batch: &Batch<'_>,
        spec: &StackSpec,
        ids: FileObjectIds<'_>,
        mut live: HashMap<String, Service>,
        recorder: &mut Recorder<'_>,
    ) -> Result<Vec<Watched>> {
        let context = ServiceContext {
            docker: &batch.service_docker,
            resolve: batch.options.resolve_image,
            labels: &batch.options.labels,
            secret_ids: ids.secrets,
            config_ids: ids.configs,
            force: batch.options.force,
        };
        let mut watched = Vec::with_capacity(spec.services.len());
        for object in &spec.services {
            let live = live.remove(&object.name);
            let update_started_before = live
                .as_ref()
                .and_then(|s| s.update_status.as_ref())
                .and_then(|u| u.started_at.clone());
            let applied = service::deploy_service(&context, &batch.resolver, object, live).await?;
            for message in applied.warnings {
                recorder.emit(DeployEvent::Warning { message });
            }
            recorder.emit(DeployEvent::Service {
                name: object.name.clone(),
                action: applied.action,
            });
            watched.push(Watched {
                id: applied.id.clone(),
                name: object.name.clone(),
                changed: applied.action != ServiceAction::Unchanged,
                update_started_before,
            });
            recorder.report.services.push(ServiceOutcome {
                name: object.name.clone(),
                id: applied.id,
                action: applied.action,
                image: applied.image,
            });
        }
        Ok(watched)
    }

    /// Removes the old versions of the stack's secrets and configs (those
    /// the snapshot shows with the stack's label and the spec no longer
    /// names) that no service spec and no unfinished task refers to. A
    /// stack without old versions sends nothing here. After a detached
    /// deploy, the replaced tasks still run, so their old versions stay
    /// until a later deploy, which finds them in its snapshot.
    async fn remove_unused_versions(
        &self,
        spec: &StackSpec,
        snapshot: &SwarmSnapshot,
        recorder: &mut Recorder<'_>,
    ) -> Result<()> {
        let stale = [FileKind::Secret, FileKind::Config]
            .map(|kind| (kind, snapshot.stale_versions(kind, spec)));
        if stale.iter().all(|(_, objects)| objects.is_empty()) {
            return Ok(());
        }
        let docker = self.docker();
        // Any service may use any secret or config (by an external
        // reference), so every service and task counts, read afresh since
        // this deploy changed some.
        let services = docker
            .call("list_services", |docker| {
                docker.list_services(None::<ListServicesOptions>)
            })
            .await
            .during(
                "listing services to find unused versions of stack",
                ObjectKind::Service,
                &spec.name,
            )?;
        let tasks = docker
            .call("list_tasks", |docker| {
                docker.list_tasks(None::<ListTasksOptions>)
            })
            .await
            .during(
                "listing tasks to find unused versions of stack",
                ObjectKind::Task,
                &spec.name,
            )?;
        let in_use = file_object::referenced_ids(&services, &tasks);
        for (kind, objects) in stale {
            let mut removed = Vec::new();
            let failures =
                file_object::remove_unused(docker, kind, &objects, &in_use, &mut |name| {
                    removed.push(name.to_owned())
                })
                .await;
            for name in removed {
                recorder.emit(DeployEvent::Removed {
                    kind: kind.object_kind(),
                    name,
                });
            }
            for message in failures {
                recorder.emit(DeployEvent::Warning { message });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::{
        ServiceSpec, TaskSpec, TaskSpecContainerSpec, TaskSpecContainerSpecSecrets,
    };
    use indexmap::IndexMap;

    use super::*;
    use crate::compose::spec::{FileSpecObject, ServiceObject};

    fn stack(image: &str, secret_ref: Option<&str>, secrets: &[&str]) -> StackSpec {
        StackSpec {
            name: "s".into(),
            services: vec![ServiceObject {
                key: "web".into(),
                name: "s_web".into(),
                image: image.into(),
                spec: ServiceSpec {
                    task_template: Some(TaskSpec {
                        container_spec: Some(TaskSpecContainerSpec {
                            image: Some(image.into()),
                            secrets: secret_ref.map(|name| {
                                vec![TaskSpecContainerSpecSecrets {
                                    secret_name: Some(name.into()),
                                    ..Default::default()
                                }]
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            }],
            networks: vec![],
            secrets: secrets
                .iter()
                .map(|name| FileSpecObject {
                    key: "k".into(),
                    name: (*name).into(),
                    external: false,
                    labels: IndexMap::new(),
                    data: vec![],
                    driver: None,
                    driver_opts: IndexMap::new(),
                    template_driver: None,
                })
                .collect(),
            configs: vec![],
        }
    }

    #[test]
    fn spec_is_checked_before_anything_is_sent() {
        let cases = [
            (stack("busybox", None, &[]), None),
            (stack("busybox", Some("s_a"), &["s_a"]), None),
            (stack("", None, &[]), Some("service `s_web` has no image")),
            (stack("  ", None, &[]), Some("service `s_web` has no image")),
            (
                stack("busybox", Some("s_b"), &["s_a"]),
                Some("service `s_web` uses secret `s_b`, which the stack does not define"),
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                check_spec(&spec).err().map(|e| e.to_string()).as_deref(),
                expected
            );
        }
    }

    /// `voc serve` runs batches on the runtime's worker threads.
    #[test]
    fn a_batch_deploy_can_move_between_threads() {
        fn assert_send<T: Send>(_: &T) {}
        let docker = bollard::Docker::connect_with_http(
            "tcp://127.0.0.1:1",
            1,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let engine = Engine::from_docker(docker);
        let options = DeployOptions::default();
        let specs = [stack("busybox", None, &[])];
        assert_send(&engine.deploy_stacks(&specs, &options, &|_, _| {}));
    }

    /// Specs that fail their checks are answered without reading the swarm:
    /// the client here points at a closed port, so any request would fail
    /// the whole batch.
    #[tokio::test]
    async fn duplicate_and_invalid_specs_fail_alone_before_any_request() {
        let docker = bollard::Docker::connect_with_http(
            "tcp://127.0.0.1:1",
            1,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let engine = Engine::from_docker(docker);
        let options = DeployOptions::default();
        let mut other = stack("", None, &[]);
        other.name = "t".into();
        let specs = [
            stack("busybox", None, &[]),
            other,
            stack("busybox:1", None, &[]),
        ];
        let events = std::sync::Mutex::new(Vec::new());
        let results = engine
            .deploy_stacks(&specs, &options, &|stack, event| {
                events.lock().unwrap().push((stack.to_owned(), event))
            })
            .await
            .unwrap();
        let messages: Vec<String> = results
            .into_iter()
            .map(|r| r.unwrap_err().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "stack `s` appears more than once in the batch",
                "service `s_web` has no image",
                "stack `s` appears more than once in the batch",
            ]
        );
        assert_eq!(events.into_inner().unwrap(), []);
    }

    #[test]
    fn events_read_as_progress_lines() {
        let cases = [
            (
                DeployEvent::Created {
                    kind: ObjectKind::Network,
                    name: "s_default".into(),
                },
                "network s_default: created",
            ),
            (
                DeployEvent::Service {
                    name: "s_web".into(),
                    action: ServiceAction::Unchanged,
                },
                "service s_web: unchanged",
            ),
            (
                DeployEvent::Waiting {
                    service: "s_web".into(),
                    running: 1,
                    desired: 3,
                },
                "waiting: s_web 1/3 running",
            ),
            (DeployEvent::Converged, "converged"),
        ];
        for (event, line) in cases {
            assert_eq!(event.to_string(), line);
        }
    }
}
