//! Networks: the ones a stack creates (only those some service uses, with
//! `default` when a service lists none) and each service's attachments.

use std::collections::{BTreeSet, HashMap};

use bollard_stubs::models::{Ipam, IpamConfig, NetworkAttachmentConfig, NetworkCreateRequest};

use super::names::{self, Namespace};
use super::{Problems, non_empty};
use crate::model::{ComposeFile, Network, Service};
use crate::spec::{LABEL_NAMESPACE, NetworkObject};

/// The network key a service without `networks:` is attached to.
pub const DEFAULT_NETWORK: &str = "default";
/// The driver of a stack network without `driver:`.
pub const DEFAULT_DRIVER: &str = "overlay";

/// The network keys a service is attached to, in file order.
fn service_network_keys(service: &Service) -> Vec<&str> {
    match &service.networks {
        Some(map) if !map.is_empty() => map.keys().map(String::as_str).collect(),
        _ => vec![DEFAULT_NETWORK],
    }
}

/// The Docker name of network `key`: its `name:`, its key when external,
/// else `<stack>_<key>`.
fn network_name(namespace: Namespace<'_>, key: &str, network: Option<&Network>) -> String {
    match network {
        Some(Network {
            name: Some(name), ..
        }) if !name.is_empty() => name.clone(),
        Some(Network { external: true, .. }) => key.to_owned(),
        _ => namespace.scope(key),
    }
}

/// Whether Docker accepts aliases on a network of that name: every network
/// but the predefined ones and `container:` modes.
fn is_user_defined(name: &str) -> bool {
    !matches!(name, "default" | "bridge" | "host" | "none") && !name.starts_with("container:")
}

/// A service's network attachments, sorted by target. Aliases are the
/// written ones plus the service key (so `<key>` resolves on every
/// user-defined network); targets are network names, which the engine may
/// resolve to IDs.
pub(super) fn attachments(
    namespace: Namespace<'_>,
    key: &str,
    service: &Service,
    file: &ComposeFile,
    path: &str,
    problems: &mut Problems,
) -> Vec<NetworkAttachmentConfig> {
    let mut out = Vec::new();
    for network_key in service_network_keys(service) {
        let declared = file.networks.get(network_key);
        if declared.is_none() && network_key != DEFAULT_NETWORK {
            problems.push(
                format!("{path}.networks.{network_key}"),
                format!("refers to undefined network {network_key:?}"),
            );
            continue;
        }
        let target = network_name(namespace, network_key, declared);
        let mut aliases: Vec<String> = service
            .networks
            .as_ref()
            .and_then(|m| m.get(network_key))
            .and_then(Option::as_ref)
            .map(|n| n.aliases.clone())
            .unwrap_or_default();
        if is_user_defined(&target) {
            aliases.push(key.to_owned());
        }
        out.push(NetworkAttachmentConfig {
            target: Some(target),
            aliases: non_empty(aliases),
            driver_opts: None,
        });
    }
    // Stable, like the CLI's sort.
    out.sort_by(|a, b| a.target.cmp(&b.target));
    out
}

/// The networks the stack's services use, sorted by name, external ones
/// included (marked so) for the engine to check.
pub(super) fn networks(
    namespace: Namespace<'_>,
    file: &ComposeFile,
    problems: &mut Problems,
) -> Vec<NetworkObject> {
    let used: BTreeSet<&str> = file
        .services
        .values()
        .flat_map(service_network_keys)
        .collect();
    let mut out: Vec<NetworkObject> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for key in used {
        let declared = file.networks.get(key);
        if declared.is_none() && key != DEFAULT_NETWORK {
            // Reported once per service by `attachments`.
            continue;
        }
        let network = declared.cloned().unwrap_or_default();
        let name = network_name(namespace, key, Some(&network));
        let path = format!("networks.{key}");
        if let Some(other) = seen.insert(name.clone(), key.to_owned()) {
            problems.push(
                &path,
                format!("gets the same name {name:?} as network {other:?}"),
            );
            continue;
        }
        if network.external {
            out.push(NetworkObject {
                key: key.to_owned(),
                name: name.clone(),
                external: true,
                create: NetworkCreateRequest {
                    name,
                    ..Default::default()
                },
            });
            continue;
        }
        let driver = network
            .driver
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| DEFAULT_DRIVER.to_owned());
        if driver == DEFAULT_DRIVER && !names::is_dns_label(&name) {
            problems.push(
                &path,
                format!(
                    "gives the network name {name:?}, which Docker refuses for a swarm network: at most {} \
                     characters among [a-zA-Z0-9-_], starting and ending with a letter or a digit",
                    names::MAX_DNS_LABEL
                ),
            );
            continue;
        }
        let mut labels: HashMap<String, String> = network
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(LABEL_NAMESPACE.to_owned(), namespace.stack().to_owned());
        let ipam = network.ipam.as_ref().and_then(|ipam| {
            let driver = ipam.driver.clone().filter(|d| !d.is_empty());
            if driver.is_none() && ipam.subnets.is_empty() {
                return None;
            }
            Some(Ipam {
                driver,
                config: non_empty(
                    ipam.subnets
                        .iter()
                        .map(|subnet| IpamConfig {
                            subnet: non_empty(subnet.clone()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                options: None,
            })
        });
        out.push(NetworkObject {
            key: key.to_owned(),
            name: name.clone(),
            external: false,
            create: NetworkCreateRequest {
                name,
                driver: Some(driver),
                internal: Some(network.internal),
                attachable: Some(network.attachable),
                ipam,
                options: non_empty(
                    network
                        .driver_opts
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                labels: Some(labels),
                ..Default::default()
            },
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;
    use crate::model::{Ipam as ModelIpam, ServiceNetwork};

    fn service_on(networks: &[(&str, &[&str])]) -> Service {
        let map: IndexMap<String, Option<ServiceNetwork>> = networks
            .iter()
            .map(|(k, aliases)| {
                let options = (!aliases.is_empty()).then(|| ServiceNetwork {
                    aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
                    ..Default::default()
                });
                ((*k).to_owned(), options)
            })
            .collect();
        Service {
            networks: Some(map),
            ..Default::default()
        }
    }

    fn stack_labels(extra: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        let mut labels: HashMap<String, String> = extra
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        labels.insert(LABEL_NAMESPACE.into(), "shop".into());
        Some(labels)
    }

    fn file_with(services: Vec<(&str, Service)>, networks: Vec<(&str, Network)>) -> ComposeFile {
        ComposeFile {
            services: services
                .into_iter()
                .map(|(k, s)| (k.to_owned(), s))
                .collect(),
            networks: networks
                .into_iter()
                .map(|(k, n)| (k.to_owned(), n))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn services_without_networks_use_the_default_network() {
        let file = file_with(vec![("web", Service::default())], vec![]);
        let mut problems = Problems::default();
        let got = attachments(
            Namespace::new("shop"),
            "web",
            &file.services["web"],
            &file,
            "services.web",
            &mut problems,
        );
        assert_eq!(
            got,
            [NetworkAttachmentConfig {
                target: Some("shop_default".into()),
                aliases: Some(vec!["web".into()]),
                driver_opts: None
            }]
        );
        let nets = networks(Namespace::new("shop"), &file, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(
            nets,
            [NetworkObject {
                key: "default".into(),
                name: "shop_default".into(),
                external: false,
                create: NetworkCreateRequest {
                    name: "shop_default".into(),
                    driver: Some("overlay".into()),
                    internal: Some(false),
                    attachable: Some(false),
                    labels: stack_labels(&[]),
                    ..Default::default()
                },
            }]
        );
    }

    #[test]
    fn attachments_are_sorted_with_aliases_and_the_service_key() {
        let file = file_with(
            vec![(
                "web",
                service_on(&[
                    ("zeta", &["z1", "z2"]),
                    ("alpha", &[]),
                    ("outside", &[]),
                    ("host", &[]),
                ]),
            )],
            vec![
                ("zeta", Network::default()),
                (
                    "alpha",
                    Network {
                        name: Some("explicit".into()),
                        ..Default::default()
                    },
                ),
                (
                    "outside",
                    Network {
                        external: true,
                        ..Default::default()
                    },
                ),
                (
                    "host",
                    Network {
                        external: true,
                        name: Some("host".into()),
                        ..Default::default()
                    },
                ),
            ],
        );
        let mut problems = Problems::default();
        let got = attachments(
            Namespace::new("shop"),
            "web",
            &file.services["web"],
            &file,
            "services.web",
            &mut problems,
        );
        assert!(problems.is_empty());
        let got: Vec<(String, Option<Vec<String>>)> = got
            .into_iter()
            .map(|a| (a.target.unwrap(), a.aliases))
            .collect();
        assert_eq!(
            got,
            [
                ("explicit".into(), Some(vec!["web".into()])),
                ("host".into(), None),
                ("outside".into(), Some(vec!["web".into()])),
                (
                    "shop_zeta".into(),
                    Some(vec!["z1".into(), "z2".into(), "web".into()])
                ),
            ]
        );
    }

    #[test]
    fn only_used_networks_are_created_and_externals_are_marked() {
        let mut opts = IndexMap::new();
        opts.insert("encrypted".to_owned(), "true".to_owned());
        let mut labels = IndexMap::new();
        labels.insert("team".to_owned(), "a".to_owned());
        let file = file_with(
            vec![
                ("web", service_on(&[("back", &[]), ("ext", &[])])),
                ("db", service_on(&[("back", &[])])),
            ],
            vec![
                (
                    "back",
                    Network {
                        driver: Some("overlay".into()),
                        driver_opts: opts,
                        internal: true,
                        attachable: true,
                        labels,
                        ipam: Some(ModelIpam {
                            driver: None,
                            subnets: vec!["10.9.0.0/24".into()],
                        }),
                        ..Default::default()
                    },
                ),
                ("unused", Network::default()),
                (
                    "ext",
                    Network {
                        external: true,
                        name: Some("shared".into()),
                        ..Default::default()
                    },
                ),
            ],
        );
        let mut problems = Problems::default();
        let nets = networks(Namespace::new("shop"), &file, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(nets.len(), 2);
        assert_eq!(
            nets[0],
            NetworkObject {
                key: "ext".into(),
                name: "shared".into(),
                external: true,
                create: NetworkCreateRequest {
                    name: "shared".into(),
                    ..Default::default()
                },
            }
        );
        assert_eq!(
            nets[1].create,
            NetworkCreateRequest {
                name: "shop_back".into(),
                driver: Some("overlay".into()),
                internal: Some(true),
                attachable: Some(true),
                ipam: Some(Ipam {
                    driver: None,
                    config: Some(vec![IpamConfig {
                        subnet: Some("10.9.0.0/24".into()),
                        ..Default::default()
                    }]),
                    options: None,
                }),
                options: Some(
                    [("encrypted".to_owned(), "true".to_owned())]
                        .into_iter()
                        .collect()
                ),
                labels: stack_labels(&[("team", "a")]),
                ..Default::default()
            }
        );
    }

    #[test]
    fn ipam_is_sent_only_when_configured() {
        let cases = [
            (None, None),
            (Some(ModelIpam::default()), None),
            (
                Some(ModelIpam {
                    driver: Some("default".into()),
                    subnets: vec![],
                }),
                Some(Ipam {
                    driver: Some("default".into()),
                    config: None,
                    options: None,
                }),
            ),
        ];
        for (ipam, want) in cases {
            let file = file_with(
                vec![("web", service_on(&[("n", &[])]))],
                vec![(
                    "n",
                    Network {
                        ipam: ipam.clone(),
                        ..Default::default()
                    },
                )],
            );
            let mut problems = Problems::default();
            let nets = networks(Namespace::new("shop"), &file, &mut problems);
            assert_eq!(nets[0].create.ipam, want, "{ipam:?}");
        }
    }

    #[test]
    fn bad_networks_are_problems() {
        let long = "n".repeat(60);
        let file = file_with(
            vec![(
                "web",
                service_on(&[("nope", &[]), (long.as_str(), &[]), ("a", &[]), ("b", &[])]),
            )],
            vec![
                (long.as_str(), Network::default()),
                (
                    "a",
                    Network {
                        name: Some("same".into()),
                        ..Default::default()
                    },
                ),
                (
                    "b",
                    Network {
                        name: Some("same".into()),
                        ..Default::default()
                    },
                ),
            ],
        );
        let mut problems = Problems::default();
        attachments(
            Namespace::new("shop"),
            "web",
            &file.services["web"],
            &file,
            "services.web",
            &mut problems,
        );
        networks(Namespace::new("shop"), &file, &mut problems);
        let got: Vec<String> = problems
            .list
            .iter()
            .map(|p| format!("{} {}", p.location.path, p.message))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[0],
            "services.web.networks.nope refers to undefined network \"nope\""
        );
        assert_eq!(
            got[1],
            "networks.b gets the same name \"same\" as network \"a\""
        );
        assert!(
            got[2].starts_with(&format!(
                "networks.{long} gives the network name \"shop_{long}\""
            )),
            "{}",
            got[2]
        );
    }
}
