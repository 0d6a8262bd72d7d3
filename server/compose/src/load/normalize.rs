//! From the validated YAML tree of one file to the typed model
//! ([`crate::model`]), in the model's canonical forms: short syntaxes
//! expanded, lists-or-maps made maps, numbers turned into strings the way
//! the CLI does, `env_file`s read and merged under `environment`, relative
//! paths made absolute, secret and config files read.
//!
//! The tree was validated before, but normalisation still runs on a tree
//! with problems (so one pass reports as much as possible): values of the
//! wrong type are skipped here, their problem is already recorded.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::Variables;
use super::env_file::parse_env_file;
use super::field_path::FieldPath;
use super::host_path::{self, is_windows_absolute};
use super::port_spec::parse_port_spec;
use super::quantity::parse_bytes;
use super::report::Report;
use super::schema::integer;
use super::shell_words::split_words;
use super::tree::{Node, Value};
use super::volume_spec::parse_volume_spec;
use crate::model::{
    ComposeFile, CredentialSpec, Deploy, FileObject, FileReference, GenericResource, Healthcheck,
    Ipam, Logging, Network, Placement, Port, ResourceLimit, Resources, RestartPolicy, Service,
    ServiceNetwork, ServiceVolume, Ulimit, UpdateConfig, Volume,
};

/// Service keys `docker stack deploy` ignores, with a warning.
const UNSUPPORTED: &[&str] = &[
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Service keys the CLI calls deprecated, with its explanation.
const DEPRECATED: &[(&str, &str)] = &[
    (
        "container_name",
        "Setting the container name is not supported.",
    ),
    (
        "expose",
        "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ),
];

/// Turns one file's tree into the model.
pub(crate) struct Normalizer<'a> {
    /// Where problems and warnings go.
    pub report: &'a mut Report,
    /// The variables (for `environment` entries without a value and `~`).
    pub variables: &'a Variables,
    /// The folder relative paths are resolved against.
    pub working_dir: &'a Path,
    /// The 3.x minor version of the file.
    pub minor: u8,
}

impl Normalizer<'_> {
    /// The model of a whole file.
    pub fn file(&mut self, root: &Node) -> ComposeFile {
        let mut file = ComposeFile {
            version: root
                .get("version")
                .and_then(Node::as_str)
                .map(str::to_owned),
            ..ComposeFile::default()
        };
        let top = FieldPath::root();
        for (key, node) in entries(root.get("services")) {
            let service = self.service(node, &top.key("services").key(key), &mut file.files_read);
            file.services.insert(key.to_owned(), service);
        }
        for (key, node) in entries(root.get("networks")) {
            let network = self.network(key, node, &top.key("networks").key(key));
            file.networks.insert(key.to_owned(), network);
        }
        for (key, node) in entries(root.get("volumes")) {
            let volume = self.volume(key, node, &top.key("volumes").key(key));
            file.volumes.insert(key.to_owned(), volume);
        }
        for (kind, section) in [("secret", "secrets"), ("config", "configs")] {
            for entry in root.get(section).and_then(Node::as_map).unwrap_or_default() {
                let (key, node) = (entry.key.as_str(), &entry.value);
                let path = top.key(section).key(key);
                let object =
                    self.file_object(kind, key, (node, entry.line), &path, &mut file.files_read);
                match kind {
                    "secret" => file.secrets.insert(key.to_owned(), object),
                    _ => file.configs.insert(key.to_owned(), object),
                };
            }
        }
        file
    }

    fn service(&mut self, node: &Node, path: &FieldPath, files_read: &mut Vec<PathBuf>) -> Service {
        for (key, value) in entries(Some(node)) {
            let at = path.key(key);
            let line = node.entry(key).map_or(value.line, |e| e.line);
            if UNSUPPORTED.contains(&key) {
                self.report.warning(
                    &at,
                    line,
                    "is ignored: docker stack deploy does not support it",
                );
            } else if let Some((_, why)) = DEPRECATED.iter().find(|(k, _)| *k == key) {
                self.report
                    .warning(&at, line, format!("is ignored (deprecated): {why}"));
            } else if key == "oom_score_adj" {
                self.report.warning(
                    &at,
                    line,
                    "is ignored: docker stack deploy does not pass it to swarm",
                );
            } else if key == "restart" {
                self.report.warning(
                    &at,
                    line,
                    "is not a swarm option: it is only read when `deploy.restart_policy` is absent; use `deploy.restart_policy`",
                );
            }
        }
        let get = |key: &str| node.get(key);
        let mut service = Service {
            image: get("image").and_then(text),
            entrypoint: self.command(get("entrypoint"), &path.key("entrypoint")),
            command: self.command(get("command"), &path.key("command")),
            environment: self.environment(node, path, files_read),
            labels: labels(get("labels")),
            ports: self.ports(get("ports"), &path.key("ports")),
            networks: get("networks").and_then(service_networks),
            volumes: self.service_volumes(get("volumes"), &path.key("volumes")),
            secrets: self.file_references(get("secrets"), &path.key("secrets")),
            configs: self.file_references(get("configs"), &path.key("configs")),
            healthcheck: self.healthcheck(get("healthcheck"), &path.key("healthcheck")),
            deploy: get("deploy").filter(|d| !d.is_null()).map(deploy),
            logging: get("logging").map(|l| Logging {
                driver: l.get("driver").and_then(text),
                options: labels(l.get("options")),
            }),
            restart: get("restart").and_then(text),
            hostname: get("hostname").and_then(text),
            user: get("user").and_then(text),
            working_dir: get("working_dir").and_then(text),
            stop_grace_period: get("stop_grace_period").and_then(text),
            stop_signal: get("stop_signal").and_then(text),
            cap_add: strings(get("cap_add")),
            cap_drop: strings(get("cap_drop")),
            sysctls: labels(get("sysctls")),
            ulimits: ulimits(get("ulimits")),
            init: get("init").and_then(boolean),
            dns: strings(get("dns")),
            dns_search: strings(get("dns_search")),
            dns_opt: Vec::new(),
            extra_hosts: extra_hosts(get("extra_hosts")),
            read_only: get("read_only").and_then(boolean).unwrap_or(false),
            tty: get("tty").and_then(boolean).unwrap_or(false),
            stdin_open: get("stdin_open").and_then(boolean).unwrap_or(false),
            isolation: get("isolation").and_then(text),
            credential_spec: get("credential_spec").map(|c| CredentialSpec {
                config: c.get("config").and_then(text),
                file: c.get("file").and_then(text),
                registry: c.get("registry").and_then(text),
            }),
            tmpfs: strings(get("tmpfs")),
        };
        self.check_restart(&mut service, node, path);
        service
    }

    /// `restart:` is read (by the CLI's converter) only when
    /// `deploy.restart_policy` is absent; check it then, as it would.
    fn check_restart(&mut self, service: &mut Service, node: &Node, path: &FieldPath) {
        let has_policy = service
            .deploy
            .as_ref()
            .is_some_and(|d| d.restart_policy.is_some());
        let (Some(restart), false) = (&service.restart, has_policy) else {
            return;
        };
        let (name, count) = match restart.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (restart.as_str(), None),
        };
        let count_ok = match count {
            None | Some("") => true,
            Some(count) => count.parse::<i64>().is_ok(),
        };
        let name_ok = match name {
            "" | "no" | "always" | "unless-stopped" => count.is_none_or(str::is_empty),
            "on-failure" => true,
            _ => false,
        };
        if !(name_ok && count_ok) || (name.is_empty() && count.is_some()) {
            let line = node.entry("restart").map_or(node.line, |e| e.line);
            self.report.problem(
                &path.key("restart"),
                line,
                format!(
                    "is not a restart policy ({restart:?}): use \"no\", \"always\", \"unless-stopped\" or \"on-failure[:max-retries]\""
                ),
            );
        }
    }

    /// `command` / `entrypoint`: a string is split into words.
    fn command(&mut self, node: Option<&Node>, path: &FieldPath) -> Option<Vec<String>> {
        let node = node?;
        match &node.value {
            Value::Str(line) => match split_words(line) {
                Ok(words) => Some(words),
                Err(why) => {
                    self.report.problem(
                        path,
                        node.line,
                        format!("cannot be split into words: it {why}"),
                    );
                    None
                }
            },
            Value::Seq(_) => Some(strings(Some(node))),
            _ => None,
        }
    }

    /// `env_file`s in order, then `environment` over them; entries without
    /// a value (or with an empty one) take the variable of the same name
    /// when it is set, as the CLI does.
    fn environment(
        &mut self,
        node: &Node,
        path: &FieldPath,
        files_read: &mut Vec<PathBuf>,
    ) -> IndexMap<String, Option<String>> {
        let mut environment = IndexMap::new();
        if let Some(env_files) = node.get("env_file") {
            for (i, (file, file_node)) in string_items(env_files).into_iter().enumerate() {
                let at = match env_files.value {
                    Value::Seq(_) => path.key("env_file").index(i),
                    _ => path.key("env_file"),
                };
                let absolute = host_path::resolve(self.working_dir, &file);
                let bytes = match std::fs::read(&absolute) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        let message = format!(
                            "cannot read env file {}: {}",
                            absolute.display(),
                            io_reason(&e)
                        );
                        self.report.problem(&at, file_node.line, message);
                        continue;
                    }
                };
                files_read.push(absolute.clone());
                match parse_env_file(&bytes, self.variables) {
                    Ok(pairs) => {
                        for (key, value) in pairs {
                            self.set_variable(&mut environment, key, value);
                        }
                    }
                    Err(why) => {
                        let message = format!("env file {} is invalid: {why}", absolute.display());
                        self.report.problem(&at, file_node.line, message);
                    }
                }
            }
        }
        for (key, value) in mapping(node.get("environment"), true) {
            self.set_variable(&mut environment, key, value);
        }
        environment
    }

    fn set_variable(
        &self,
        environment: &mut IndexMap<String, Option<String>>,
        key: String,
        value: Option<String>,
    ) {
        let value = match self.variables.get(&key) {
            Some(variable) if value.as_deref().is_none_or(str::is_empty) => Some(variable.clone()),
            _ => value,
        };
        environment.insert(key, value);
    }

    fn ports(&mut self, node: Option<&Node>, path: &FieldPath) -> Vec<Port> {
        let mut ports = Vec::new();
        for (i, item) in items(node).iter().enumerate() {
            let at = path.index(i);
            match &item.value {
                Value::Int(_) | Value::Str(_) => {
                    let spec = item.value.to_go_string().unwrap_or_default();
                    match parse_port_spec(&spec) {
                        Ok(short) => {
                            if let Some(ip) = short.ignored_ip {
                                let message = format!(
                                    "host IP {ip} is ignored: swarm publishes the port on every address"
                                );
                                self.report.warning(&at, item.line, message);
                            }
                            ports.extend(short.ports);
                        }
                        Err(why) => self.report.problem(
                            &at,
                            item.line,
                            format!("is not a valid port: {why}"),
                        ),
                    }
                }
                Value::Map(_) => {
                    let number = |key: &str| item.get(key).and_then(|n| integer(&n.value));
                    let target = number("target");
                    let published = number("published");
                    for (key, value) in [("target", target), ("published", published)] {
                        if value.is_some_and(|p| p > 65535) {
                            let line = item.entry(key).map_or(item.line, |e| e.line);
                            self.report.problem(
                                &at.key(key),
                                line,
                                "must be a port number (at most 65535)",
                            );
                        }
                    }
                    match target {
                        None if item.get("target").is_none() => {
                            self.report
                                .problem(&at, item.line, "needs the key `target`")
                        }
                        Some(0) => self.report.problem(
                            &at.key("target"),
                            item.line,
                            "must be a port number (1 to 65535)",
                        ),
                        _ => {}
                    }
                    ports.push(Port {
                        target: target.and_then(|t| u32::try_from(t).ok()).unwrap_or(0),
                        published: published
                            .and_then(|p| u32::try_from(p).ok())
                            .filter(|p| *p != 0),
                        protocol: item.get("protocol").and_then(text),
                        mode: item.get("mode").and_then(text),
                    });
                }
                _ => {}
            }
        }
        ports
    }

    fn service_volumes(&mut self, node: Option<&Node>, path: &FieldPath) -> Vec<ServiceVolume> {
        let mut volumes = Vec::new();
        for (i, item) in items(node).iter().enumerate() {
            let at = path.index(i);
            let mut volume = match &item.value {
                Value::Str(spec) => match parse_volume_spec(spec) {
                    Ok(volume) => volume,
                    Err(why) => {
                        self.report.problem(
                            &at,
                            item.line,
                            format!("is not a valid volume: {why}"),
                        );
                        continue;
                    }
                },
                Value::Map(_) => {
                    let nested =
                        |outer: &str, inner: &str| item.get(outer).and_then(|o| o.get(inner));
                    if item.get("target").is_none() {
                        self.report
                            .problem(&at, item.line, "needs the key `target`");
                    }
                    ServiceVolume {
                        kind: item.get("type").and_then(text).unwrap_or_default(),
                        source: item.get("source").and_then(text),
                        target: item.get("target").and_then(text).unwrap_or_default(),
                        read_only: item.get("read_only").and_then(boolean).unwrap_or(false),
                        consistency: item.get("consistency").and_then(text),
                        bind_propagation: nested("bind", "propagation").and_then(text),
                        volume_nocopy: nested("volume", "nocopy")
                            .and_then(boolean)
                            .unwrap_or(false),
                        tmpfs_size: nested("tmpfs", "size")
                            .and_then(|n| integer(&n.value))
                            .and_then(|s| i64::try_from(s).ok()),
                    }
                }
                _ => continue,
            };
            match volume.kind.as_str() {
                "bind" => match volume.source.as_deref().filter(|s| !s.is_empty()) {
                    None => self.report.problem(
                        &at,
                        item.line,
                        "is a bind mount without a source: name a host path",
                    ),
                    Some(source) => match self.host_path(source) {
                        Ok(absolute) => volume.source = Some(absolute),
                        Err(why) => self.report.problem(&at, item.line, why),
                    },
                },
                "tmpfs" if volume.source.is_some() => {
                    self.report.problem(
                        &at,
                        item.line,
                        "is a tmpfs mount, which takes no `source`",
                    );
                }
                _ => {}
            }
            volumes.push(volume);
        }
        volumes
    }

    /// A bind source made absolute: `~` is the `HOME` variable, relative
    /// paths are relative to the Compose file's folder.
    fn host_path(&self, source: &str) -> Result<String, String> {
        let expanded = match source.strip_prefix('~') {
            None => source.to_owned(),
            Some(rest) => match self.variables.get("HOME") {
                Some(home) => format!("{home}{rest}"),
                None => {
                    return Err(format!(
                        "cannot expand `~` in {source:?}: HOME is not among the variables; use an absolute path"
                    ));
                }
            },
        };
        if expanded.starts_with('/') || is_windows_absolute(&expanded) {
            return Ok(expanded);
        }
        Ok(host_path::resolve(self.working_dir, &expanded)
            .to_string_lossy()
            .into_owned())
    }

    fn file_references(&mut self, node: Option<&Node>, path: &FieldPath) -> Vec<FileReference> {
        let mut references = Vec::new();
        for (i, item) in items(node).iter().enumerate() {
            match &item.value {
                Value::Str(source) => references.push(FileReference {
                    source: source.clone(),
                    ..FileReference::default()
                }),
                Value::Map(_) => {
                    let source = item.get("source").and_then(text);
                    if source.is_none() {
                        self.report
                            .problem(&path.index(i), item.line, "needs the key `source`");
                    }
                    references.push(FileReference {
                        source: source.unwrap_or_default(),
                        target: item.get("target").and_then(text),
                        uid: item.get("uid").and_then(text),
                        gid: item.get("gid").and_then(text),
                        mode: item
                            .get("mode")
                            .and_then(|m| integer(&m.value))
                            .and_then(|m| u32::try_from(m).ok()),
                    });
                }
                _ => {}
            }
        }
        references
    }

    fn healthcheck(&mut self, node: Option<&Node>, path: &FieldPath) -> Option<Healthcheck> {
        let node = node?;
        let test = node.get("test").and_then(|t| match &t.value {
            Value::Str(line) => Some(vec!["CMD-SHELL".to_owned(), line.clone()]),
            Value::Seq(_) => Some(strings(Some(t))),
            _ => None,
        });
        if node.get("disable").and_then(boolean) == Some(true) {
            if test.is_some() {
                let line = node.entry("disable").map_or(node.line, |e| e.line);
                self.report.problem(
                    path,
                    line,
                    "sets both `test` and `disable: true`; keep one of them",
                );
            }
            return Some(Healthcheck {
                test: Some(vec!["NONE".to_owned()]),
                ..Healthcheck::default()
            });
        }
        Some(Healthcheck {
            test,
            interval: node.get("interval").and_then(text),
            timeout: node.get("timeout").and_then(text),
            start_period: node.get("start_period").and_then(text),
            start_interval: node.get("start_interval").and_then(text),
            retries: node
                .get("retries")
                .and_then(|r| integer(&r.value))
                .and_then(|r| u64::try_from(r).ok()),
        })
    }

    fn network(&mut self, key: &str, node: &Node, path: &FieldPath) -> Network {
        let get = |k: &str| node.get(k);
        let mut network = Network {
            name: get("name").and_then(text),
            driver: get("driver").and_then(text),
            driver_opts: labels(get("driver_opts")),
            ipam: get("ipam").map(|ipam| Ipam {
                driver: ipam.get("driver").and_then(text),
                subnets: items(ipam.get("config"))
                    .iter()
                    .filter_map(|c| c.get("subnet").and_then(text))
                    .collect(),
            }),
            internal: get("internal").and_then(boolean).unwrap_or(false),
            attachable: get("attachable").and_then(boolean).unwrap_or(false),
            labels: labels(get("labels")),
            ..Network::default()
        };
        let (external, name) = self.external("network", key, node, path, network.name.take(), 5);
        network.external = external;
        network.name = name;
        network
    }

    fn volume(&mut self, key: &str, node: &Node, path: &FieldPath) -> Volume {
        let get = |k: &str| node.get(k);
        let mut volume = Volume {
            name: get("name").and_then(text),
            driver: get("driver").and_then(text),
            driver_opts: labels(get("driver_opts")),
            labels: labels(get("labels")),
            ..Volume::default()
        };
        let (external, name) = self.external("volume", key, node, path, volume.name.take(), 4);
        volume.external = external;
        volume.name = name;
        if external {
            for (conflict, set) in [
                ("driver", volume.driver.is_some()),
                ("driver_opts", !volume.driver_opts.is_empty()),
                ("labels", !volume.labels.is_empty()),
            ] {
                if set {
                    let line = node.entry(conflict).map_or(node.line, |e| e.line);
                    self.report.problem(
                        &path.key(conflict),
                        line,
                        "cannot be set on an external volume (conflicting parameters \"external\" and \"{conflict}\"): the volume is managed outside the stack".replace("{conflict}", conflict),
                    );
                }
            }
        }
        if let Some(entry) = node.entry("x-cluster-spec") {
            self.report.warning(
                &path.key("x-cluster-spec"),
                entry.line,
                "is ignored: voc does not create cluster (CSI) volumes",
            );
        }
        volume
    }

    fn file_object(
        &mut self,
        kind: &str,
        key: &str,
        (node, key_line): (&Node, usize),
        path: &FieldPath,
        files_read: &mut Vec<PathBuf>,
    ) -> FileObject {
        let get = |k: &str| node.get(k);
        let mut object = FileObject {
            name: get("name").and_then(text),
            labels: labels(get("labels")),
            driver: get("driver").and_then(text),
            driver_opts: labels(get("driver_opts")),
            template_driver: get("template_driver").and_then(text),
            ..FileObject::default()
        };
        let (external, name) = self.external(kind, key, node, path, object.name.take(), 5);
        object.external = external;
        object.name = name;
        if external {
            return object;
        }
        let file = get("file").and_then(text);
        if object.driver.is_some() {
            if file.is_some() {
                let line = node.entry("file").map_or(node.line, |e| e.line);
                self.report.problem(
                    &path.key("file"),
                    line,
                    format!("conflicts with `driver` ({kind}.driver and {kind}.file conflict; only use {kind}.driver)"),
                );
            }
            return object;
        }
        let Some(file) = file else {
            let other = if kind == "secret" {
                ", `external: true` or a `driver`"
            } else {
                " or `external: true`"
            };
            self.report.problem(
                path,
                key_line,
                format!("needs a `file`{other}: there is nothing to create the {kind} from"),
            );
            return object;
        };
        let absolute = host_path::resolve(self.working_dir, &file);
        let line = node.entry("file").map_or(node.line, |e| e.line);
        match std::fs::read(&absolute) {
            Ok(content) => {
                object.content = Some(content);
                files_read.push(absolute.clone());
            }
            Err(e) => {
                let message = format!(
                    "cannot read {kind} file {}: {}",
                    absolute.display(),
                    io_reason(&e)
                );
                self.report.problem(&path.key("file"), line, message);
            }
        }
        object.file = Some(absolute);
        object
    }

    /// Reads `external` (a boolean, or the deprecated `{name: ...}`) and
    /// returns whether the object is external and its Docker name: external
    /// objects without a `name` are named after their key, as in the CLI.
    fn external(
        &mut self,
        kind: &str,
        key: &str,
        node: &Node,
        path: &FieldPath,
        name: Option<String>,
        deprecated_since: u8,
    ) -> (bool, Option<String>) {
        let Some(external) = node.get("external") else {
            return (false, name);
        };
        let line = node.entry("external").map_or(node.line, |e| e.line);
        match &external.value {
            Value::Bool(false) => (false, name),
            Value::Bool(true) => (true, Some(name.unwrap_or_else(|| key.to_owned()))),
            Value::Map(_) => {
                match (external.get("name").and_then(text), name) {
                    (Some(_), Some(name)) => {
                        self.report.problem(
                        &path.key("external").key("name"),
                        line,
                        format!("conflicts with `name` ({kind}.external.name and {kind}.name conflict; only use {kind}.name)"),
                    );
                        (true, Some(name))
                    }
                    (Some(external_name), None) => {
                        if self.minor >= deprecated_since {
                            self.report.warning(
                            &path.key("external").key("name"),
                            line,
                            format!("is deprecated: write `name: {external_name}` and `external: true`"),
                        );
                        }
                        (true, Some(external_name))
                    }
                    (None, name) => (true, Some(name.unwrap_or_else(|| key.to_owned()))),
                }
            }
            _ => (false, name),
        }
    }
}

fn deploy(node: &Node) -> Deploy {
    let get = |k: &str| node.get(k);
    let resources = get("resources");
    let placement = get("placement");
    Deploy {
        mode: get("mode").and_then(text),
        replicas: get("replicas").and_then(unsigned),
        labels: labels(get("labels")),
        update_config: get("update_config").map(update_config),
        rollback_config: get("rollback_config").map(update_config),
        resources: Resources {
            limits: resources.and_then(|r| r.get("limits")).map(resource_limit),
            reservations: resources
                .and_then(|r| r.get("reservations"))
                .map(resource_limit),
        },
        restart_policy: get("restart_policy").map(|p| RestartPolicy {
            condition: p.get("condition").and_then(text),
            delay: p.get("delay").and_then(text),
            max_attempts: p.get("max_attempts").and_then(unsigned),
            window: p.get("window").and_then(text),
        }),
        placement: Placement {
            constraints: strings(placement.and_then(|p| p.get("constraints"))),
            preferences: items(placement.and_then(|p| p.get("preferences")))
                .iter()
                .filter_map(|p| p.get("spread").and_then(text))
                .collect(),
            max_replicas_per_node: placement
                .and_then(|p| p.get("max_replicas_per_node"))
                .and_then(unsigned),
        },
        endpoint_mode: get("endpoint_mode")
            .and_then(text)
            .map(|m| m.to_ascii_lowercase()),
    }
}

fn update_config(node: &Node) -> UpdateConfig {
    UpdateConfig {
        parallelism: node.get("parallelism").and_then(unsigned),
        delay: node.get("delay").and_then(text),
        failure_action: node.get("failure_action").and_then(text),
        monitor: node.get("monitor").and_then(text),
        max_failure_ratio: node.get("max_failure_ratio").and_then(|n| match n.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }),
        order: node.get("order").and_then(text),
    }
}

fn resource_limit(node: &Node) -> ResourceLimit {
    ResourceLimit {
        cpus: node.get("cpus").and_then(text).filter(|c| !c.is_empty()),
        memory: node
            .get("memory")
            .and_then(Node::as_str)
            .and_then(|m| parse_bytes(m).ok()),
        pids: node
            .get("pids")
            .and_then(|p| integer(&p.value))
            .and_then(|p| i64::try_from(p).ok()),
        generic_resources: items(node.get("generic_resources"))
            .iter()
            .filter_map(|g| g.get("discrete_resource_spec"))
            .map(|spec| GenericResource {
                kind: spec.get("kind").and_then(text).unwrap_or_default(),
                value: spec
                    .get("value")
                    .and_then(|v| match v.value {
                        Value::Int(i) => i64::try_from(i).ok(),
                        Value::Float(f) => Some(f as i64),
                        _ => None,
                    })
                    .unwrap_or(0),
            })
            .collect(),
    }
}

fn service_networks(node: &Node) -> Option<IndexMap<String, Option<ServiceNetwork>>> {
    match &node.value {
        Value::Seq(_) => Some(strings(Some(node)).into_iter().map(|n| (n, None)).collect()),
        Value::Map(entries) => Some(
            entries
                .iter()
                .map(|e| {
                    let options = e.value.as_map().map(|_| ServiceNetwork {
                        aliases: strings(e.value.get("aliases")),
                        ipv4_address: e.value.get("ipv4_address").and_then(text),
                        ipv6_address: e.value.get("ipv6_address").and_then(text),
                        driver_opts: labels(e.value.get("driver_opts")),
                    });
                    (e.key.clone(), options)
                })
                .collect(),
        ),
        _ => None,
    }
}

fn ulimits(node: Option<&Node>) -> IndexMap<String, Ulimit> {
    entries(node)
        .filter_map(|(name, limit)| {
            let number = |n: Option<&Node>| {
                n.and_then(|n| integer(&n.value))
                    .and_then(|i| i64::try_from(i).ok())
            };
            let ulimit = match &limit.value {
                Value::Map(_) => Ulimit {
                    soft: number(limit.get("soft"))?,
                    hard: number(limit.get("hard"))?,
                },
                _ => {
                    let single = number(Some(limit))?;
                    Ulimit {
                        soft: single,
                        hard: single,
                    }
                }
            };
            Some((name.to_owned(), ulimit))
        })
        .collect()
}

/// `extra_hosts` as `host:ip` strings: a map becomes sorted `key:value`
/// entries, list entries may use `=` or `:`, and brackets around an IPv6
/// address are removed (as the CLI does).
fn extra_hosts(node: Option<&Node>) -> Vec<String> {
    let Some(node) = node else {
        return Vec::new();
    };
    let pairs: Vec<String> = match &node.value {
        Value::Map(entries) => {
            let mut pairs: Vec<String> = entries
                .iter()
                .filter_map(|e| {
                    e.value
                        .value
                        .to_go_string()
                        .map(|v| format!("{}:{v}", e.key))
                })
                .collect();
            pairs.sort();
            pairs
        }
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.value.to_go_string())
            .filter_map(|entry| {
                let (host, ip) = entry.split_once('=').or_else(|| entry.split_once(':'))?;
                Some(format!("{host}:{ip}"))
            })
            .collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .map(|pair| {
            let (host, ip) = pair.split_once(':').unwrap_or((&pair, ""));
            let ip = if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
                &ip[1..ip.len() - 1]
            } else {
                ip
            };
            format!("{host}:{ip}")
        })
        .collect()
}

/// A list-or-mapping of `KEY=value` entries; values without `=` (or
/// `null` in a mapping) are `None` when `keep_missing`, else `""`.
fn mapping(node: Option<&Node>, keep_missing: bool) -> Vec<(String, Option<String>)> {
    let missing = || {
        if keep_missing {
            None
        } else {
            Some(String::new())
        }
    };
    match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .map(|e| (e.key.clone(), e.value.value.to_go_string().or_else(missing)))
            .collect(),
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(Node::as_str)
            .map(|item| match item.split_once('=') {
                Some((key, value)) => (key.to_owned(), Some(value.to_owned())),
                None => (item.to_owned(), missing()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `labels`, `sysctls`, `driver_opts`, logging `options`: string values,
/// `""` for a missing one.
fn labels(node: Option<&Node>) -> IndexMap<String, String> {
    mapping(node, false)
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect()
}

/// The entries of a mapping (none if it is not one).
fn entries(node: Option<&Node>) -> impl Iterator<Item = (&str, &Node)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.as_str(), &e.value))
}

/// The items of a list (none if it is not one).
fn items(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_seq).unwrap_or_default()
}

/// A string, or the string items of a list, with their nodes.
fn string_items(node: &Node) -> Vec<(String, &Node)> {
    match &node.value {
        Value::Str(s) => vec![(s.clone(), node)],
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.value.to_go_string().map(|s| (s, i)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A string, or the items of a list, as strings.
fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(|n| string_items(n).into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default()
}

fn text(node: &Node) -> Option<String> {
    node.as_str().map(str::to_owned)
}

fn boolean(node: &Node) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn unsigned(node: &Node) -> Option<u64> {
    integer(&node.value).and_then(|i| u64::try_from(i).ok())
}

/// An I/O error in a few words, without the OS error number.
fn io_reason(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    }
}
