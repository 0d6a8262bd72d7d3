//! One read of the swarm's live state, shared by every stack of a deploy.
//!
//! The docker CLI reads the swarm piecemeal, per stack and per object
//! (`/info`, a network inspect per external network, a secret and a config
//! inspect per object, a service list per stack). Deploying a conf repo's
//! twenty stacks that way costs a hundred requests even when nothing
//! changed. A [`SwarmSnapshot`] reads everything a batch of deploys needs up
//! front, with at most four concurrent requests, whatever the number of
//! stacks:
//!
//! - `GET /services` filtered by the stack label: every stack's services in
//!   one answer (only the one stack's when the batch has one). It also
//!   tells whether the engine is a swarm manager: anything else answers 503
//!   "This node is not a swarm manager". The docker CLI asks `/info`
//!   instead, but `/info` is by far the slowest request of a deploy (about
//!   9 ms here, against 1 ms for a listing: the daemon runs `runc` and
//!   `containerd` to report their versions), and would double the time of
//!   a batch that changes nothing;
//! - `GET /networks`, when some spec has networks: external networks are
//!   checked and existing stack networks found in it;
//! - `GET /secrets` and `GET /configs`: existing objects are found by name,
//!   and a stack's labelled objects that its spec no longer names are the
//!   old versions a deploy cleans up. These two are read even when no spec
//!   declares a secret or config, since a stack that dropped its last one
//!   still has old versions to remove.
//!
//! From there, a stack that did not change costs no further request:
//! [`super::deploy`] works out every step from the snapshot and sends only
//! the writes. The snapshot is read after the stacks' locks are taken, so no
//! deploy of those stacks through this [`Engine`](super::Engine) can change
//! them underneath it.

use std::collections::{HashMap, HashSet};

use super::request::DockerApi;
use bollard::models::Service;
use bollard::query_parameters::{ListNetworksOptions, ListServicesOptions};

use super::error::{ApiContext, Error, ObjectKind, Result};
use super::file_object::{self, FileKind, LiveFileObject};
use super::network::LiveNetwork;
use super::stack::stack_filter;
use crate::compose::StackSpec;
use crate::compose::spec::{FileSpecObject, LABEL_NAMESPACE};

/// The live state of the swarm, as far as a batch of deploys needs it.
#[derive(Debug, Default)]
pub(crate) struct SwarmSnapshot {
    /// The services of the batch's stacks, by stack name.
    services: HashMap<String, Vec<Service>>,
    /// Every network the engine knows (empty when no spec has networks).
    pub networks: Vec<LiveNetwork>,
    /// Every secret of the swarm (without their data, which swarm never
    /// returns).
    pub secrets: Vec<LiveFileObject>,
    /// Every config of the swarm, with its data.
    pub configs: Vec<LiveFileObject>,
}

impl SwarmSnapshot {
    /// Reads what deploying `specs` needs, with the requests sent
    /// concurrently. Reads nothing for an empty batch.
    pub(crate) async fn read(docker: &DockerApi, specs: &[&StackSpec]) -> Result<SwarmSnapshot> {
        if specs.is_empty() {
            return Ok(SwarmSnapshot::default());
        }
        let stacks: HashSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let needs_networks = specs.iter().any(|s| !s.networks.is_empty());
        let (services, networks, secrets, configs) = tokio::try_join!(
            read_services(docker, &stacks),
            async {
                if needs_networks {
                    read_networks(docker).await
                } else {
                    Ok(Vec::new())
                }
            },
            file_object::list_all(docker, FileKind::Secret),
            file_object::list_all(docker, FileKind::Config),
        )?;
        Ok(SwarmSnapshot {
            services,
            networks,
            secrets,
            configs,
        })
    }

    /// Takes stack `stack`'s live services out of the snapshot (each stack's
    /// deploy owns its services; the rest is shared).
    pub(crate) fn take_services(&mut self, stack: &str) -> Vec<Service> {
        self.services.remove(stack).unwrap_or_default()
    }

    /// The names of the networks labelled as stack `stack`'s.
    pub(crate) fn stack_networks(&self, stack: &str) -> HashSet<&str> {
        self.networks
            .iter()
            .filter(|n| n.stack.as_deref() == Some(stack))
            .map(|n| n.name.as_str())
            .collect()
    }

    /// The secrets (or configs) labelled as stack `spec`'s that its spec no
    /// longer names: old versions, to remove once nothing uses them.
    pub(crate) fn stale_versions(&self, kind: FileKind, spec: &StackSpec) -> Vec<&LiveFileObject> {
        let (live, wanted): (&[LiveFileObject], &[FileSpecObject]) = match kind {
            FileKind::Secret => (&self.secrets, &spec.secrets),
            FileKind::Config => (&self.configs, &spec.configs),
        };
        let keep: HashSet<&str> = wanted.iter().map(|o| o.name.as_str()).collect();
        live.iter()
            .filter(|o| o.labels.get(LABEL_NAMESPACE).map(String::as_str) == Some(&spec.name))
            .filter(|o| !keep.contains(o.name.as_str()))
            .collect()
    }

    /// The live secrets or configs.
    pub(crate) fn file_objects(&self, kind: FileKind) -> &[LiveFileObject] {
        match kind {
            FileKind::Secret => &self.secrets,
            FileKind::Config => &self.configs,
        }
    }
}

/// True for the daemon's answer to a swarm request on an engine that is
/// not a swarm manager (a worker, or not in a swarm at all).
fn is_not_manager(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError { status_code: 503, message }
            if message.contains("not a swarm manager")
    )
}

/// The services of `stacks`, by stack, in one request: filtered by the one
/// stack's label when there is one, else by the label's key (every stack's
/// services) and sorted out here.
async fn read_services(
    docker: &DockerApi,
    stacks: &HashSet<&str>,
) -> Result<HashMap<String, Vec<Service>>> {
    let (filters, scope) = match stacks.iter().next() {
        Some(only) if stacks.len() == 1 => (stack_filter(only), *only),
        _ => (
            HashMap::from([("label".to_owned(), vec![LABEL_NAMESPACE.to_owned()])]),
            "all stacks",
        ),
    };
    let options = ListServicesOptions {
        filters: Some(filters),
        status: None,
    };
    let services = match docker
        .call("list_services", |docker| {
            docker.list_services(Some(options))
        })
        .await
    {
        Err(e) if is_not_manager(&e) => return Err(Error::NotSwarmManager),
        listed => listed.during("listing services of", ObjectKind::Service, scope)?,
    };
    let mut by_stack: HashMap<String, Vec<Service>> = HashMap::new();
    for service in services {
        let stack = service
            .spec
            .as_ref()
            .and_then(|spec| spec.labels.as_ref()?.get(LABEL_NAMESPACE))
            .filter(|stack| stacks.contains(stack.as_str()))
            .cloned();
        if let Some(stack) = stack {
            by_stack.entry(stack).or_default().push(service);
        }
    }
    Ok(by_stack)
}

/// Every network, local and swarm-scoped (a manager lists the swarm's
/// networks even where no task of them runs).
async fn read_networks(docker: &DockerApi) -> Result<Vec<LiveNetwork>> {
    let networks = docker
        .call("list_networks", |docker| {
            docker.list_networks(None::<ListNetworksOptions>)
        })
        .await
        .during("listing", ObjectKind::Network, "all networks")?;
    Ok(networks.into_iter().map(LiveNetwork::from).collect())
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;

    fn live(name: &str, stack: Option<&str>) -> LiveFileObject {
        LiveFileObject {
            id: format!("id-{name}"),
            name: name.into(),
            version: 1,
            labels: stack
                .map(|s| HashMap::from([(LABEL_NAMESPACE.to_owned(), s.to_owned())]))
                .unwrap_or_default(),
            data: None,
        }
    }

    fn wanted(name: &str) -> FileSpecObject {
        FileSpecObject {
            key: "k".into(),
            name: name.into(),
            external: false,
            labels: IndexMap::new(),
            data: vec![],
            driver: None,
            driver_opts: IndexMap::new(),
            template_driver: None,
        }
    }

    #[test]
    fn stale_versions_are_the_stacks_objects_its_spec_no_longer_names() {
        let snapshot = SwarmSnapshot {
            configs: vec![
                live("s_site_11111111", Some("s")),
                live("s_site_22222222", Some("s")),
                live("other_site_33333333", Some("other")),
                live("s_unlabelled", None),
            ],
            ..SwarmSnapshot::default()
        };
        let spec = StackSpec {
            name: "s".into(),
            services: vec![],
            networks: vec![],
            secrets: vec![],
            configs: vec![wanted("s_site_22222222")],
        };
        let stale: Vec<&str> = snapshot
            .stale_versions(FileKind::Config, &spec)
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(stale, ["s_site_11111111"]);
        assert!(snapshot.stale_versions(FileKind::Secret, &spec).is_empty());
    }

    #[test]
    fn only_the_not_a_manager_answer_means_not_a_manager() {
        let answer =
            |status_code: u16, message: &str| bollard::errors::Error::DockerResponseServerError {
                status_code,
                message: message.to_owned(),
            };
        let cases = [
            (
                answer(
                    503,
                    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.",
                ),
                true,
            ),
            (
                answer(
                    503,
                    "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
                ),
                true,
            ),
            (answer(503, "rpc error: code = Unavailable"), false),
            (answer(500, "not a swarm manager"), false),
        ];
        for (error, expected) in cases {
            assert_eq!(is_not_manager(&error), expected, "{error}");
        }
    }

    #[test]
    fn stack_networks_are_found_by_label() {
        let network = |name: &str, stack: Option<&str>| LiveNetwork {
            id: format!("id-{name}"),
            name: name.into(),
            scope: "swarm".into(),
            stack: stack.map(str::to_owned),
        };
        let snapshot = SwarmSnapshot {
            networks: vec![
                network("s_default", Some("s")),
                network("s_back", Some("s")),
                network("t_default", Some("t")),
                network("ingress", None),
            ],
            ..SwarmSnapshot::default()
        };
        assert_eq!(
            snapshot.stack_networks("s"),
            HashSet::from(["s_default", "s_back"])
        );
        assert!(snapshot.stack_networks("u").is_empty());
    }
}
