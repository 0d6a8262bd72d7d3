//! Conversion of a loaded [`ComposeFile`] into a [`StackSpec`], as
//! `docker stack deploy` (docker/cli v28, `cli/compose/convert`) does it.
//!
//! The result has the names, labels and spec shapes the CLI would send, so
//! the stacks voc deploys are indistinguishable from the CLI's. Two
//! deliberate differences:
//!
//! - a secret or config without an explicit `name:` is named
//!   `<stack>_<key>_<hash8>` after its content (see [`names::content_hash`]),
//!   so a changed file makes a new object instead of a failed deploy;
//! - every name is checked against the daemon's rules here, so a bad file
//!   fails before anything is created (the CLI finds out half-way).
//!
//! Durations, CPU counts and the other strings the model keeps as written are
//! parsed here. Loading, interpolation and schema validation are the
//! loader's; talking to Docker (IDs, image pinning, creating objects) is the
//! engine's. Shapes follow Go's `omitempty`: a field the CLI leaves out is
//! `None` here, so an unchanged file always gives an equal spec.

pub mod duration;
mod file_object;
mod mount;
pub mod names;
mod network;
mod resources;
mod service;

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::{Location, Problem};
use crate::model::ComposeFile;
use crate::spec::StackSpec;

use file_object::FileObjectNames;
use names::Namespace;

/// Everything that keeps a Compose file from becoming a stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConvertError {
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConvertError {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            // The model does not know which file a field came from; without
            // a file, print the field path alone.
            if problem.location.file.as_os_str().is_empty() {
                if problem.location.path.is_empty() {
                    write!(f, "{}", problem.message)?;
                } else {
                    write!(f, "{} {}", problem.location.path, problem.message)?;
                }
            } else {
                write!(f, "{problem}")?;
            }
        }
        Ok(())
    }
}

/// Converts a loaded Compose file into the swarm objects of stack `stack`.
///
/// Every problem is reported, not only the first: unknown references
/// (`undefined network "back"`), values the daemon would reject (names,
/// CPU counts, enums) and conflicting options.
pub fn convert(stack: &str, file: &ComposeFile) -> Result<StackSpec, ConvertError> {
    let mut problems = Problems::default();
    if let Some(message) = names::stack_name_problem(stack) {
        problems.push("", message);
        return Err(problems.into_error());
    }
    let namespace = Namespace::new(stack);
    let secrets = file_object::secrets(namespace, &file.secrets, &mut problems);
    let configs = file_object::configs(namespace, &file.configs, &mut problems);
    let names = FileObjectNames::new(
        namespace,
        (&file.secrets, &secrets),
        (&file.configs, &configs),
    );

    let mut services = Vec::with_capacity(file.services.len());
    for (key, service) in &file.services {
        if let Some(object) = service::service(namespace, key, service, file, &names, &mut problems)
        {
            services.push(object);
        }
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));

    let networks = network::networks(namespace, file, &mut problems);

    if problems.is_empty() {
        Ok(StackSpec {
            name: stack.to_owned(),
            services,
            networks,
            secrets,
            configs,
        })
    } else {
        Err(problems.into_error())
    }
}

/// Problems found so far, each at a field path.
#[derive(Debug, Default)]
struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    /// Records `message` about the field at `path` (dot-separated).
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem {
            location: Location {
                file: PathBuf::new(),
                line: None,
                path: path.into(),
            },
            message: message.into(),
        });
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn into_error(self) -> ConvertError {
        ConvertError {
            problems: self.list,
        }
    }
}

/// Parses an enum value the way bollard spells it, or records a problem.
fn parse_enum<E: std::str::FromStr>(
    value: &str,
    allowed: &str,
    path: impl Into<String>,
    problems: &mut Problems,
) -> Option<E> {
    match value.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            problems.push(path, format!("must be one of {allowed}, not {value:?}"));
            None
        }
    }
}

/// `Some(v)` unless `v` is empty, as Go's `omitempty` does for slices and maps.
fn non_empty<C: IsEmpty>(v: C) -> Option<C> {
    if v.is_empty() { None } else { Some(v) }
}

/// Collections that Go's `omitempty` leaves out when empty.
trait IsEmpty {
    fn is_empty(&self) -> bool;
}

impl<T> IsEmpty for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl<K, V, S> IsEmpty for std::collections::HashMap<K, V, S> {
    fn is_empty(&self) -> bool {
        std::collections::HashMap::is_empty(self)
    }
}

impl IsEmpty for String {
    fn is_empty(&self) -> bool {
        String::is_empty(self)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use indexmap::IndexMap;
    use serde_json::{Value, json};

    use super::*;
    use crate::model::{
        Deploy, FileObject, FileReference, Healthcheck, Network, Port, Service, ServiceNetwork,
        ServiceVolume, UpdateConfig, Volume,
    };

    /// The JSON as the daemon reads it: Go's decoder matches keys without
    /// case and treats `null` like an absent key; `omitempty` zero values
    /// are dropped on the CLI side only, so drop them on both.
    fn as_daemon_reads(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| {
                        !matches!(v, Value::Null | Value::Bool(false))
                            && *v != &json!("")
                            && v.as_f64() != Some(0.0)
                    })
                    .map(|(k, v)| (k.to_lowercase(), as_daemon_reads(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(as_daemon_reads).collect()),
            other => other.clone(),
        }
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    /// A service like the one whose create request was captured from
    /// `docker stack deploy` (v28.2.2) below.
    fn captured_file() -> ComposeFile {
        let mut environment = IndexMap::new();
        environment.insert(s("B"), Some(s("2")));
        environment.insert(s("A"), Some(s("1")));
        environment.insert(s("C"), None);
        let mut networks = IndexMap::new();
        networks.insert(
            s("back"),
            Some(ServiceNetwork {
                aliases: vec![s("w")],
                ..Default::default()
            }),
        );
        let web = Service {
            image: Some(s("voc-test/busybox:latest")),
            command: Some(vec![s("sleep"), s("3600")]),
            environment,
            labels: [(s("x"), s("y"))].into_iter().collect(),
            ports: vec![
                Port {
                    target: 80,
                    published: Some(8081),
                    protocol: Some(s("tcp")),
                    mode: Some(s("ingress")),
                },
                Port {
                    target: 90,
                    published: Some(9091),
                    protocol: None,
                    mode: Some(s("host")),
                },
            ],
            secrets: vec![FileReference {
                source: s("sec"),
                ..Default::default()
            }],
            volumes: vec![
                ServiceVolume {
                    kind: s("volume"),
                    source: Some(s("data")),
                    target: s("/data"),
                    ..Default::default()
                },
                ServiceVolume {
                    kind: s("bind"),
                    source: Some(s("/tmp/conv/s1")),
                    target: s("/src"),
                    read_only: true,
                    ..Default::default()
                },
                ServiceVolume {
                    kind: s("tmpfs"),
                    target: s("/tmp"),
                    tmpfs_size: Some(1000),
                    ..Default::default()
                },
            ],
            healthcheck: Some(Healthcheck {
                test: Some(vec![s("CMD-SHELL"), s("true")]),
                interval: Some(s("10s")),
                ..Default::default()
            }),
            deploy: Some(Deploy {
                update_config: Some(UpdateConfig {
                    delay: Some(s("5s")),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            cap_add: vec![s("net_admin")],
            networks: Some(networks),
            ..Default::default()
        };
        ComposeFile {
            services: [(s("web"), web)].into_iter().collect(),
            networks: [(s("back"), Network::default())].into_iter().collect(),
            volumes: [(s("data"), Volume::default())].into_iter().collect(),
            secrets: [(
                s("sec"),
                FileObject {
                    file: Some(PathBuf::from("/tmp/conv/s1/sec.txt")),
                    content: Some(b"hello\n".to_vec()),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn service_spec_reads_like_the_clis_request() {
        let captured: Value = serde_json::from_str(r#"{"Name":"cvt1_web","Labels":{"com.docker.stack.image":"voc-test/busybox:latest","com.docker.stack.namespace":"cvt1"},"TaskTemplate":{"ContainerSpec":{"Image":"voc-test/busybox:latest","Labels":{"com.docker.stack.namespace":"cvt1","x":"y"},"Args":["sleep","3600"],"Env":["A=1","B=2","C"],"Privileges":{"CredentialSpec":null,"SELinuxContext":null,"NoNewPrivileges":false},"Mounts":[{"Type":"volume","Source":"cvt1_data","Target":"/data","VolumeOptions":{"Labels":{"com.docker.stack.namespace":"cvt1"}}},{"Type":"bind","Source":"/tmp/conv/s1","Target":"/src","ReadOnly":true},{"Type":"tmpfs","Target":"/tmp","TmpfsOptions":{"SizeBytes":1000}}],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":10000000000},"Secrets":[{"File":{"Name":"sec","UID":"0","GID":"0","Mode":292},"SecretID":"7u1tkzcv90ydg2piumz2bjgm7","SecretName":"cvt1_sec"}],"CapabilityAdd":["CAP_NET_ADMIN"]},"Resources":{},"Placement":{},"Networks":[{"Target":"cvt1_back","Aliases":["w","web"]}],"ForceUpdate":0},"Mode":{"Replicated":{}},"UpdateConfig":{"Parallelism":1,"Delay":5000000000,"MaxFailureRatio":0,"Order":""},"EndpointSpec":{"Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8081,"PublishMode":"ingress"},{"TargetPort":90,"PublishedPort":9091,"PublishMode":"host"}]}}"#).unwrap();
        let spec = convert("cvt1", &captured_file()).unwrap();
        let mut ours = serde_json::to_value(&spec.services[0].spec).unwrap();
        // The engine fills in IDs and voc names secrets after their content:
        // compare those separately.
        let secret = &mut ours["TaskTemplate"]["ContainerSpec"]["Secrets"][0];
        assert_eq!(secret["SecretName"], json!("cvt1_sec_5891b5b5"));
        secret["SecretName"] = json!("cvt1_sec");
        secret["SecretID"] = json!("7u1tkzcv90ydg2piumz2bjgm7");
        assert_eq!(as_daemon_reads(&ours), as_daemon_reads(&captured));
    }

    #[test]
    fn network_and_secret_read_like_the_clis_requests() {
        let spec = convert("cvt1", &captured_file()).unwrap();
        let captured: Value = serde_json::from_str(r#"{"Driver":"overlay","Scope":"","IPAM":null,"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":null,"Labels":{"com.docker.stack.namespace":"cvt1"},"Name":"cvt1_back","CheckDuplicate":true}"#).unwrap();
        let mut want = as_daemon_reads(&captured);
        // Not in API 1.44+ (bollard's models); the engine checks names itself.
        want.as_object_mut().unwrap().remove("checkduplicate");
        assert_eq!(spec.networks.len(), 1);
        assert_eq!(
            as_daemon_reads(&serde_json::to_value(&spec.networks[0].create).unwrap()),
            want
        );
        assert_eq!(spec.secrets.len(), 1);
        let secret = &spec.secrets[0];
        assert_eq!(
            (secret.key.as_str(), secret.name.as_str(), &secret.data[..]),
            ("sec", "cvt1_sec_5891b5b5", &b"hello\n"[..])
        );
        assert_eq!(
            secret
                .labels
                .get(crate::spec::LABEL_NAMESPACE)
                .map(String::as_str),
            Some("cvt1")
        );
    }

    #[test]
    fn the_same_file_gives_the_same_spec() {
        let a = convert("shop", &captured_file()).unwrap();
        let b = convert("shop", &captured_file()).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_value(&a.services[0].spec).unwrap(),
            serde_json::to_value(&b.services[0].spec).unwrap()
        );
    }

    #[test]
    fn services_are_sorted_by_name() {
        let mut file = ComposeFile::default();
        for key in ["web", "api", "db"] {
            file.services.insert(
                s(key),
                Service {
                    image: Some(s("x")),
                    ..Default::default()
                },
            );
        }
        let spec = convert("shop", &file).unwrap();
        let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["shop_api", "shop_db", "shop_web"]);
        assert_eq!(spec.services[2].key, "web");
        assert_eq!(spec.services[2].image, "x");
        assert_eq!(spec.name, "shop");
    }

    #[test]
    fn every_problem_is_reported_one_per_line() {
        let mut file = ComposeFile::default();
        file.services.insert(
            s("web."),
            Service {
                image: Some(s("x")),
                ..Default::default()
            },
        );
        file.services.insert(
            s("api"),
            Service {
                stop_grace_period: Some(s("10x")),
                secrets: vec![FileReference {
                    source: s("missing"),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        let err = convert("shop", &file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "services.web. gives the service name \"shop_web.\", which Docker refuses: at most 63 characters \
             among [a-zA-Z0-9-_], starting and ending with a letter or a digit\n\
             services.api has no image: every service of a stack needs `image`\n\
             services.api.secrets.0 refers to undefined secret \"missing\"\n\
             services.api.stop_grace_period invalid duration \"10x\": unknown unit"
        );
    }

    #[test]
    fn bad_stack_names_are_refused_first() {
        let err = convert("-x", &captured_file()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stack name \"-x\" must start with a letter or a digit"
        );
    }

    #[test]
    fn long_stack_and_key_overflow_the_service_name() {
        let mut file = ComposeFile::default();
        file.services.insert(
            "k".repeat(40),
            Service {
                image: Some(s("x")),
                ..Default::default()
            },
        );
        let err = convert(&"s".repeat(30), &file).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(
            err.problems[0]
                .message
                .starts_with("gives the service name"),
            "{err}"
        );
    }
}
