//! Stack networks: external ones must exist and be swarm-scoped; missing
//! stack networks are created; existing ones are never updated, and only
//! [`super::remove`] removes them.

use std::collections::HashSet;

use bollard::Docker;
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions};

use super::error::{ApiContext, Error, ObjectKind, Result, is_not_found};
use super::stack::stack_filter;
use crate::compose::spec::NetworkObject;

/// The driver of stack networks that do not name one.
const DEFAULT_DRIVER: &str = "overlay";

/// Networks every node has as local networks: nothing to check.
fn is_predefined(name: &str) -> bool {
    matches!(name, "bridge" | "host" | "none" | "default") || name.starts_with("container:")
}

/// Fails unless every external network of `networks` exists and is
/// swarm-scoped (with the docker CLI's messages).
pub(crate) async fn check_external(docker: &Docker, networks: &[NetworkObject]) -> Result<()> {
    for network in networks
        .iter()
        .filter(|n| n.external && !is_predefined(&n.name))
    {
        let options = InspectNetworkOptions {
            verbose: false,
            scope: None,
        };
        match docker.inspect_network(&network.name, Some(options)).await {
            Ok(found) => {
                let scope = found.scope.unwrap_or_default();
                if scope != "swarm" {
                    return Err(Error::ExternalNetworkScope {
                        network: network.name.clone(),
                        scope,
                    });
                }
            }
            Err(e) if is_not_found(&e) => {
                return Err(Error::ExternalNetworkNotFound {
                    network: network.name.clone(),
                });
            }
            Err(e) => return Err(e).during("inspecting", ObjectKind::Network, &network.name),
        }
    }
    Ok(())
}

/// The names of the networks that carry stack `stack`'s label.
pub(crate) async fn list_stack_networks(
    docker: &Docker,
    stack: &str,
) -> Result<Vec<(String, String)>> {
    let options = ListNetworksOptions {
        filters: Some(stack_filter(stack)),
    };
    let networks = docker.list_networks(Some(options)).await.during(
        "listing networks of stack",
        ObjectKind::Network,
        stack,
    )?;
    Ok(networks
        .into_iter()
        .filter_map(|n| Some((n.id?, n.name?)))
        .collect())
}

/// Creates the stack networks of `networks` that do not exist yet, calling
/// `created` with each new network's name.
pub(crate) async fn create_missing(
    docker: &Docker,
    stack: &str,
    networks: &[NetworkObject],
    created: &mut dyn FnMut(&str),
) -> Result<()> {
    let existing: HashSet<String> = list_stack_networks(docker, stack)
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    for network in networks
        .iter()
        .filter(|n| !n.external && !existing.contains(&n.name))
    {
        let mut request = network.create.clone();
        request.name = network.name.clone();
        if request.driver.as_deref().is_none_or(str::is_empty) {
            request.driver = Some(DEFAULT_DRIVER.to_owned());
        }
        docker.create_network(request).await.during(
            "creating",
            ObjectKind::Network,
            &network.name,
        )?;
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
}
