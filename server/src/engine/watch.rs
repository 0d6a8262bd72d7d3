//! Reading everything `voc serve` shows about a target's stacks in a
//! constant number of Docker calls, whatever the number of stacks: one
//! `GET /services` and one `GET /tasks` (both filtered by the label
//! `com.docker.stack.namespace`), plus `GET /nodes` for node names and
//! `GET /info` for the engine's status, which callers ask for less often.
//! Nothing here is per stack or per service.
//!
//! What comes back is plain data ([`LiveService`], [`LiveTask`],
//! [`EngineInfo`]), detached from bollard's models, so that the live state
//! and the pure status code (`reconcile::status`) never see Docker types.
//!
//! [`comparable_hash`] is how a live spec is compared with the spec voc
//! would deploy: the daemon fills in defaults and replaces names by IDs,
//! so neither spec can be hashed as it is; both are first brought to the
//! same form.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{Service, ServiceSpec, Task};
use bollard::query_parameters::{ListImagesOptions, ListServicesOptions, ListTasksOptions};
use serde_json::Value;

use super::Engine;
use super::applied::COMMIT_LABEL;
use super::error::{ApiContext, ObjectKind, Result};
use super::reference;
use super::spec_hash::{SPEC_HASH_LABEL, spec_hash};
use super::stack::ServiceMode;
use super::task::{desired_state, observed_state, state_name, task_error};
use crate::compose::spec::{LABEL_IMAGE, LABEL_NAMESPACE};

/// One service of a stack, as the swarm has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveService {
    /// The service ID.
    pub id: String,
    /// The swarm name (`shop_web`).
    pub name: String,
    /// Its stack (the namespace label).
    pub stack: String,
    /// The image its spec runs (pinned to a digest when it was resolved).
    pub image: String,
    /// The image as written in the Compose file (`com.docker.stack.image`).
    pub compose_image: Option<String>,
    /// Replicated, global or a job.
    pub mode: ServiceMode,
    /// The replicas its spec asks for (replicated services; total
    /// completions for replicated jobs); `None` for global modes, whose
    /// count depends on the nodes.
    pub replicas: Option<u64>,
    /// The service's labels.
    pub labels: BTreeMap<String, String>,
    /// The `io.voc.spec-hash` label: the hash of the spec voc deployed.
    pub spec_hash_label: Option<String>,
    /// The `io.voc.commit` label: the commit of voc's last change to it.
    pub commit_label: Option<String>,
    /// [`comparable_hash`] of the live spec.
    pub comparable_hash: String,
    /// The rolling update's state (`updating`, `completed`, `paused`,
    /// `rollback_started`, ...), when one happened.
    pub update_state: Option<String>,
    /// The rolling update's message.
    pub update_message: Option<String>,
}

/// One task of a stack's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTask {
    /// The task ID.
    pub id: String,
    /// Its service's ID.
    pub service_id: String,
    /// Its slot (replicated services); `None` for global ones.
    pub slot: Option<u64>,
    /// The node ID it is assigned to (empty while unassigned).
    pub node_id: String,
    /// The observed state (`running`, `failed`).
    pub state: String,
    /// The state swarm wants (`running`, `shutdown`).
    pub desired_state: String,
    /// The status message (`started`, `task: non-zero exit (1)`).
    pub message: Option<String>,
    /// The error, if it failed.
    pub error: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: Option<String>,
    /// When it last changed (RFC 3339).
    pub updated_at: Option<String>,
    /// The image it runs.
    pub image: String,
}

impl LiveTask {
    /// True when it runs, as swarm wants it to.
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    /// True when it failed or was rejected.
    pub fn is_failure(&self) -> bool {
        self.state == "failed" || self.state == "rejected"
    }
}

/// The engine's own status, from `GET /info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// True when it is a swarm manager (can deploy stacks).
    pub swarm_manager: bool,
    /// The engine's version (`20.10.24+dfsg1`).
    pub version: String,
}

/// One image present on the engine, from `GET /images/json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// The image ID (`sha256:…`).
    pub id: String,
    /// Its tags (`web:1`).
    pub tags: Vec<String>,
    /// When it was created (Unix seconds).
    pub created: i64,
    /// Its size in bytes.
    pub size: i64,
}

fn stacks_filter() -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![LABEL_NAMESPACE.to_owned()])])
}

impl Engine {
    /// Every service of every stack, in one `GET /services`.
    pub async fn read_stack_services(&self) -> Result<Vec<LiveService>> {
        let options = ListServicesOptions {
            filters: Some(stacks_filter()),
            status: Some(false),
        };
        let services = self
            .docker()
            .call("list_services", |docker| {
                docker.list_services(Some(options))
            })
            .await
            .during("listing", ObjectKind::Service, "all stacks")?;
        Ok(services.iter().filter_map(to_live_service).collect())
    }

    /// Every task of every stack, current and past, in one `GET /tasks`
    /// (tasks carry their service's labels).
    pub async fn read_stack_tasks(&self) -> Result<Vec<LiveTask>> {
        let options = ListTasksOptions {
            filters: Some(stacks_filter()),
        };
        let tasks = self
            .docker()
            .call("list_tasks", |docker| docker.list_tasks(Some(options)))
            .await
            .during("listing tasks of", ObjectKind::Task, "all stacks")?;
        Ok(tasks.iter().map(to_live_task).collect())
    }

    /// The hostname of every node, by node ID, in one `GET /nodes`.
    pub async fn node_names(&self) -> Result<HashMap<String, String>> {
        let nodes = self
            .docker()
            .call("list_nodes", |docker| {
                docker.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            })
            .await
            .during("listing", ObjectKind::Engine, "nodes")?;
        Ok(nodes
            .into_iter()
            .filter_map(|node| Some((node.id?, node.description?.hostname?)))
            .collect())
    }

    /// Whether the engine is a swarm manager, and its version, in one
    /// `GET /info` (slow: the daemon asks runc and containerd for their
    /// versions, so callers ask rarely).
    pub async fn engine_info(&self) -> Result<EngineInfo> {
        let info = self
            .docker()
            .call("info", |docker| docker.info())
            .await
            .during("reading", ObjectKind::Engine, "/info")?;
        Ok(EngineInfo {
            swarm_manager: info
                .swarm
                .and_then(|swarm| swarm.control_available)
                .unwrap_or(false),
            version: info.server_version.unwrap_or_default(),
        })
    }

    /// The images present on the engine (tagged ones), in one
    /// `GET /images/json`.
    pub async fn local_images(&self) -> Result<Vec<LocalImage>> {
        let images = self
            .docker()
            .call("list_images", |docker| {
                docker.list_images(Some(ListImagesOptions::default()))
            })
            .await
            .during("listing", ObjectKind::Image, "local images")?;
        Ok(images
            .into_iter()
            .map(|image| LocalImage {
                id: image.id,
                tags: image
                    .repo_tags
                    .into_iter()
                    .filter(|tag| tag != "<none>:<none>")
                    .collect(),
                created: image.created,
                size: image.size,
            })
            .collect())
    }
}

fn to_live_service(service: &Service) -> Option<LiveService> {
    let spec = service.spec.as_ref()?;
    let labels: BTreeMap<String, String> = spec
        .labels
        .as_ref()
        .map(|labels| labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let stack = labels.get(LABEL_NAMESPACE)?.clone();
    let mode = ServiceMode::of(spec.mode.as_ref());
    let replicas = spec.mode.as_ref().and_then(|m| match mode {
        // Swarm treats an unset count as one replica.
        ServiceMode::Replicated => Some(
            m.replicated
                .as_ref()
                .and_then(|r| r.replicas)
                .map_or(1, |n| n.max(0) as u64),
        ),
        ServiceMode::ReplicatedJob => Some(
            m.replicated_job
                .as_ref()
                .and_then(|job| job.total_completions)
                .map_or(1, |n| n.max(0) as u64),
        ),
        ServiceMode::Global | ServiceMode::GlobalJob => None,
    });
    let update = service.update_status.as_ref();
    Some(LiveService {
        id: service.id.clone().unwrap_or_default(),
        name: spec.name.clone().unwrap_or_default(),
        stack,
        image: spec
            .task_template
            .as_ref()
            .and_then(|t| t.container_spec.as_ref())
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        compose_image: labels.get(LABEL_IMAGE).cloned(),
        mode,
        replicas: replicas.or(match mode {
            ServiceMode::Replicated => Some(1),
            _ => None,
        }),
        spec_hash_label: labels.get(SPEC_HASH_LABEL).cloned(),
        commit_label: labels.get(COMMIT_LABEL).cloned(),
        labels,
        comparable_hash: comparable_hash(spec),
        update_state: update
            .and_then(|u| u.state)
            .map(|state| state.to_string())
            .filter(|state| !state.is_empty()),
        update_message: update
            .and_then(|u| u.message.clone())
            .filter(|m| !m.is_empty()),
    })
}

fn to_live_task(task: &Task) -> LiveTask {
    let status = task.status.as_ref();
    LiveTask {
        id: task.id.clone().unwrap_or_default(),
        service_id: task.service_id.clone().unwrap_or_default(),
        slot: task.slot.filter(|slot| *slot > 0).map(|slot| slot as u64),
        node_id: task.node_id.clone().unwrap_or_default(),
        state: state_name(observed_state(task)).to_owned(),
        desired_state: state_name(desired_state(task)).to_owned(),
        message: status
            .and_then(|s| s.message.clone())
            .filter(|m| !m.is_empty()),
        error: task_error(task).map(str::to_owned),
        created_at: task.created_at.clone(),
        updated_at: task.updated_at.clone(),
        image: task
            .spec
            .as_ref()
            .and_then(|s| s.container_spec.as_ref())
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
    }
}

/// Makes a default value (JSON values cannot be built in a `const`).
type DefaultValue = fn() -> Value;

/// Values the daemon writes into a spec where the sender left the field
/// unset (Docker 20.10's defaults), by path from the spec's root; `[]`
/// stands for every item of a list.
const DAEMON_DEFAULTS: &[(&str, DefaultValue)] = &[
    ("TaskTemplate.ContainerSpec.StopGracePeriod", || {
        Value::from(10_000_000_000u64)
    }),
    ("TaskTemplate.ContainerSpec.Isolation", || {
        Value::from("default")
    }),
    ("TaskTemplate.RestartPolicy.Condition", || {
        Value::from("any")
    }),
    ("TaskTemplate.RestartPolicy.Delay", || {
        Value::from(5_000_000_000u64)
    }),
    ("TaskTemplate.Runtime", || Value::from("container")),
    ("UpdateConfig.Parallelism", || Value::from(1)),
    ("UpdateConfig.FailureAction", || Value::from("pause")),
    ("UpdateConfig.Monitor", || Value::from(5_000_000_000u64)),
    ("UpdateConfig.Order", || Value::from("stop-first")),
    ("RollbackConfig.Parallelism", || Value::from(1)),
    ("RollbackConfig.FailureAction", || Value::from("pause")),
    ("RollbackConfig.Monitor", || Value::from(5_000_000_000u64)),
    ("RollbackConfig.Order", || Value::from("stop-first")),
    ("Mode.ReplicatedJob.MaxConcurrent", || Value::from(1)),
    ("Mode.ReplicatedJob.TotalCompletions", || Value::from(1)),
    ("EndpointSpec.Mode", || Value::from("vip")),
    ("EndpointSpec.Ports.[].Protocol", || Value::from("tcp")),
    ("EndpointSpec.Ports.[].PublishMode", || {
        Value::from("ingress")
    }),
];

/// What voc or the daemon fills in at deploy time and the Compose file
/// does not decide, or what cannot be read back, by path: network, secret
/// and config IDs (the spec names them; the daemon answers with IDs, also
/// for a credential spec's config), `ForceUpdate` (`docker service update
/// --force` restarts without changing anything), the platforms voc adds
/// when it pins an image, a mount's `Consistency` (the daemon drops it on
/// Linux), and the health check: the daemon answers it as `Healthcheck`,
/// which bollard's `HealthCheck` field does not read, so a live spec never
/// has one (a hand change to a health check is not seen).
///
/// `tests/e2e/differential.rs` deploys every corpus file and checks that
/// its live spec compares equal to the deployed one: a field missing here
/// shows there.
const FILLED_IN: &[&str] = &[
    "TaskTemplate.Networks.[].Target",
    "TaskTemplate.ContainerSpec.Secrets.[].SecretID",
    "TaskTemplate.ContainerSpec.Configs.[].ConfigID",
    "TaskTemplate.ContainerSpec.Privileges.CredentialSpec.Config",
    "TaskTemplate.ContainerSpec.Mounts.[].Consistency",
    "TaskTemplate.ContainerSpec.HealthCheck",
    "TaskTemplate.ForceUpdate",
    "TaskTemplate.Placement.Platforms",
];

/// A hash of `spec` that is the same for the spec voc sends and for what
/// the daemon returns once it has it, and differs when someone changed the
/// service since (`docker service update --env-add`, `--image`,
/// `--replicas`, ...). Both sides are brought to one form first: voc's
/// `io.voc.*` labels removed, the image without its digest and with its
/// default tag, the IDs and defaults the daemon fills in removed (see
/// `DAEMON_DEFAULTS` and `FILLED_IN`), then every empty value (null, `""`,
/// `0`, `false`, `{}`, `[]`) dropped. A hand change that sets a field back
/// to the daemon's default is not seen; every other one is.
pub fn comparable_hash(spec: &ServiceSpec) -> String {
    let spec: ServiceSpec = serde_json::from_value(comparable_form(spec)).unwrap_or_default();
    spec_hash(&spec)
}

/// The form [`comparable_hash`] hashes, as JSON: to show where two specs
/// differ.
pub fn comparable_form(spec: &ServiceSpec) -> Value {
    let mut spec = spec.clone();
    if let Some(labels) = spec.labels.as_mut() {
        labels.retain(|key, _| !key.starts_with("io.voc."));
    }
    if let Some(container) = spec
        .task_template
        .as_mut()
        .and_then(|t| t.container_spec.as_mut())
        && let Some(image) = container.image.as_mut()
    {
        let without_digest = image.split('@').next().unwrap_or_default();
        *image = reference::with_default_tag(without_digest);
    }
    // Zero replicas is a count, not an unset field: keep it through the
    // removal of empty values below (unset means one, as for swarm).
    let replicas = spec
        .mode
        .as_ref()
        .and_then(|m| m.replicated.as_ref())
        .map(|r| r.replicas.unwrap_or(1));
    // Serialising generated structs of strings, numbers and maps cannot fail.
    let mut value = serde_json::to_value(&spec).unwrap_or(Value::Null);
    for path in FILLED_IN {
        remove_at(&mut value, &split(path), &|_| true);
    }
    for (path, default) in DAEMON_DEFAULTS {
        let default = default();
        remove_at(&mut value, &split(path), &|v| *v == default);
    }
    drop_empty(&mut value);
    if let (Some(replicas), Value::Object(root)) = (replicas, &mut value) {
        root.insert(
            "Mode".to_owned(),
            serde_json::json!({"Replicated": {"Replicas": replicas}}),
        );
    }
    value
}

fn split(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Removes the field at `path` (`[]`: every item of a list) when `matches`
/// says so.
fn remove_at(value: &mut Value, path: &[&str], matches: &dyn Fn(&Value) -> bool) {
    match path {
        [] => {}
        ["[]", rest @ ..] => {
            if let Value::Array(items) = value {
                for item in items {
                    remove_at(item, rest, matches);
                }
            }
        }
        [last] => {
            if let Value::Object(map) = value
                && map.get(*last).is_some_and(matches)
            {
                map.remove(*last);
            }
        }
        [key, rest @ ..] => {
            if let Some(inner) = value.get_mut(*key) {
                remove_at(inner, rest, matches);
            }
        }
    }
}

/// Drops every empty value from objects, bottom up (list items stay, so
/// that positions keep their meaning).
fn drop_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for inner in map.values_mut() {
                drop_empty(inner);
            }
            map.retain(|_, inner| !is_empty(inner));
        }
        Value::Array(items) => items.iter_mut().for_each(drop_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec the converter makes for a small service (as `voc stack
    /// config --specs` prints it).
    fn sent() -> ServiceSpec {
        serde_json::from_value(serde_json::json!({
            "Name": "probe_web",
            "Labels": {
                "com.docker.stack.namespace": "probe",
                "com.docker.stack.image": "voc-test/busybox:latest"
            },
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": "voc-test/busybox:latest",
                    "Labels": {"com.docker.stack.namespace": "probe"},
                    "Args": ["sleep", "3600"],
                    "Env": ["A=1"],
                    "Privileges": {},
                    "StopGracePeriod": 1000000000u64,
                    "Secrets": [{"File": {"Name": "s", "UID": "0", "GID": "0", "Mode": 292},
                                 "SecretName": "probe_s"}]
                },
                "Resources": {},
                "Placement": {},
                "ForceUpdate": 0,
                "Networks": [{"Target": "probe_default", "Aliases": ["web"]}]
            },
            "Mode": {"Replicated": {}},
            "EndpointSpec": {
                "Ports": [{"TargetPort": 80, "PublishedPort": 18081, "PublishMode": "host"}]
            }
        }))
        .unwrap()
    }

    /// What Docker 20.10 returns for it once voc deployed it (from `docker
    /// service inspect`, with a pinned image as `--resolve-image always`
    /// leaves it).
    fn returned() -> ServiceSpec {
        serde_json::from_value(serde_json::json!({
            "Name": "probe_web",
            "Labels": {
                "com.docker.stack.image": "voc-test/busybox:latest",
                "com.docker.stack.namespace": "probe",
                "io.voc.spec-hash": "45e084cf",
                "io.voc.commit": "0123456789abcdef0123456789abcdef01234567"
            },
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": "voc-test/busybox:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    "Labels": {"com.docker.stack.namespace": "probe"},
                    "Args": ["sleep", "3600"],
                    "Env": ["A=1"],
                    "Privileges": {"CredentialSpec": null, "SELinuxContext": null, "NoNewPrivileges": false},
                    "StopGracePeriod": 1000000000u64,
                    "DNSConfig": {},
                    "Isolation": "default",
                    "Secrets": [{"File": {"Name": "s", "UID": "0", "GID": "0", "Mode": 292},
                                 "SecretID": "x1y2z3", "SecretName": "probe_s"}]
                },
                "Resources": {},
                "RestartPolicy": {"Condition": "any", "Delay": 5000000000u64, "MaxAttempts": 0},
                "Placement": {"Platforms": [{"Architecture": "amd64", "OS": "linux"}]},
                "Networks": [{"Target": "qnkbz9ios35s79aaqa12oyxc1", "Aliases": ["web"]}],
                "ForceUpdate": 0,
                "Runtime": "container"
            },
            "Mode": {"Replicated": {"Replicas": 1}},
            "UpdateConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5000000000u64,
                             "MaxFailureRatio": 0, "Order": "stop-first"},
            "RollbackConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5000000000u64,
                               "MaxFailureRatio": 0, "Order": "stop-first"},
            "EndpointSpec": {
                "Mode": "vip",
                "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18081,
                           "PublishMode": "host"}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_spec_sent_and_the_spec_the_daemon_returns_compare_equal() {
        assert_eq!(comparable_hash(&sent()), comparable_hash(&returned()));
    }

    #[test]
    fn a_forced_update_is_not_a_change() {
        let mut forced = returned();
        forced.task_template.as_mut().unwrap().force_update = Some(3);
        assert_eq!(comparable_hash(&sent()), comparable_hash(&forced));
    }

    #[test]
    fn every_hand_change_compares_different() {
        type Change = Box<dyn Fn(&mut ServiceSpec)>;
        let changes: Vec<(&str, Change)> = vec![
            (
                "env added",
                Box::new(|s| container(s).env.as_mut().unwrap().push("X=1".into())),
            ),
            (
                "env changed",
                Box::new(|s| container(s).env = Some(vec!["A=2".into()])),
            ),
            (
                "image",
                Box::new(|s| container(s).image = Some("voc-test/busybox:other".into())),
            ),
            (
                "replicas",
                Box::new(|s| {
                    s.mode
                        .as_mut()
                        .unwrap()
                        .replicated
                        .as_mut()
                        .unwrap()
                        .replicas = Some(3)
                }),
            ),
            (
                "scaled to zero",
                Box::new(|s| {
                    s.mode
                        .as_mut()
                        .unwrap()
                        .replicated
                        .as_mut()
                        .unwrap()
                        .replicas = Some(0)
                }),
            ),
            (
                "label",
                Box::new(|s| {
                    s.labels.as_mut().unwrap().insert("team".into(), "a".into());
                }),
            ),
            (
                "args",
                Box::new(|s| container(s).args = Some(vec!["sleep".into(), "1".into()])),
            ),
            (
                "stop grace period back to default",
                Box::new(|s| container(s).stop_grace_period = Some(10_000_000_000)),
            ),
            (
                "port",
                Box::new(|s| {
                    s.endpoint_spec.as_mut().unwrap().ports.as_mut().unwrap()[0].published_port =
                        Some(9)
                }),
            ),
            (
                "network added",
                Box::new(|s| {
                    s.task_template
                        .as_mut()
                        .unwrap()
                        .networks
                        .as_mut()
                        .unwrap()
                        .push(Default::default())
                }),
            ),
            (
                "restart policy",
                Box::new(|s| {
                    s.task_template
                        .as_mut()
                        .unwrap()
                        .restart_policy
                        .as_mut()
                        .unwrap()
                        .max_attempts = Some(3)
                }),
            ),
            (
                "update order",
                Box::new(|s| {
                    s.update_config.as_mut().unwrap().order =
                        Some(bollard::models::ServiceSpecUpdateConfigOrderEnum::START_FIRST)
                }),
            ),
        ];
        let base = comparable_hash(&returned());
        for (what, change) in changes {
            let mut changed = returned();
            change(&mut changed);
            assert_ne!(comparable_hash(&changed), base, "{what}");
        }
    }

    fn container(spec: &mut ServiceSpec) -> &mut bollard::models::TaskSpecContainerSpec {
        spec.task_template
            .as_mut()
            .unwrap()
            .container_spec
            .as_mut()
            .unwrap()
    }

    #[test]
    fn an_image_without_tag_compares_equal_to_its_latest_pinned_form() {
        let mut written = sent();
        container(&mut written).image = Some("voc-test/busybox".into());
        assert_eq!(comparable_hash(&written), comparable_hash(&returned()));
    }

    #[test]
    fn tasks_are_read_into_plain_data() {
        let task: Task = serde_json::from_value(serde_json::json!({
            "ID": "t1", "ServiceID": "s1", "Slot": 2, "NodeID": "n1",
            "CreatedAt": "2026-11-26T03:00:00Z", "UpdatedAt": "2026-11-26T03:00:05Z",
            "DesiredState": "shutdown",
            "Status": {"State": "failed", "Message": "started", "Err": "task: non-zero exit (1)"},
            "Spec": {"ContainerSpec": {"Image": "web:1"}}
        }))
        .unwrap();
        let live = to_live_task(&task);
        assert_eq!(live.id, "t1");
        assert_eq!(live.slot, Some(2));
        assert_eq!(live.state, "failed");
        assert_eq!(live.desired_state, "shutdown");
        assert_eq!(live.error.as_deref(), Some("task: non-zero exit (1)"));
        assert_eq!(live.message.as_deref(), Some("started"));
        assert_eq!(live.image, "web:1");
        assert!(live.is_failure() && !live.is_running());
    }

    #[test]
    fn services_outside_stacks_are_skipped_and_labels_are_read() {
        let mut spec = returned();
        let service = Service {
            id: Some("s1".into()),
            spec: Some(spec.clone()),
            ..Default::default()
        };
        let live = to_live_service(&service).unwrap();
        assert_eq!(live.stack, "probe");
        assert_eq!(live.replicas, Some(1));
        assert_eq!(live.spec_hash_label.as_deref(), Some("45e084cf"));
        assert_eq!(
            live.commit_label.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(live.comparable_hash, comparable_hash(&sent()));
        spec.labels.as_mut().unwrap().remove(LABEL_NAMESPACE);
        let outside = Service {
            spec: Some(spec),
            ..Default::default()
        };
        assert_eq!(to_live_service(&outside), None);
    }
}
