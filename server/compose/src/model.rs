//! The typed, normalised Compose model.
//!
//! The loader accepts every form the Compose v3 format allows (lists or maps
//! for `environment` and `labels`, short or long syntax for `ports`,
//! `volumes`, `secrets` and `configs`, strings or lists for `command`, ...)
//! and writes them here in one canonical form, so the converter never has to
//! know about the alternatives. Durations, byte sizes and CPU counts stay
//! strings as written (after interpolation): the converter parses them, so
//! its errors can name the field.
//!
//! Maps keep the order of the file ([`IndexMap`]); where Docker needs a
//! sorted order the converter sorts.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A loaded Compose file (or several merged ones), interpolated and validated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComposeFile {
    /// The `version` string, if the file has one.
    pub version: Option<String>,
    /// Services by key.
    pub services: IndexMap<String, Service>,
    /// Top-level networks by key.
    pub networks: IndexMap<String, Network>,
    /// Top-level named volumes by key.
    pub volumes: IndexMap<String, Volume>,
    /// Top-level secrets by key.
    pub secrets: IndexMap<String, FileObject>,
    /// Top-level configs by key.
    pub configs: IndexMap<String, FileObject>,
    /// The files the loader read besides the Compose files themselves
    /// (`env_file`s, secret and config files), absolute: a change to any of
    /// them changes the stack.
    pub files_read: Vec<PathBuf>,
}

/// One service, with every field the swarm converter uses.
///
/// Keys that `docker stack deploy` ignores (`build`, `container_name`,
/// `links`, ...) are not kept: the loader turns them into warnings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// `image`, exactly as written (after interpolation).
    pub image: Option<String>,
    /// `entrypoint`, split shell-like when it was a string.
    pub entrypoint: Option<Vec<String>>,
    /// `command`, split shell-like when it was a string.
    pub command: Option<Vec<String>>,
    /// `environment` merged over the `env_file`s (which come first, in
    /// order). A `None` value is a variable named without `=`, which the
    /// loader could not resolve from the variables map.
    pub environment: IndexMap<String, Option<String>>,
    /// Service-level `labels` (container labels).
    pub labels: IndexMap<String, String>,
    /// `ports`, in long form.
    pub ports: Vec<Port>,
    /// `networks`, by network key; `None` when listed without options.
    pub networks: Option<IndexMap<String, Option<ServiceNetwork>>>,
    /// `volumes`, in long form; relative bind sources already absolute.
    pub volumes: Vec<ServiceVolume>,
    /// `secrets` references, in long form.
    pub secrets: Vec<FileReference>,
    /// `configs` references, in long form.
    pub configs: Vec<FileReference>,
    /// `healthcheck`.
    pub healthcheck: Option<Healthcheck>,
    /// `deploy`.
    pub deploy: Option<Deploy>,
    /// `logging`.
    pub logging: Option<Logging>,
    /// `restart` (used as the restart policy when `deploy.restart_policy` is absent).
    pub restart: Option<String>,
    /// `hostname`.
    pub hostname: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// `working_dir`.
    pub working_dir: Option<String>,
    /// `stop_grace_period`, a Go duration string.
    pub stop_grace_period: Option<String>,
    /// `stop_signal`.
    pub stop_signal: Option<String>,
    /// `cap_add`.
    pub cap_add: Vec<String>,
    /// `cap_drop`.
    pub cap_drop: Vec<String>,
    /// `sysctls`.
    pub sysctls: IndexMap<String, String>,
    /// `ulimits`, by name.
    pub ulimits: IndexMap<String, Ulimit>,
    /// `init`.
    pub init: Option<bool>,
    /// `dns` (a string is a one-item list).
    pub dns: Vec<String>,
    /// `dns_search` (a string is a one-item list).
    pub dns_search: Vec<String>,
    /// `dns_opt`.
    pub dns_opt: Vec<String>,
    /// `extra_hosts`, as `host:ip` strings (a map is turned into that form).
    pub extra_hosts: Vec<String>,
    /// `read_only`.
    pub read_only: bool,
    /// `tty`.
    pub tty: bool,
    /// `stdin_open`.
    pub stdin_open: bool,
    /// `isolation`.
    pub isolation: Option<String>,
    /// `credential_spec`.
    pub credential_spec: Option<CredentialSpec>,
    /// `tmpfs` (service level), as `path[:options]` strings.
    pub tmpfs: Vec<String>,
}

/// A published or exposed port, long form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// `target`: the container port.
    pub target: u32,
    /// `published`: the port on the swarm; `None` when not published.
    pub published: Option<u32>,
    /// `protocol` (`tcp`, `udp`, `sctp`); `None` means tcp.
    pub protocol: Option<String>,
    /// `mode` (`ingress` or `host`); `None` means ingress.
    pub mode: Option<String>,
}

/// Options of a service's attachment to one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceNetwork {
    /// `aliases`.
    pub aliases: Vec<String>,
    /// `ipv4_address`.
    pub ipv4_address: Option<String>,
    /// `ipv6_address`.
    pub ipv6_address: Option<String>,
    /// `driver_opts` (Compose 3.13): options for the network driver on this
    /// attachment, numbers already turned into strings.
    pub driver_opts: IndexMap<String, String>,
}

/// A service's mount, long form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceVolume {
    /// `type`: `volume`, `bind`, `tmpfs` or `npipe`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `source`: a volume key, an absolute host path, or `None` (anonymous
    /// volume, tmpfs).
    pub source: Option<String>,
    /// `target`: the path in the container.
    pub target: String,
    /// `read_only`.
    pub read_only: bool,
    /// `consistency`.
    pub consistency: Option<String>,
    /// `bind.propagation`.
    pub bind_propagation: Option<String>,
    /// `volume.nocopy`.
    pub volume_nocopy: bool,
    /// `tmpfs.size` in bytes.
    pub tmpfs_size: Option<i64>,
}

/// A service's reference to a secret or config, long form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileReference {
    /// `source`: the key of the top-level secret or config.
    pub source: String,
    /// `target`: file name or path in the container; `None` means the source key.
    pub target: Option<String>,
    /// `uid`, as written (a string in the schema).
    pub uid: Option<String>,
    /// `gid`, as written.
    pub gid: Option<String>,
    /// `mode`, e.g. `0o440` given as `0440` or `288`.
    pub mode: Option<u32>,
}

/// `healthcheck`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `test`, normalised: a string becomes `["CMD-SHELL", s]`;
    /// `disable: true` becomes `["NONE"]`.
    pub test: Option<Vec<String>>,
    /// `interval`, a Go duration string.
    pub interval: Option<String>,
    /// `timeout`.
    pub timeout: Option<String>,
    /// `start_period`.
    pub start_period: Option<String>,
    /// `start_interval`.
    pub start_interval: Option<String>,
    /// `retries`.
    pub retries: Option<u64>,
}

/// `deploy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    /// `mode`: `replicated`, `global`, `replicated-job`, `global-job`.
    pub mode: Option<String>,
    /// `replicas`.
    pub replicas: Option<u64>,
    /// `labels` (service labels).
    pub labels: IndexMap<String, String>,
    /// `update_config`.
    pub update_config: Option<UpdateConfig>,
    /// `rollback_config`.
    pub rollback_config: Option<UpdateConfig>,
    /// `resources`.
    pub resources: Resources,
    /// `restart_policy`.
    pub restart_policy: Option<RestartPolicy>,
    /// `placement`.
    pub placement: Placement,
    /// `endpoint_mode`: `vip` or `dnsrr`.
    pub endpoint_mode: Option<String>,
}

/// `update_config` and `rollback_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfig {
    /// `parallelism`.
    pub parallelism: Option<u64>,
    /// `delay`.
    pub delay: Option<String>,
    /// `failure_action`.
    pub failure_action: Option<String>,
    /// `monitor`.
    pub monitor: Option<String>,
    /// `max_failure_ratio`.
    pub max_failure_ratio: Option<f64>,
    /// `order`: `start-first` or `stop-first`.
    pub order: Option<String>,
}

/// `resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// `limits`.
    pub limits: Option<ResourceLimit>,
    /// `reservations`.
    pub reservations: Option<ResourceLimit>,
}

/// `resources.limits` or `resources.reservations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceLimit {
    /// `cpus`, as written (`"0.5"`).
    pub cpus: Option<String>,
    /// `memory` in bytes.
    pub memory: Option<i64>,
    /// `pids` (limits only).
    pub pids: Option<i64>,
    /// `generic_resources` (reservations only).
    pub generic_resources: Vec<GenericResource>,
}

/// One `generic_resources` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenericResource {
    /// `discrete_resource_spec.kind`.
    pub kind: String,
    /// `discrete_resource_spec.value`.
    pub value: i64,
}

/// `restart_policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// `condition`: `none`, `on-failure`, `any`.
    pub condition: Option<String>,
    /// `delay`.
    pub delay: Option<String>,
    /// `max_attempts`.
    pub max_attempts: Option<u64>,
    /// `window`.
    pub window: Option<String>,
}

/// `placement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// `constraints`.
    pub constraints: Vec<String>,
    /// `preferences`, the `spread` value of each.
    pub preferences: Vec<String>,
    /// `max_replicas_per_node`.
    pub max_replicas_per_node: Option<u64>,
}

/// `logging`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logging {
    /// `driver`.
    pub driver: Option<String>,
    /// `options`.
    pub options: IndexMap<String, String>,
}

/// One `ulimits` entry: a single number or a soft/hard pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// `soft` (or the single value).
    pub soft: i64,
    /// `hard` (or the single value).
    pub hard: i64,
}

/// `credential_spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialSpec {
    /// `config`.
    pub config: Option<String>,
    /// `file`.
    pub file: Option<String>,
    /// `registry`.
    pub registry: Option<String>,
}

/// A top-level network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// `name`: the Docker name when given (used verbatim).
    pub name: Option<String>,
    /// `external` (with `external.name` folded into `name`).
    pub external: bool,
    /// `driver`.
    pub driver: Option<String>,
    /// `driver_opts`.
    pub driver_opts: IndexMap<String, String>,
    /// `ipam`.
    pub ipam: Option<Ipam>,
    /// `internal`.
    pub internal: bool,
    /// `attachable`.
    pub attachable: bool,
    /// `labels`.
    pub labels: IndexMap<String, String>,
}

/// `ipam` of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ipam {
    /// `driver`.
    pub driver: Option<String>,
    /// `config`: the `subnet` of each entry.
    pub subnets: Vec<String>,
}

/// A top-level named volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// `name`: the Docker name when given.
    pub name: Option<String>,
    /// `external` (with `external.name` folded into `name`).
    pub external: bool,
    /// `driver`.
    pub driver: Option<String>,
    /// `driver_opts`.
    pub driver_opts: IndexMap<String, String>,
    /// `labels`.
    pub labels: IndexMap<String, String>,
}

/// A top-level secret or config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileObject {
    /// `name`: the Docker name when given.
    pub name: Option<String>,
    /// `external` (with `external.name` folded into `name`).
    pub external: bool,
    /// `file`, absolute.
    pub file: Option<PathBuf>,
    /// The content of `file`, read by the loader.
    pub content: Option<Vec<u8>>,
    /// `labels`.
    pub labels: IndexMap<String, String>,
    /// `driver` (secrets only).
    pub driver: Option<String>,
    /// `driver_opts` (secrets only).
    pub driver_opts: IndexMap<String, String>,
    /// `template_driver`.
    pub template_driver: Option<String>,
}
