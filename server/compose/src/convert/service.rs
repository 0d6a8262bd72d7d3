//! One Compose service as a swarm `ServiceSpec`: identity and labels, the
//! container spec, task-level policies (resources, restart, placement,
//! logging, networks), mode, update/rollback configs and endpoint.

use std::collections::{BTreeSet, HashMap};

use bollard_stubs::models::{
    EndpointPortConfig, EndpointSpec, HealthConfig, ResourcesUlimits, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecModeReplicatedJob, ServiceSpecRollbackConfig,
    ServiceSpecUpdateConfig, TaskSpec, TaskSpecContainerSpec, TaskSpecContainerSpecDnsConfig,
    TaskSpecContainerSpecPrivileges, TaskSpecContainerSpecPrivilegesCredentialSpec,
    TaskSpecLogDriver, TaskSpecPlacement, TaskSpecPlacementPreferences, TaskSpecPlacementSpread,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use indexmap::IndexMap;

use super::duration::parse_duration;
use super::file_object::{self, FileObjectNames};
use super::names::{self, Namespace};
use super::{Problems, mount, network, non_empty, parse_enum, resources};
use crate::model::{ComposeFile, Deploy, Healthcheck, Port, RestartPolicy, Service, UpdateConfig};
use crate::spec::{LABEL_IMAGE, LABEL_NAMESPACE, ServiceObject};

/// Converts service `key`, or records its problems and returns `None`.
pub(super) fn service(
    namespace: Namespace<'_>,
    key: &str,
    service: &Service,
    file: &ComposeFile,
    names: &FileObjectNames,
    problems: &mut Problems,
) -> Option<ServiceObject> {
    let before = problems.list.len();
    let path = format!("services.{key}");
    let name = namespace.scope(key);
    if !names::is_dns_label(&name) {
        problems.push(
            &path,
            format!(
                "gives the service name {name:?}, which Docker refuses: at most {} characters among \
                 [a-zA-Z0-9-_], starting and ending with a letter or a digit",
                names::MAX_DNS_LABEL
            ),
        );
    }
    let image = match service.image.as_deref() {
        Some(image) if !image.is_empty() => image.to_owned(),
        _ => {
            problems.push(
                &path,
                "has no image: every service of a stack needs `image`",
            );
            String::new()
        }
    };
    let deploy = service.deploy.clone().unwrap_or_default();

    let duration = |value: &Option<String>, field: &str, problems: &mut Problems| -> Option<i64> {
        let value = value.as_deref()?;
        match parse_duration(value) {
            Ok(ns) => Some(ns),
            Err(e) => {
                problems.push(format!("{path}.{field}"), e.to_string());
                None
            }
        }
    };

    let mut container = container_spec(namespace, service, &image, file, names, &path, problems);
    container.stop_grace_period =
        duration(&service.stop_grace_period, "stop_grace_period", problems);
    container.health_check = service
        .healthcheck
        .as_ref()
        .map(|h| healthcheck(h, &|v, f, p| duration(v, f, p), problems));

    let task_template = TaskSpec {
        container_spec: Some(container),
        resources: Some(resources::resources(&deploy.resources, &path, problems)),
        restart_policy: restart_policy(
            service.restart.as_deref(),
            deploy.restart_policy.as_ref(),
            &path,
            &|v, f, p| duration(v, f, p),
            problems,
        ),
        placement: Some(placement(&deploy)),
        networks: non_empty(network::attachments(
            namespace, key, service, file, &path, problems,
        )),
        log_driver: service.logging.as_ref().map(|l| TaskSpecLogDriver {
            name: l.driver.clone().filter(|d| !d.is_empty()),
            options: non_empty(
                l.options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }),
        force_update: Some(0),
        ..Default::default()
    };

    let mut labels = to_hash_map(&deploy.labels);
    labels.insert(LABEL_NAMESPACE.to_owned(), namespace.stack().to_owned());
    labels.insert(LABEL_IMAGE.to_owned(), image.clone());

    let spec = ServiceSpec {
        name: Some(name.clone()),
        labels: Some(labels),
        task_template: Some(task_template),
        mode: mode(&deploy, &path, problems),
        update_config: deploy.update_config.as_ref().map(|u| {
            let c = update_config(
                u,
                "deploy.update_config",
                &|v, f, p| duration(v, f, p),
                problems,
            );
            ServiceSpecUpdateConfig {
                parallelism: c.parallelism,
                delay: c.delay,
                failure_action: c.failure_action.as_deref().and_then(|a| {
                    parse_enum(
                        a,
                        "continue, pause, rollback",
                        format!("{path}.deploy.update_config.failure_action"),
                        problems,
                    )
                }),
                monitor: c.monitor,
                max_failure_ratio: c.max_failure_ratio,
                order: c.order.as_deref().and_then(|o| {
                    parse_enum(
                        o,
                        "start-first, stop-first",
                        format!("{path}.deploy.update_config.order"),
                        problems,
                    )
                }),
            }
        }),
        rollback_config: deploy.rollback_config.as_ref().map(|u| {
            let c = update_config(
                u,
                "deploy.rollback_config",
                &|v, f, p| duration(v, f, p),
                problems,
            );
            ServiceSpecRollbackConfig {
                parallelism: c.parallelism,
                delay: c.delay,
                failure_action: c.failure_action.as_deref().and_then(|a| {
                    parse_enum(
                        a,
                        "continue, pause",
                        format!("{path}.deploy.rollback_config.failure_action"),
                        problems,
                    )
                }),
                monitor: c.monitor,
                max_failure_ratio: c.max_failure_ratio,
                order: c.order.as_deref().and_then(|o| {
                    parse_enum(
                        o,
                        "start-first, stop-first",
                        format!("{path}.deploy.rollback_config.order"),
                        problems,
                    )
                }),
            }
        }),
        networks: None,
        endpoint_spec: Some(endpoint_spec(
            deploy.endpoint_mode.as_deref(),
            &service.ports,
            &path,
            problems,
        )),
    };
    (problems.list.len() == before).then(|| ServiceObject {
        key: key.to_owned(),
        name,
        image,
        spec,
    })
}

/// Parses a duration field, recording a problem at `<service>.<field>`.
type DurationField<'a> = dyn Fn(&Option<String>, &str, &mut Problems) -> Option<i64> + 'a;

fn container_spec(
    namespace: Namespace<'_>,
    service: &Service,
    image: &str,
    file: &ComposeFile,
    names: &FileObjectNames,
    path: &str,
    problems: &mut Problems,
) -> TaskSpecContainerSpec {
    let mut labels = to_hash_map(&service.labels);
    labels.insert(LABEL_NAMESPACE.to_owned(), namespace.stack().to_owned());
    let (cap_add, cap_drop) = effective_capabilities(&service.cap_add, &service.cap_drop);
    let credential = service.credential_spec.as_ref();
    let credential_config = credential
        .and_then(|c| c.config.as_deref())
        .filter(|c| !c.is_empty());
    TaskSpecContainerSpec {
        image: non_empty(image.to_owned()),
        labels: Some(labels),
        command: service.entrypoint.clone().and_then(non_empty),
        args: service.command.clone().and_then(non_empty),
        hostname: service.hostname.clone().and_then(non_empty),
        env: non_empty(environment(&service.environment)),
        dir: service.working_dir.clone().and_then(non_empty),
        user: service.user.clone().and_then(non_empty),
        privileges: Some(TaskSpecContainerSpecPrivileges {
            credential_spec: credential_spec(service, names, path, problems),
            ..Default::default()
        }),
        tty: service.tty.then_some(true),
        open_stdin: service.stdin_open.then_some(true),
        read_only: service.read_only.then_some(true),
        mounts: non_empty(mount::mounts(
            namespace,
            &service.volumes,
            &file.volumes,
            path,
            problems,
        )),
        stop_signal: service.stop_signal.clone().and_then(non_empty),
        hosts: non_empty(extra_hosts(&service.extra_hosts)),
        dns_config: dns_config(service),
        secrets: non_empty(file_object::secret_references(
            &service.secrets,
            names,
            path,
            problems,
        )),
        configs: non_empty(file_object::config_references(
            &service.configs,
            credential_config,
            names,
            path,
            problems,
        )),
        isolation: service
            .isolation
            .as_deref()
            .filter(|i| !i.is_empty())
            .and_then(|i| {
                parse_enum(
                    i,
                    "default, process, hyperv",
                    format!("{path}.isolation"),
                    problems,
                )
            }),
        init: service.init,
        sysctls: non_empty(to_hash_map(&service.sysctls)),
        capability_add: non_empty(cap_add),
        capability_drop: non_empty(cap_drop),
        ulimits: non_empty(
            service
                .ulimits
                .iter()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .map(|(name, u)| ResourcesUlimits {
                    name: Some(name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn to_hash_map(map: &IndexMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `K=V` (or `K` alone when unresolved), sorted bytewise like Go's
/// `sort.Strings`.
fn environment(env: &IndexMap<String, Option<String>>) -> Vec<String> {
    let mut out: Vec<String> = env
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect();
    out.sort();
    out
}

/// `host:ip` entries as swarm wants them, `ip host`; entries without a
/// colon are dropped, as by the CLI.
fn extra_hosts(hosts: &[String]) -> Vec<String> {
    hosts
        .iter()
        .filter_map(|h| h.split_once(':').map(|(host, ip)| format!("{ip} {host}")))
        .collect()
}

fn dns_config(service: &Service) -> Option<TaskSpecContainerSpecDnsConfig> {
    // `dns_opt` is not passed on by the CLI either.
    if service.dns.is_empty() && service.dns_search.is_empty() {
        return None;
    }
    Some(TaskSpecContainerSpecDnsConfig {
        nameservers: non_empty(service.dns.clone()),
        search: non_empty(service.dns_search.clone()),
        options: None,
    })
}

/// Upper-cases and `CAP_`-prefixes capabilities, drops duplicates, lets
/// `ALL` stand alone and `cap_add` win over `cap_drop`, and sorts both: the
/// CLI's `EffectiveCapAddCapDrop`.
fn effective_capabilities(add: &[String], drop: &[String]) -> (Vec<String>, Vec<String>) {
    const ALL: &str = "ALL";
    const RESET: &str = "RESET";
    let normalise = |caps: &[String]| -> BTreeSet<String> {
        let set: BTreeSet<String> = caps
            .iter()
            .map(|c| {
                let c = c.trim().to_uppercase();
                if c == ALL || c == RESET || c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                }
            })
            .collect();
        if set.contains(ALL) {
            [ALL.to_owned()].into_iter().collect()
        } else {
            set
        }
    };
    let add = normalise(add);
    let drop = normalise(drop);
    let cap_drop = drop
        .iter()
        .filter(|c| !add.contains(*c) && *c != RESET)
        .cloned()
        .collect();
    let cap_add = add.into_iter().filter(|c| c != RESET).collect();
    (cap_add, cap_drop)
}

fn credential_spec(
    service: &Service,
    names: &FileObjectNames,
    path: &str,
    problems: &mut Problems,
) -> Option<TaskSpecContainerSpecPrivilegesCredentialSpec> {
    let spec = service.credential_spec.as_ref()?;
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (config, file, registry) = (set(&spec.config), set(&spec.file), set(&spec.registry));
    let given: Vec<&str> = [
        ("Config", &config),
        ("File", &file),
        ("Registry", &registry),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .map(|(n, _)| n)
    .collect();
    match given.len() {
        0 => return None,
        1 => {}
        _ => {
            problems.push(
                format!("{path}.credential_spec"),
                format!(
                    "sets {}: only one of config, file and registry may be given",
                    given.join(" and ")
                ),
            );
            return None;
        }
    }
    // The CLI puts the config's ID here; the engine does the same with the
    // name given here, as it does for the config references.
    let config = match config {
        Some(key) => Some(names.config_name(&key)?.to_owned()),
        None => None,
    };
    Some(TaskSpecContainerSpecPrivilegesCredentialSpec {
        config,
        file,
        registry,
    })
}

fn healthcheck(
    h: &Healthcheck,
    duration: &DurationField<'_>,
    problems: &mut Problems,
) -> HealthConfig {
    if h.test.as_deref() == Some(&["NONE".to_owned()][..]) {
        return HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            ..Default::default()
        };
    }
    let nonzero = |v: Option<i64>| v.filter(|d| *d != 0);
    HealthConfig {
        test: h.test.clone().and_then(non_empty),
        interval: nonzero(duration(&h.interval, "healthcheck.interval", problems)),
        timeout: nonzero(duration(&h.timeout, "healthcheck.timeout", problems)),
        retries: h
            .retries
            .filter(|r| *r != 0)
            .map(|r| i64::try_from(r).unwrap_or(i64::MAX)),
        start_period: nonzero(duration(
            &h.start_period,
            "healthcheck.start_period",
            problems,
        )),
        start_interval: nonzero(duration(
            &h.start_interval,
            "healthcheck.start_interval",
            problems,
        )),
    }
}

/// `deploy.restart_policy`, or else the legacy `restart:` mapped as
/// docker/cli v28 maps it: `no` means no policy at all (so the swarm
/// default, `any`), `always` and `unless-stopped` mean `any`, `on-failure[:N]`
/// means `on-failure` with `N` attempts (0 when not given).
fn restart_policy(
    legacy: Option<&str>,
    policy: Option<&RestartPolicy>,
    path: &str,
    duration: &DurationField<'_>,
    problems: &mut Problems,
) -> Option<TaskSpecRestartPolicy> {
    if let Some(p) = policy {
        return Some(TaskSpecRestartPolicy {
            condition: p
                .condition
                .as_deref()
                .filter(|c| !c.is_empty())
                .and_then(|c| {
                    parse_enum(
                        c,
                        "none, on-failure, any",
                        format!("{path}.deploy.restart_policy.condition"),
                        problems,
                    )
                }),
            delay: duration(&p.delay, "deploy.restart_policy.delay", problems),
            max_attempts: p.max_attempts.map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
            window: duration(&p.window, "deploy.restart_policy.window", problems),
        });
    }
    let legacy = legacy.filter(|r| !r.is_empty())?;
    let field = format!("{path}.restart");
    let (name, count) = legacy.split_once(':').unwrap_or((legacy, ""));
    if name.is_empty() {
        problems.push(field, format!("{legacy:?} has no policy before the colon"));
        return None;
    }
    let attempts = if count.is_empty() {
        0
    } else {
        match count.parse::<i64>() {
            // The CLI would send a negative count as a huge unsigned one.
            Ok(n) if n < 0 => {
                problems.push(
                    field,
                    format!("{legacy:?}: the maximum retry count cannot be negative"),
                );
                return None;
            }
            Ok(n) => n,
            Err(_) => {
                problems.push(
                    field,
                    format!("{legacy:?}: the maximum retry count must be an integer"),
                );
                return None;
            }
        }
    };
    let policy = |condition| TaskSpecRestartPolicy {
        condition: Some(condition),
        ..Default::default()
    };
    match name {
        "no" => None,
        // The CLI drops a count given to these.
        "always" | "unless-stopped" => Some(policy(TaskSpecRestartPolicyConditionEnum::ANY)),
        "on-failure" => Some(TaskSpecRestartPolicy {
            max_attempts: Some(attempts),
            ..policy(TaskSpecRestartPolicyConditionEnum::ON_FAILURE)
        }),
        other => {
            problems.push(
                field,
                format!("has unknown policy {other:?}: it must be one of no, always, on-failure, unless-stopped"),
            );
            None
        }
    }
}

fn placement(deploy: &Deploy) -> TaskSpecPlacement {
    let p = &deploy.placement;
    TaskSpecPlacement {
        constraints: non_empty(p.constraints.clone()),
        preferences: non_empty(
            p.preferences
                .iter()
                .map(|spread| TaskSpecPlacementPreferences {
                    spread: Some(TaskSpecPlacementSpread {
                        spread_descriptor: non_empty(spread.clone()),
                    }),
                })
                .collect(),
        ),
        max_replicas: p
            .max_replicas_per_node
            .filter(|m| *m != 0)
            .map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
        platforms: None,
    }
}

fn mode(deploy: &Deploy, path: &str, problems: &mut Problems) -> Option<ServiceSpecMode> {
    let replicas = deploy
        .replicas
        .map(|r| i64::try_from(r).unwrap_or(i64::MAX));
    let mode = deploy.mode.as_deref().unwrap_or("");
    Some(match mode {
        "replicated" | "" => ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas }),
            ..Default::default()
        },
        "replicated-job" => ServiceSpecMode {
            replicated_job: Some(ServiceSpecModeReplicatedJob {
                max_concurrent: replicas,
                total_completions: replicas,
            }),
            ..Default::default()
        },
        "global" | "global-job" => {
            if replicas.is_some() {
                problems.push(
                    format!("{path}.deploy.replicas"),
                    "can only be used with replicated or replicated-job mode",
                );
                return None;
            }
            if mode == "global" {
                ServiceSpecMode {
                    global: Some(HashMap::new()),
                    ..Default::default()
                }
            } else {
                ServiceSpecMode {
                    global_job: Some(HashMap::new()),
                    ..Default::default()
                }
            }
        }
        other => {
            problems.push(
                format!("{path}.deploy.mode"),
                format!(
                    "must be one of replicated, global, replicated-job, global-job, not {other:?}"
                ),
            );
            return None;
        }
    })
}

/// The fields update and rollback configs share, before their enums.
struct UpdateFields {
    parallelism: Option<i64>,
    delay: Option<i64>,
    failure_action: Option<String>,
    monitor: Option<i64>,
    max_failure_ratio: Option<f64>,
    order: Option<String>,
}

/// `field` is `deploy.update_config` or `deploy.rollback_config`.
fn update_config(
    u: &UpdateConfig,
    field: &str,
    duration: &DurationField<'_>,
    problems: &mut Problems,
) -> UpdateFields {
    UpdateFields {
        // The CLI sends 1 when the block exists without `parallelism`.
        parallelism: Some(
            u.parallelism
                .map_or(1, |p| i64::try_from(p).unwrap_or(i64::MAX)),
        ),
        delay: duration(&u.delay, &format!("{field}.delay"), problems).filter(|d| *d != 0),
        failure_action: u.failure_action.clone().filter(|a| !a.is_empty()),
        monitor: duration(&u.monitor, &format!("{field}.monitor"), problems).filter(|d| *d != 0),
        // Sent even when zero (no `omitempty` in the Go type).
        max_failure_ratio: Some(u.max_failure_ratio.unwrap_or(0.0)),
        order: u.order.clone().filter(|o| !o.is_empty()),
    }
}

fn endpoint_spec(
    mode: Option<&str>,
    ports: &[Port],
    path: &str,
    problems: &mut Problems,
) -> EndpointSpec {
    let mut converted: Vec<EndpointPortConfig> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| EndpointPortConfig {
            name: None,
            protocol: p
                .protocol
                .as_deref()
                .filter(|v| !v.is_empty())
                .and_then(|v| {
                    parse_enum(
                        v,
                        "tcp, udp, sctp",
                        format!("{path}.ports.{i}.protocol"),
                        problems,
                    )
                }),
            target_port: Some(i64::from(p.target)).filter(|t| *t != 0),
            published_port: p.published.map(i64::from).filter(|t| *t != 0),
            publish_mode: p.mode.as_deref().filter(|v| !v.is_empty()).and_then(|v| {
                parse_enum(
                    v,
                    "ingress, host",
                    format!("{path}.ports.{i}.mode"),
                    problems,
                )
            }),
        })
        .collect();
    // Stable sort by published port only, as docker/cli v28 does.
    converted.sort_by_key(|p| p.published_port.unwrap_or(0));
    EndpointSpec {
        mode: mode
            .map(str::to_lowercase)
            .filter(|m| !m.is_empty())
            .and_then(|m| {
                parse_enum(
                    &m,
                    "vip, dnsrr",
                    format!("{path}.deploy.endpoint_mode"),
                    problems,
                )
            }),
        ports: non_empty(converted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_sorted_bytewise() {
        let env: IndexMap<String, Option<String>> = [
            ("b", Some("2")),
            ("A", Some("1")),
            ("a", None),
            ("B_", Some("")),
            ("B", Some("x=y")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect();
        assert_eq!(environment(&env), ["A=1", "B=x=y", "B_=", "a", "b=2"]);
    }

    #[test]
    fn extra_hosts_become_ip_then_host() {
        let hosts: Vec<String> = ["db:10.0.0.2", "v6:::1", "nocolon", "two:1.2.3.4"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            extra_hosts(&hosts),
            ["10.0.0.2 db", "::1 v6", "1.2.3.4 two"]
        );
    }

    #[test]
    fn capabilities_are_normalised_like_the_cli() {
        let s = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[], &[], &[], &[]),
            (
                &["net_admin", "CAP_SYS_TIME", " chown "],
                &[],
                &["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_TIME"],
                &[],
            ),
            (
                &["net_admin", "NET_ADMIN"],
                &["mknod"],
                &["CAP_NET_ADMIN"],
                &["CAP_MKNOD"],
            ),
            (
                &["net_admin"],
                &["NET_ADMIN", "chown"],
                &["CAP_NET_ADMIN"],
                &["CAP_CHOWN"],
            ),
            (&["all", "chown"], &["chown"], &["ALL"], &["CAP_CHOWN"]),
            (&[], &["ALL", "chown"], &[], &["ALL"]),
            (&["ALL"], &["ALL"], &["ALL"], &[]),
            (&["RESET", "chown"], &["reset"], &["CAP_CHOWN"], &[]),
        ];
        for (add, drop, want_add, want_drop) in cases {
            let (a, d) = effective_capabilities(&s(add), &s(drop));
            assert_eq!((a, d), (s(want_add), s(want_drop)), "{add:?} {drop:?}");
        }
    }

    fn no_durations(v: &Option<String>, _: &str, _: &mut Problems) -> Option<i64> {
        v.as_deref().map(|s| parse_duration(s).unwrap())
    }

    #[test]
    fn legacy_restart_maps_like_the_cli() {
        use TaskSpecRestartPolicyConditionEnum::{ANY, ON_FAILURE};
        // Checked against the requests docker/cli v28.2.2 sends.
        type Want = Option<(TaskSpecRestartPolicyConditionEnum, Option<i64>)>;
        let cases: &[(&str, Want)] = &[
            ("", None),
            ("no", None),
            ("no:2", None),
            ("always", Some((ANY, None))),
            ("always:2", Some((ANY, None))),
            ("unless-stopped", Some((ANY, None))),
            ("on-failure", Some((ON_FAILURE, Some(0)))),
            ("on-failure:3", Some((ON_FAILURE, Some(3)))),
            ("on-failure:0", Some((ON_FAILURE, Some(0)))),
        ];
        for (legacy, want) in cases {
            let mut problems = Problems::default();
            let got = restart_policy(
                Some(legacy),
                None,
                "services.web",
                &no_durations,
                &mut problems,
            );
            assert!(problems.is_empty(), "{legacy}: {:?}", problems.list);
            let want = want.map(|(c, m)| TaskSpecRestartPolicy {
                condition: Some(c),
                max_attempts: m,
                ..Default::default()
            });
            assert_eq!(got, want, "{legacy}");
        }
        for (legacy, message) in [
            (
                "sometimes",
                "has unknown policy \"sometimes\": it must be one of no, always, on-failure, unless-stopped",
            ),
            (
                "on-failure:x",
                "\"on-failure:x\": the maximum retry count must be an integer",
            ),
            (
                "on-failure:-1",
                "\"on-failure:-1\": the maximum retry count cannot be negative",
            ),
            (":3", "\":3\" has no policy before the colon"),
        ] {
            let mut problems = Problems::default();
            assert_eq!(
                restart_policy(
                    Some(legacy),
                    None,
                    "services.web",
                    &no_durations,
                    &mut problems
                ),
                None
            );
            assert_eq!(problems.list[0].message, message, "{legacy}");
            assert_eq!(problems.list[0].location.path, "services.web.restart");
        }
    }

    #[test]
    fn restart_policy_wins_over_legacy_restart() {
        let policy = RestartPolicy {
            condition: Some("on-failure".into()),
            delay: Some("5s".into()),
            max_attempts: Some(0),
            window: Some("1m".into()),
        };
        let mut problems = Problems::default();
        let got = restart_policy(
            Some("always"),
            Some(&policy),
            "services.web",
            &no_durations,
            &mut problems,
        );
        assert_eq!(
            got,
            Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE),
                delay: Some(5_000_000_000),
                max_attempts: Some(0),
                window: Some(60_000_000_000),
            })
        );
        let empty = restart_policy(
            None,
            Some(&RestartPolicy::default()),
            "services.web",
            &no_durations,
            &mut problems,
        );
        assert_eq!(empty, Some(TaskSpecRestartPolicy::default()));
    }

    #[test]
    fn modes_convert_like_the_cli() {
        let deploy = |mode: Option<&str>, replicas: Option<u64>| Deploy {
            mode: mode.map(Into::into),
            replicas,
            ..Default::default()
        };
        let replicated = |r| ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: r }),
            ..Default::default()
        };
        let cases = [
            (deploy(None, None), replicated(None)),
            (deploy(None, Some(3)), replicated(Some(3))),
            (deploy(Some("replicated"), Some(0)), replicated(Some(0))),
            (
                deploy(Some("global"), None),
                ServiceSpecMode {
                    global: Some(HashMap::new()),
                    ..Default::default()
                },
            ),
            (
                deploy(Some("global-job"), None),
                ServiceSpecMode {
                    global_job: Some(HashMap::new()),
                    ..Default::default()
                },
            ),
            (
                deploy(Some("replicated-job"), Some(2)),
                ServiceSpecMode {
                    replicated_job: Some(ServiceSpecModeReplicatedJob {
                        max_concurrent: Some(2),
                        total_completions: Some(2),
                    }),
                    ..Default::default()
                },
            ),
            (
                deploy(Some("replicated-job"), None),
                ServiceSpecMode {
                    replicated_job: Some(ServiceSpecModeReplicatedJob::default()),
                    ..Default::default()
                },
            ),
        ];
        for (input, want) in cases {
            let mut problems = Problems::default();
            assert_eq!(
                mode(&input, "services.web", &mut problems),
                Some(want),
                "{input:?}"
            );
            assert!(problems.is_empty());
        }
        for (input, path) in [
            (
                deploy(Some("global"), Some(1)),
                "services.web.deploy.replicas",
            ),
            (
                deploy(Some("global-job"), Some(1)),
                "services.web.deploy.replicas",
            ),
            (deploy(Some("daemonset"), None), "services.web.deploy.mode"),
        ] {
            let mut problems = Problems::default();
            assert_eq!(mode(&input, "services.web", &mut problems), None);
            assert_eq!(problems.list[0].location.path, path);
        }
    }

    #[test]
    fn ports_sort_by_published_port_only_and_keep_what_was_written() {
        use bollard_stubs::models::{
            EndpointPortConfigProtocolEnum as P, EndpointPortConfigPublishModeEnum as M,
        };
        let port = |target, published, protocol: Option<&str>, mode: Option<&str>| Port {
            target,
            published,
            protocol: protocol.map(Into::into),
            mode: mode.map(Into::into),
        };
        let ports = [
            port(90, Some(9091), None, Some("host")),
            port(80, Some(8080), Some("tcp"), Some("ingress")),
            port(53, None, Some("udp"), None),
            port(54, None, None, None),
        ];
        let mut problems = Problems::default();
        let got = endpoint_spec(None, &ports, "services.web", &mut problems);
        assert!(problems.is_empty());
        assert_eq!(got.mode, None);
        let got: Vec<_> = got
            .ports
            .unwrap()
            .into_iter()
            .map(|p| (p.target_port, p.published_port, p.protocol, p.publish_mode))
            .collect();
        assert_eq!(
            got,
            [
                (Some(53), None, Some(P::UDP), None),
                (Some(54), None, None, None),
                (Some(80), Some(8080), Some(P::TCP), Some(M::INGRESS)),
                (Some(90), Some(9091), None, Some(M::HOST)),
            ]
        );
        let spec = endpoint_spec(Some("DNSRR"), &[], "services.web", &mut problems);
        assert_eq!(
            spec,
            EndpointSpec {
                mode: Some(bollard_stubs::models::EndpointSpecModeEnum::DNSRR),
                ports: None
            }
        );
    }

    #[test]
    fn healthchecks_convert_like_the_cli() {
        let mut problems = Problems::default();
        let disabled = Healthcheck {
            test: Some(vec!["NONE".into()]),
            interval: Some("1s".into()),
            ..Default::default()
        };
        assert_eq!(
            healthcheck(&disabled, &no_durations, &mut problems),
            HealthConfig {
                test: Some(vec!["NONE".into()]),
                ..Default::default()
            }
        );
        let full = Healthcheck {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            interval: Some("10s".into()),
            timeout: Some("0s".into()),
            start_period: Some("1m".into()),
            start_interval: Some("2s".into()),
            retries: Some(3),
        };
        assert_eq!(
            healthcheck(&full, &no_durations, &mut problems),
            HealthConfig {
                test: Some(vec!["CMD-SHELL".into(), "true".into()]),
                interval: Some(10_000_000_000),
                timeout: None,
                retries: Some(3),
                start_period: Some(60_000_000_000),
                start_interval: Some(2_000_000_000),
            }
        );
        assert_eq!(
            healthcheck(&Healthcheck::default(), &no_durations, &mut problems),
            HealthConfig::default()
        );
    }

    #[test]
    fn update_configs_default_parallelism_to_one() {
        let mut problems = Problems::default();
        let got = update_config(
            &UpdateConfig::default(),
            "deploy.update_config",
            &no_durations,
            &mut problems,
        );
        assert_eq!(got.parallelism, Some(1));
        assert_eq!(got.max_failure_ratio, Some(0.0));
        assert_eq!(
            (got.delay, got.monitor, got.failure_action, got.order),
            (None, None, None, None)
        );
        let set = UpdateConfig {
            parallelism: Some(0),
            delay: Some("5s".into()),
            failure_action: Some("rollback".into()),
            monitor: Some("30s".into()),
            max_failure_ratio: Some(0.25),
            order: Some("start-first".into()),
        };
        let got = update_config(&set, "deploy.update_config", &no_durations, &mut problems);
        assert_eq!(got.parallelism, Some(0));
        assert_eq!(
            (got.delay, got.monitor),
            (Some(5_000_000_000), Some(30_000_000_000))
        );
        assert_eq!(got.failure_action.as_deref(), Some("rollback"));
        assert_eq!(got.order.as_deref(), Some("start-first"));
    }
}
