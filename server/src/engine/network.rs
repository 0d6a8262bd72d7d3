//! Stack networks: external ones must exist and be swarm-scoped; missing
//! stack networks are created; existing ones are never updated, and only
//! [`super::remove`] removes them. A deploy finds existing networks in its
//! snapshot of the swarm, so checking them takes no request of its own.

use std::collections::HashSet;

use super::request::DockerApi;
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions};

use super::error::{ApiContext, Error, ObjectKind, Result, is_not_found};
use super::stack::stack_filter;
use crate::compose::spec::{LABEL_NAMESPACE, NetworkObject};

/// The driver of stack networks that do not name one.
const DEFAULT_DRIVER: &str = "overlay";

/// Networks every node has as local networks: nothing to check.
fn is_predefined(name: &str) -> bool {
    matches!(name, "bridge" | "host" | "none" | "default") || name.starts_with("container:")
}

/// A network as the engine lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveNetwork {
    pub id: String,
    pub name: String,
    /// `swarm`, `local` or `global`.
    pub scope: String,
    /// The stack it belongs to (its `com.docker.stack.namespace` label).
    pub stack: Option<String>,
}

impl From<bollard::models::Network> for LiveNetwork {
    fn from(network: bollard::models::Network) -> LiveNetwork {
        LiveNetwork {
            id: network.id.unwrap_or_default(),
            name: network.name.unwrap_or_default(),
            scope: network.scope.unwrap_or_default(),
            stack: network
                .labels
                .and_then(|mut labels| labels.remove(LABEL_NAMESPACE)),
        }
    }
}

/// Fails unless every external network of `networks` exists and is
/// swarm-scoped (with the docker CLI's messages). Networks are looked up in
/// `known` (every network, listed once) by name or ID; only one not found
/// there is inspected, so that the daemon's own lookup (ID prefixes) decides
/// and says "not found".
pub(crate) async fn check_external(
    docker: &DockerApi,
    known: &[LiveNetwork],
    networks: &[NetworkObject],
) -> Result<()> {
    for network in networks
        .iter()
        .filter(|n| n.external && !is_predefined(&n.name))
    {
        let matches = || {
            known
                .iter()
                .filter(|k| k.name == network.name || k.id == network.name)
        };
        // A local and a swarm network may share a name: the swarm one counts.
        let found = matches()
            .find(|k| k.scope == "swarm")
            .or_else(|| matches().next());
        let scope = match found {
            Some(found) => found.scope.clone(),
            None => inspect_scope(docker, &network.name).await?,
        };
        if scope != "swarm" {
            return Err(Error::ExternalNetworkScope {
                network: network.name.clone(),
                scope,
            });
        }
    }
    Ok(())
}

/// The scope of network `name` by inspecting it; fails with the docker
/// CLI's message if it does not exist.
async fn inspect_scope(docker: &DockerApi, name: &str) -> Result<String> {
    let options = InspectNetworkOptions {
        verbose: false,
        scope: None,
    };
    match docker
        .call("inspect_network", |docker| {
            docker.inspect_network(name, Some(options))
        })
        .await
    {
        Ok(found) => Ok(found.scope.unwrap_or_default()),
        Err(e) if is_not_found(&e) => Err(Error::ExternalNetworkNotFound {
            network: name.to_owned(),
        }),
        Err(e) => Err(e).during("inspecting", ObjectKind::Network, name),
    }
}

/// The names of the networks that carry stack `stack`'s label.
pub(crate) async fn list_stack_networks(
    docker: &DockerApi,
    stack: &str,
) -> Result<Vec<(String, String)>> {
    let options = ListNetworksOptions {
        filters: Some(stack_filter(stack)),
    };
    let networks = docker
        .call("list_networks", |docker| {
            docker.list_networks(Some(options))
        })
        .await
        .during("listing networks of stack", ObjectKind::Network, stack)?;
    Ok(networks
        .into_iter()
        .filter_map(|n| Some((n.id?, n.name?)))
        .collect())
}

/// Creates the stack networks of `networks` that are not among `existing`
/// (the names of the stack's networks), calling `created` with each new
/// network's name.
pub(crate) async fn create_missing(
    docker: &DockerApi,
    existing: &HashSet<&str>,
    networks: &[NetworkObject],
    created: &mut (dyn FnMut(&str) + Send),
) -> Result<()> {
    for network in networks
        .iter()
        .filter(|n| !n.external && !existing.contains(n.name.as_str()))
    {
        let mut request = network.create.clone();
        request.name = network.name.clone();
        if request.driver.as_deref().is_none_or(str::is_empty) {
            request.driver = Some(DEFAULT_DRIVER.to_owned());
        }
        docker
            .call("create_network", |docker| docker.create_network(request))
            .await
            .during("creating", ObjectKind::Network, &network.name)?;
        created(&network.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_networks_need_no_check() {
        for (name, predefined) in [
            ("host", true),
            ("bridge", true),
            ("none", true),
            ("container:x", true),
            ("ingress", false),
            ("front", false),
        ] {
            assert_eq!(is_predefined(name), predefined, "{name}");
        }
    }

    fn external(name: &str) -> NetworkObject {
        NetworkObject {
            key: "outside".into(),
            name: name.into(),
            external: true,
            create: Default::default(),
        }
    }

    /// Networks found in the listing need no request: the client here
    /// points at a closed port, so any request would fail the check.
    #[tokio::test]
    async fn external_networks_are_checked_against_the_listing() {
        let docker = DockerApi::new(
            bollard::Docker::connect_with_http(
                "tcp://127.0.0.1:1",
                1,
                bollard::API_DEFAULT_VERSION,
            )
            .unwrap(),
            "test".into(),
        );
        let network = |id: &str, name: &str, scope: &str| LiveNetwork {
            id: id.into(),
            name: name.into(),
            scope: scope.into(),
            stack: None,
        };
        let known = [
            network("id-front", "front", "swarm"),
            network("id-twin-local", "twin", "local"),
            network("id-twin-swarm", "twin", "swarm"),
            network("id-bridged", "bridged", "local"),
        ];
        for name in ["front", "id-front", "twin", "host"] {
            check_external(&docker, &known, &[external(name)])
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let err = check_external(&docker, &known, &[external("bridged")])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::ExternalNetworkScope { scope, .. } if scope == "local"),
            "{err:?}"
        );
        // Not listed: asked of the daemon (unreachable here).
        let err = check_external(&docker, &known, &[external("missing")])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Api { .. }), "{err:?}");
    }
}
