//! The swarm objects a stack is made of, as the engine will create them.
//!
//! A [`StackSpec`] is what [`crate::convert`] makes of a [`crate::ComposeFile`]:
//! the same names, labels and specs `docker stack deploy` would send. Secret
//! and config references in the service specs carry names only; the engine
//! fills in the IDs once the objects exist.

use bollard_stubs::models::{NetworkCreateRequest, ServiceSpec};
use indexmap::IndexMap;

/// The label that marks every object of a stack, with the stack name as value.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// The service label that keeps the image as written in the Compose file.
pub const LABEL_IMAGE: &str = "com.docker.stack.image";

/// Everything one stack needs in the swarm.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSpec {
    /// The stack name (the namespace label's value).
    pub name: String,
    /// Services, sorted by name.
    pub services: Vec<ServiceObject>,
    /// Networks the services use, sorted by name (external ones included,
    /// so the engine can check they exist).
    pub networks: Vec<NetworkObject>,
    /// Secrets, sorted by name.
    pub secrets: Vec<FileSpecObject>,
    /// Configs, sorted by name.
    pub configs: Vec<FileSpecObject>,
}

/// One service of a stack.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceObject {
    /// The key in the Compose file (`web`).
    pub key: String,
    /// The swarm name (`shop_web`).
    pub name: String,
    /// The image exactly as written in the Compose file.
    pub image: String,
    /// The spec to create or update the service with.
    pub spec: ServiceSpec,
}

/// One network a stack's services attach to.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkObject {
    /// The key in the Compose file (`default`, `back`).
    pub key: String,
    /// The swarm name (`shop_default`, or the explicit `name:`).
    pub name: String,
    /// External networks must exist and are never created.
    pub external: bool,
    /// The create request (unused for external networks).
    pub create: NetworkCreateRequest,
}

/// One secret or config of a stack.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSpecObject {
    /// The key in the Compose file.
    pub key: String,
    /// The swarm name. For objects without an explicit `name:` voc appends a
    /// hash of the content (`shop_site_3f2a1c0b`), so a changed file makes a
    /// new object instead of failing the deploy.
    pub name: String,
    /// External objects must exist and are never created.
    pub external: bool,
    /// Labels (the namespace label included).
    pub labels: IndexMap<String, String>,
    /// The content.
    pub data: Vec<u8>,
    /// `driver` (secrets only).
    pub driver: Option<String>,
    /// `driver_opts` (secrets only).
    pub driver_opts: IndexMap<String, String>,
    /// `template_driver`.
    pub template_driver: Option<String>,
}
