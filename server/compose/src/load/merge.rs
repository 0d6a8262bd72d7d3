//! Several Compose files merged into one, as `docker stack deploy -c a.yml
//! -c b.yml` does: services merge field by field (a later non-empty value
//! wins, maps merge by key, most lists append; ports merge by their whole
//! value and sort by published port, secrets and configs by source,
//! volumes by target), while top-level networks, volumes, secrets and
//! configs are replaced whole by key.
//!
//! One deliberate difference: the CLI appends a later `healthcheck.test`
//! to the earlier one (`[CMD, a, CMD, b]`), which is never meant; voc lets
//! the later test replace the earlier one.

use indexmap::IndexMap;

use crate::model::{
    ComposeFile, Deploy, FileReference, Healthcheck, Logging, Placement, Port, ResourceLimit,
    Resources, RestartPolicy, Service, ServiceNetwork, ServiceVolume, UpdateConfig,
};

/// `base` with `over` merged into it.
pub(crate) fn merge(mut base: ComposeFile, over: ComposeFile) -> ComposeFile {
    for (key, service) in over.services {
        let merged = match base.services.shift_remove(&key) {
            Some(existing) => merge_service(existing, service),
            None => service,
        };
        base.services.insert(key, merged);
    }
    base.services.sort_keys();
    base.networks.extend(over.networks);
    base.volumes.extend(over.volumes);
    base.secrets.extend(over.secrets);
    base.configs.extend(over.configs);
    base.files_read.extend(over.files_read);
    base
}

fn merge_service(base: Service, over: Service) -> Service {
    Service {
        image: text(base.image, over.image),
        entrypoint: non_empty(base.entrypoint, over.entrypoint),
        command: non_empty(base.command, over.command),
        environment: merge_environment(base.environment, over.environment),
        labels: map(base.labels, over.labels),
        ports: merge_ports(base.ports, over.ports),
        networks: merge_networks(base.networks, over.networks),
        volumes: by_key(base.volumes, over.volumes, |v: &ServiceVolume| {
            v.target.clone()
        }),
        secrets: by_key(base.secrets, over.secrets, |r: &FileReference| {
            r.source.clone()
        }),
        configs: by_key(base.configs, over.configs, |r: &FileReference| {
            r.source.clone()
        }),
        healthcheck: option(base.healthcheck, over.healthcheck, merge_healthcheck),
        deploy: option(base.deploy, over.deploy, merge_deploy),
        logging: option(base.logging, over.logging, merge_logging),
        restart: text(base.restart, over.restart),
        hostname: text(base.hostname, over.hostname),
        user: text(base.user, over.user),
        working_dir: text(base.working_dir, over.working_dir),
        stop_grace_period: text(base.stop_grace_period, over.stop_grace_period),
        stop_signal: text(base.stop_signal, over.stop_signal),
        cap_add: append(base.cap_add, over.cap_add),
        cap_drop: append(base.cap_drop, over.cap_drop),
        sysctls: map(base.sysctls, over.sysctls),
        ulimits: map(base.ulimits, over.ulimits),
        init: over.init.or(base.init),
        dns: append(base.dns, over.dns),
        dns_search: append(base.dns_search, over.dns_search),
        dns_opt: append(base.dns_opt, over.dns_opt),
        extra_hosts: append(base.extra_hosts, over.extra_hosts),
        read_only: base.read_only || over.read_only,
        tty: base.tty || over.tty,
        stdin_open: base.stdin_open || over.stdin_open,
        isolation: text(base.isolation, over.isolation),
        credential_spec: option(base.credential_spec, over.credential_spec, |b, o| {
            crate::model::CredentialSpec {
                config: text(b.config, o.config),
                file: text(b.file, o.file),
                registry: text(b.registry, o.registry),
            }
        }),
        tmpfs: append(base.tmpfs, over.tmpfs),
    }
}

/// A later non-empty string wins (Go's zero value does not override).
fn text(base: Option<String>, over: Option<String>) -> Option<String> {
    match over {
        Some(value) if !value.is_empty() => Some(value),
        _ => base,
    }
}

fn non_empty<T>(base: Option<Vec<T>>, over: Option<Vec<T>>) -> Option<Vec<T>> {
    match over {
        Some(value) if !value.is_empty() => Some(value),
        _ => base,
    }
}

fn option<T>(base: Option<T>, over: Option<T>, both: impl FnOnce(T, T) -> T) -> Option<T> {
    match (base, over) {
        (Some(b), Some(o)) => Some(both(b, o)),
        (b, o) => o.or(b),
    }
}

fn append<T>(mut base: Vec<T>, over: Vec<T>) -> Vec<T> {
    base.extend(over);
    base
}

fn map<V>(mut base: IndexMap<String, V>, over: IndexMap<String, V>) -> IndexMap<String, V> {
    base.extend(over);
    base
}

/// A later variable without a value does not erase an earlier value.
fn merge_environment(
    mut base: IndexMap<String, Option<String>>,
    over: IndexMap<String, Option<String>>,
) -> IndexMap<String, Option<String>> {
    for (key, value) in over {
        match (value, base.get(&key)) {
            (None, Some(_)) => {}
            (value, _) => {
                base.insert(key, value);
            }
        }
    }
    base
}

/// Ports merge by published port, as `docker stack deploy -c a -c b` does:
/// a port of the later file replaces the earlier file's port with the same
/// published port (unpublished ports all share the key 0, a quirk the CLI
/// has too), and the result is sorted by published port. A file without
/// ports leaves the other's as they are.
fn merge_ports(base: Vec<Port>, over: Vec<Port>) -> Vec<Port> {
    if base.is_empty() || over.is_empty() {
        return if over.is_empty() { base } else { over };
    }
    let mut ports: IndexMap<u32, Port> = IndexMap::new();
    for port in base.into_iter().chain(over) {
        ports.insert(port.published.unwrap_or(0), port);
    }
    // Stable: equal keys cannot happen after the map, so file order of
    // first appearance decides nothing here.
    ports.sort_keys();
    ports.into_values().collect()
}

/// Items keyed by `key`: a later item replaces an earlier one with the same
/// key; the result is sorted by key.
fn by_key<T, K: Ord + std::hash::Hash + Eq>(
    base: Vec<T>,
    over: Vec<T>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut items: IndexMap<K, T> = IndexMap::new();
    for item in base.into_iter().chain(over) {
        items.insert(key(&item), item);
    }
    items.sort_keys();
    items.into_values().collect()
}

fn merge_networks(
    base: Option<IndexMap<String, Option<ServiceNetwork>>>,
    over: Option<IndexMap<String, Option<ServiceNetwork>>>,
) -> Option<IndexMap<String, Option<ServiceNetwork>>> {
    option(base, over, |mut base, over| {
        for (key, network) in over {
            let merged = match (base.shift_remove(&key).flatten(), network) {
                (Some(b), Some(o)) => Some(ServiceNetwork {
                    aliases: o.aliases,
                    ipv4_address: text(b.ipv4_address, o.ipv4_address),
                    ipv6_address: text(b.ipv6_address, o.ipv6_address),
                    driver_opts: map(b.driver_opts, o.driver_opts),
                }),
                (b, o) => o.or(b),
            };
            base.insert(key, merged);
        }
        base
    })
}

fn merge_healthcheck(base: Healthcheck, over: Healthcheck) -> Healthcheck {
    Healthcheck {
        test: non_empty(base.test, over.test),
        interval: text(base.interval, over.interval),
        timeout: text(base.timeout, over.timeout),
        start_period: text(base.start_period, over.start_period),
        start_interval: text(base.start_interval, over.start_interval),
        retries: over.retries.or(base.retries),
    }
}

fn merge_logging(base: Logging, over: Logging) -> Logging {
    let same_driver = base.driver == over.driver || base.driver.is_none() || over.driver.is_none();
    if !same_driver {
        return over;
    }
    Logging {
        driver: base.driver.or(over.driver),
        options: map(base.options, over.options),
    }
}

fn merge_deploy(base: Deploy, over: Deploy) -> Deploy {
    Deploy {
        mode: text(base.mode, over.mode),
        replicas: over.replicas.or(base.replicas),
        labels: map(base.labels, over.labels),
        update_config: option(base.update_config, over.update_config, merge_update_config),
        rollback_config: option(
            base.rollback_config,
            over.rollback_config,
            merge_update_config,
        ),
        resources: Resources {
            limits: option(base.resources.limits, over.resources.limits, merge_limit),
            reservations: option(
                base.resources.reservations,
                over.resources.reservations,
                merge_limit,
            ),
        },
        restart_policy: option(base.restart_policy, over.restart_policy, |b, o| {
            RestartPolicy {
                condition: text(b.condition, o.condition),
                delay: text(b.delay, o.delay),
                max_attempts: o.max_attempts.or(b.max_attempts),
                window: text(b.window, o.window),
            }
        }),
        placement: Placement {
            constraints: append(base.placement.constraints, over.placement.constraints),
            preferences: append(base.placement.preferences, over.placement.preferences),
            max_replicas_per_node: over
                .placement
                .max_replicas_per_node
                .filter(|m| *m != 0)
                .or(base.placement.max_replicas_per_node),
        },
        endpoint_mode: text(base.endpoint_mode, over.endpoint_mode),
    }
}

fn merge_update_config(base: UpdateConfig, over: UpdateConfig) -> UpdateConfig {
    UpdateConfig {
        parallelism: over.parallelism.or(base.parallelism),
        delay: text(base.delay, over.delay),
        failure_action: text(base.failure_action, over.failure_action),
        monitor: text(base.monitor, over.monitor),
        max_failure_ratio: over
            .max_failure_ratio
            .filter(|r| *r != 0.0)
            .or(base.max_failure_ratio),
        order: text(base.order, over.order),
    }
}

fn merge_limit(base: ResourceLimit, over: ResourceLimit) -> ResourceLimit {
    ResourceLimit {
        cpus: text(base.cpus, over.cpus),
        memory: over.memory.filter(|m| *m != 0).or(base.memory),
        pids: over.pids.filter(|p| *p != 0).or(base.pids),
        generic_resources: append(base.generic_resources, over.generic_resources),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    fn port(target: u32, published: Option<u32>) -> Port {
        Port {
            target,
            published,
            ..Port::default()
        }
    }

    #[test]
    fn a_later_port_replaces_the_earlier_one_with_the_same_published_port() {
        let merged = merge_ports(
            vec![port(80, Some(20341)), port(22, Some(2222))],
            vec![port(8080, Some(20341))],
        );
        assert_eq!(merged, vec![port(22, Some(2222)), port(8080, Some(20341))]);
        assert_eq!(
            merge_ports(vec![port(80, None)], vec![]),
            vec![port(80, None)]
        );
        assert_eq!(
            merge_ports(vec![], vec![port(80, Some(1))]),
            vec![port(80, Some(1))]
        );
    }

    #[test]
    fn services_merge_field_by_field() {
        let base = Service {
            image: Some(s("web:1")),
            command: Some(vec![s("a")]),
            hostname: Some(s("h")),
            environment: [(s("A"), Some(s("1"))), (s("B"), Some(s("2")))]
                .into_iter()
                .collect(),
            labels: [(s("l"), s("1"))].into_iter().collect(),
            cap_add: vec![s("NET_ADMIN")],
            ports: vec![port(80, Some(8080)), port(443, Some(8443))],
            volumes: vec![
                ServiceVolume {
                    target: s("/b"),
                    source: Some(s("x")),
                    ..Default::default()
                },
                ServiceVolume {
                    target: s("/a"),
                    ..Default::default()
                },
            ],
            secrets: vec![FileReference {
                source: s("s2"),
                ..Default::default()
            }],
            read_only: true,
            deploy: Some(Deploy {
                replicas: Some(2),
                mode: Some(s("replicated")),
                ..Default::default()
            }),
            ..Service::default()
        };
        let over = Service {
            image: Some(s("web:2")),
            command: Some(vec![]),
            hostname: Some(s("")),
            environment: [(s("B"), Some(s("3"))), (s("A"), None), (s("C"), None)]
                .into_iter()
                .collect(),
            cap_add: vec![s("SYS_TIME")],
            ports: vec![port(80, Some(8080)), port(81, Some(81))],
            volumes: vec![ServiceVolume {
                target: s("/b"),
                source: Some(s("y")),
                ..Default::default()
            }],
            secrets: vec![FileReference {
                source: s("s1"),
                ..Default::default()
            }],
            read_only: false,
            deploy: Some(Deploy {
                replicas: Some(5),
                ..Default::default()
            }),
            ..Service::default()
        };
        let merged = merge_service(base, over);
        assert_eq!(merged.image.as_deref(), Some("web:2"));
        assert_eq!(merged.command, Some(vec![s("a")]));
        assert_eq!(merged.hostname.as_deref(), Some("h"));
        let env: Vec<_> = merged
            .environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(env, [("A", Some("1")), ("B", Some("3")), ("C", None)]);
        assert_eq!(merged.cap_add, [s("NET_ADMIN"), s("SYS_TIME")]);
        let published: Vec<_> = merged.ports.iter().map(|p| p.published).collect();
        assert_eq!(published, [Some(81), Some(8080), Some(8443)]);
        let targets: Vec<_> = merged
            .volumes
            .iter()
            .map(|v| (v.target.as_str(), v.source.as_deref()))
            .collect();
        assert_eq!(targets, [("/a", None), ("/b", Some("y"))]);
        let secrets: Vec<_> = merged.secrets.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(secrets, ["s1", "s2"]);
        assert!(merged.read_only);
        let deploy = merged.deploy.unwrap();
        assert_eq!(
            (deploy.replicas, deploy.mode.as_deref()),
            (Some(5), Some("replicated"))
        );
    }

    #[test]
    fn top_level_objects_are_replaced_and_services_added() {
        let mut base = ComposeFile::default();
        base.services.insert(
            s("web"),
            Service {
                image: Some(s("a")),
                ..Default::default()
            },
        );
        base.networks.insert(
            s("front"),
            crate::model::Network {
                driver: Some(s("overlay")),
                internal: true,
                ..Default::default()
            },
        );
        let mut over = ComposeFile::default();
        over.services.insert(
            s("db"),
            Service {
                image: Some(s("b")),
                ..Default::default()
            },
        );
        over.networks.insert(
            s("front"),
            crate::model::Network {
                attachable: true,
                ..Default::default()
            },
        );
        let merged = merge(base, over);
        assert_eq!(merged.services.keys().collect::<Vec<_>>(), ["db", "web"]);
        let front = &merged.networks["front"];
        assert!(front.attachable && !front.internal && front.driver.is_none());
    }

    #[test]
    fn logging_merges_options_for_the_same_driver_and_replaces_otherwise() {
        let json = |opts: &[(&str, &str)]| Logging {
            driver: Some(s("json-file")),
            options: opts.iter().map(|(k, v)| (s(k), s(v))).collect(),
        };
        let merged = merge_logging(json(&[("a", "1")]), json(&[("b", "2")]));
        assert_eq!(merged.options.len(), 2);
        let syslog = Logging {
            driver: Some(s("syslog")),
            options: IndexMap::new(),
        };
        assert_eq!(merge_logging(json(&[("a", "1")]), syslog.clone()), syslog);
    }
}
