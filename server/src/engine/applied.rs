//! The commits voc deployed, as the live services remember them in their
//! `io.voc.commit` labels: what voc falls back on to find the last applied
//! commit when its store was lost (a fresh CI job, a wiped data folder).

use std::collections::{BTreeSet, HashMap};

use bollard::query_parameters::ListServicesOptions;

use super::Engine;
use super::error::{ApiContext, ObjectKind, Result};

/// The label with the commit that last changed a service.
pub const COMMIT_LABEL: &str = "io.voc.commit";
/// The label with the Compose file a service was deployed from.
pub const SOURCE_LABEL: &str = "io.voc.source";

impl Engine {
    /// Every distinct `io.voc.commit` found on the swarm's services, in one
    /// Docker call.
    pub async fn labelled_commits(&self) -> Result<BTreeSet<String>> {
        let filters = HashMap::from([("label".to_owned(), vec![COMMIT_LABEL.to_owned()])]);
        let options = ListServicesOptions {
            filters: Some(filters),
            status: Some(false),
        };
        let services = self
            .docker()
            .call("list_services", |docker| {
                docker.list_services(Some(options))
            })
            .await
            .during("listing services", ObjectKind::Service, COMMIT_LABEL)?;
        Ok(services
            .iter()
            .filter_map(|service| {
                service
                    .spec
                    .as_ref()?
                    .labels
                    .as_ref()?
                    .get(COMMIT_LABEL)
                    .cloned()
            })
            .collect())
    }
}
