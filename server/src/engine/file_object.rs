//! Secrets and configs, the two kinds of swarm objects that carry a file, and
//! which swarm never lets change content.
//!
//! voc names a stack's secrets and configs after their content
//! (`<stack>_<key>_<hash8>`, chosen by the converter), so a changed file is
//! a new object: created if missing, its labels brought up to date if it
//! exists. An explicitly named object whose content changed cannot be
//! updated: deploying fails before any service is touched. Versions the
//! stack no longer uses are removed by `remove_unused` once services have
//! moved on. Existing objects come from one listing per kind (`list_all`,
//! read into the deploy's snapshot), not from an inspect per object.

use std::collections::{HashMap, HashSet};

use super::request::DockerApi;
use base64::Engine as _;
use bollard::models::{ConfigSpec, Driver, SecretSpec, Service, Task};
use bollard::query_parameters::{
    ListConfigsOptions, ListSecretsOptions, UpdateConfigOptions, UpdateSecretOptions,
};

use super::error::{ApiContext, Error, ErrorChain, ObjectKind, Result, server_message};
use super::stack::stack_filter;
use crate::compose::convert::names::{HashedContent, content_hash};
use crate::compose::spec::FileSpecObject;

/// Secret or config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A swarm secret.
    Secret,
    /// A swarm config.
    Config,
}

impl FileKind {
    /// The matching [`ObjectKind`], for messages and events.
    pub fn object_kind(self) -> ObjectKind {
        match self {
            FileKind::Secret => ObjectKind::Secret,
            FileKind::Config => ObjectKind::Config,
        }
    }
}

/// A secret or config as the engine has it.
#[derive(Debug, Clone)]
pub(crate) struct LiveFileObject {
    pub id: String,
    pub name: String,
    pub version: u64,
    pub labels: HashMap<String, String>,
    /// The content; the engine never returns a secret's.
    pub data: Option<Vec<u8>>,
}

/// What deploying one secret or config takes.
#[derive(Debug, Clone)]
pub(crate) enum FilePlan {
    /// It does not exist: create it.
    Create,
    /// It exists with the right content but other labels.
    UpdateLabels(LiveFileObject),
    /// It exists as it should (or is external).
    Keep(String),
}

fn decode(data: Option<&str>) -> Option<Vec<u8>> {
    data.and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
}

fn live_secret(secret: bollard::models::Secret) -> LiveFileObject {
    let spec = secret.spec.unwrap_or_default();
    LiveFileObject {
        id: secret.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        version: secret.version.and_then(|v| v.index).unwrap_or_default(),
        labels: spec.labels.unwrap_or_default(),
        data: decode(spec.data.as_deref()),
    }
}

fn live_config(config: bollard::models::Config) -> LiveFileObject {
    let spec = config.spec.unwrap_or_default();
    LiveFileObject {
        id: config.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        version: config.version.and_then(|v| v.index).unwrap_or_default(),
        labels: spec.labels.unwrap_or_default(),
        data: decode(spec.data.as_deref()),
    }
}

/// Lists every secret or config of the swarm (secrets without their data,
/// which swarm never returns; configs with it).
pub(crate) async fn list_all(docker: &DockerApi, kind: FileKind) -> Result<Vec<LiveFileObject>> {
    match kind {
        FileKind::Secret => docker
            .call("list_secrets", |docker| {
                docker.list_secrets(None::<ListSecretsOptions>)
            })
            .await
            .map(|list| list.into_iter().map(live_secret).collect())
            .during("listing", ObjectKind::Secret, "all secrets"),
        FileKind::Config => docker
            .call("list_configs", |docker| {
                docker.list_configs(None::<ListConfigsOptions>)
            })
            .await
            .map(|list| list.into_iter().map(live_config).collect())
            .during("listing", ObjectKind::Config, "all configs"),
    }
}

/// Lists the secrets or configs labelled as belonging to stack `stack`.
pub(crate) async fn list_stack_objects(
    docker: &DockerApi,
    kind: FileKind,
    stack: &str,
) -> Result<Vec<LiveFileObject>> {
    let filters = Some(stack_filter(stack));
    match kind {
        FileKind::Secret => docker
            .call("list_secrets", |docker| {
                docker.list_secrets(Some(ListSecretsOptions { filters }))
            })
            .await
            .map(|list| list.into_iter().map(live_secret).collect())
            .during("listing secrets of stack", ObjectKind::Secret, stack),
        FileKind::Config => docker
            .call("list_configs", |docker| {
                docker.list_configs(Some(ListConfigsOptions { filters }))
            })
            .await
            .map(|list| list.into_iter().map(live_config).collect())
            .during("listing configs of stack", ObjectKind::Config, stack),
    }
}

/// Removes one secret or config.
pub(crate) async fn remove(docker: &DockerApi, kind: FileKind, id: &str, name: &str) -> Result<()> {
    match kind {
        FileKind::Secret => {
            docker
                .call("delete_secret", |docker| docker.delete_secret(id))
                .await
        }
        FileKind::Config => {
            docker
                .call("delete_config", |docker| docker.delete_config(id))
                .await
        }
    }
    .during("removing", kind.object_kind(), name)
}

fn to_labels(object: &FileSpecObject) -> HashMap<String, String> {
    object
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn template_driver(object: &FileSpecObject) -> Option<Driver> {
    object.template_driver.as_ref().map(|name| Driver {
        name: name.clone(),
        options: None,
    })
}

fn to_secret_spec(object: &FileSpecObject) -> SecretSpec {
    SecretSpec {
        name: Some(object.name.clone()),
        labels: Some(to_labels(object)),
        data: Some(base64::engine::general_purpose::STANDARD.encode(&object.data)),
        driver: object.driver.as_ref().map(|name| Driver {
            name: name.clone(),
            options: (!object.driver_opts.is_empty()).then(|| {
                object
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }),
        }),
        templating: template_driver(object),
    }
}

fn to_config_spec(object: &FileSpecObject) -> ConfigSpec {
    ConfigSpec {
        name: Some(object.name.clone()),
        labels: Some(to_labels(object)),
        data: Some(base64::engine::general_purpose::STANDARD.encode(&object.data)),
        templating: template_driver(object),
    }
}

/// True if `object`'s name ends with the hash of its content, the way the
/// converter names versioned objects (`_` + [`content_hash`]): then an
/// object of that name has that content.
fn is_named_after_content(object: &FileSpecObject) -> bool {
    let driver_opts: Vec<(&str, &str)> = object
        .driver_opts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let hash = content_hash(&HashedContent {
        data: &object.data,
        template_driver: object.template_driver.as_deref(),
        driver: object.driver.as_deref(),
        driver_opts: &driver_opts,
    });
    object
        .name
        .strip_suffix(&hash)
        .is_some_and(|rest| rest.ends_with('_'))
}

/// Sends `object`'s full spec as an update of `live`. Swarm accepts it only
/// if the content is unchanged, so this also checks the content of secrets,
/// which cannot be read back.
async fn update(
    docker: &DockerApi,
    kind: FileKind,
    live: &LiveFileObject,
    object: &FileSpecObject,
) -> Result<()> {
    let version = i64::try_from(live.version).map_err(|_| Error::VersionOutOfRange {
        kind: kind.object_kind(),
        name: object.name.clone(),
        index: live.version,
    })?;
    let result = match kind {
        FileKind::Secret => {
            docker
                .call("update_secret", |docker| {
                    docker.update_secret(
                        &live.id,
                        to_secret_spec(object),
                        UpdateSecretOptions { version },
                    )
                })
                .await
        }
        FileKind::Config => {
            docker
                .call("update_config", |docker| {
                    docker.update_config(
                        &live.id,
                        to_config_spec(object),
                        UpdateConfigOptions { version },
                    )
                })
                .await
        }
    };
    match result {
        Err(e)
            if server_message(&e)
                .is_some_and(|m| m.contains("only updates to Labels are allowed")) =>
        {
            Err(Error::ContentChanged {
                kind: kind.object_kind(),
                name: object.name.clone(),
            })
        }
        other => other.during("updating", kind.object_kind(), &object.name),
    }
}

/// Works out what deploying `objects` takes, given every live object of
/// that kind (`live`, from [`list_all`]), checking (before anything is
/// created) that external objects exist and that no existing object would
/// need new content. Checking a secret whose name does not carry its content
/// hash takes an update that changes nothing, since swarm never returns a
/// secret's data.
pub(crate) async fn plan(
    docker: &DockerApi,
    kind: FileKind,
    objects: &[FileSpecObject],
    live: &[LiveFileObject],
) -> Result<Vec<FilePlan>> {
    // Only an exact name counts (as with an inspect that came back with
    // another name: inspect also matches ID prefixes).
    let by_name: HashMap<&str, &LiveFileObject> =
        live.iter().map(|o| (o.name.as_str(), o)).collect();
    let mut plans = Vec::with_capacity(objects.len());
    for object in objects {
        let live = by_name.get(object.name.as_str()).map(|o| (*o).clone());
        let plan = match live {
            None if object.external => {
                return Err(Error::ExternalObjectNotFound {
                    kind: kind.object_kind(),
                    name: object.name.clone(),
                });
            }
            None => FilePlan::Create,
            Some(live) if object.external => FilePlan::Keep(live.id),
            Some(live) => {
                if let Some(data) = &live.data
                    && *data != object.data
                {
                    return Err(Error::ContentChanged {
                        kind: kind.object_kind(),
                        name: object.name.clone(),
                    });
                }
                let same_labels = live.labels == to_labels(object);
                let content_known = live.data.is_some() || is_named_after_content(object);
                if !same_labels {
                    FilePlan::UpdateLabels(live)
                } else if content_known {
                    FilePlan::Keep(live.id)
                } else {
                    update(docker, kind, &live, object).await?;
                    FilePlan::Keep(live.id)
                }
            }
        };
        plans.push(plan);
    }
    Ok(plans)
}

/// Carries out `plans` (from [`plan`], same order as `objects`), calling
/// `done` with each object created (`true`) or relabelled (`false`).
/// Returns every object's ID by name.
pub(crate) async fn apply(
    docker: &DockerApi,
    kind: FileKind,
    objects: &[FileSpecObject],
    plans: Vec<FilePlan>,
    done: &mut (dyn FnMut(&str, bool) + Send),
) -> Result<HashMap<String, String>> {
    let mut ids = HashMap::with_capacity(objects.len());
    for (object, plan) in objects.iter().zip(plans) {
        let id = match plan {
            FilePlan::Keep(id) => id,
            FilePlan::UpdateLabels(live) => {
                update(docker, kind, &live, object).await?;
                done(&object.name, false);
                live.id
            }
            FilePlan::Create => {
                let created = match kind {
                    FileKind::Secret => {
                        docker
                            .call("create_secret", |docker| {
                                docker.create_secret(to_secret_spec(object))
                            })
                            .await
                    }
                    FileKind::Config => {
                        docker
                            .call("create_config", |docker| {
                                docker.create_config(to_config_spec(object))
                            })
                            .await
                    }
                }
                .during("creating", kind.object_kind(), &object.name)?;
                done(&object.name, true);
                created.id
            }
        };
        ids.insert(object.name.clone(), id);
    }
    Ok(ids)
}

/// The IDs of the secrets and configs that the specs of `services` and the
/// not yet finished `tasks` refer to. (A service's previous spec is not
/// counted: bollard's model does not carry it; once a deploy converged, a
/// rollback to it is no longer expected.)
pub(crate) fn referenced_ids(services: &[Service], tasks: &[Task]) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut add = |spec: Option<&bollard::models::TaskSpec>| {
        let Some(container) = spec.and_then(|s| s.container_spec.as_ref()) else {
            return;
        };
        ids.extend(
            container
                .secrets
                .iter()
                .flatten()
                .filter_map(|s| s.secret_id.clone()),
        );
        ids.extend(
            container
                .configs
                .iter()
                .flatten()
                .filter_map(|c| c.config_id.clone()),
        );
        if let Some(config) = container
            .privileges
            .as_ref()
            .and_then(|p| p.credential_spec.as_ref())
            .and_then(|c| c.config.clone())
        {
            ids.insert(config);
        }
    };
    for service in services {
        add(service.spec.as_ref().and_then(|s| s.task_template.as_ref()));
    }
    for task in tasks {
        let finished = super::task::is_terminal(super::task::observed_state(task))
            && super::task::is_terminal(super::task::desired_state(task));
        if !finished {
            add(task.spec.as_ref());
        }
    }
    ids
}

/// Removes the objects of `stale` (old versions of a stack's secrets or
/// configs) that nothing refers to (`in_use`, by ID). Failures are returned
/// as messages: an old version left behind does not fail a deploy.
pub(crate) async fn remove_unused(
    docker: &DockerApi,
    kind: FileKind,
    stale: &[&LiveFileObject],
    in_use: &HashSet<String>,
    removed: &mut (dyn FnMut(&str) + Send),
) -> Vec<String> {
    let mut failures = Vec::new();
    for live in stale.iter().filter(|live| !in_use.contains(&live.id)) {
        match remove(docker, kind, &live.id, &live.name).await {
            Ok(()) => removed(&live.name),
            // A service created since the snapshot may use it: keep it and
            // say so.
            Err(e) => failures.push(ErrorChain(&e).to_string()),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;

    fn object(name: &str, data: &[u8]) -> FileSpecObject {
        FileSpecObject {
            key: "k".into(),
            name: name.into(),
            external: false,
            labels: IndexMap::new(),
            data: data.to_vec(),
            driver: None,
            driver_opts: IndexMap::new(),
            template_driver: None,
        }
    }

    #[test]
    fn content_named_objects_are_recognised() {
        // sha256("hello") = 2cf24dba...
        let cases = [
            ("s_site_2cf24dba", true),
            ("s_site_2cf24dbb", false),
            ("s_site2cf24dba", false),
            ("2cf24dba", false),
            ("s_site", false),
        ];
        for (name, expected) in cases {
            assert_eq!(
                is_named_after_content(&object(name, b"hello")),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn specs_carry_name_labels_and_base64_data() {
        let mut o = object("s_x", b"hi+/");
        o.labels
            .insert("com.docker.stack.namespace".into(), "s".into());
        o.driver = Some("vault".into());
        o.driver_opts.insert("path".into(), "a".into());
        o.template_driver = Some("golang".into());
        let secret = to_secret_spec(&o);
        assert_eq!(secret.name.as_deref(), Some("s_x"));
        assert_eq!(secret.data.as_deref(), Some("aGkrLw=="));
        assert_eq!(secret.labels.unwrap()["com.docker.stack.namespace"], "s");
        let driver = secret.driver.unwrap();
        assert_eq!(
            (
                driver.name.as_str(),
                driver.options.unwrap()["path"].as_str()
            ),
            ("vault", "a")
        );
        assert_eq!(secret.templating.unwrap().name, "golang");
        let config = to_config_spec(&object("s_c", b""));
        assert_eq!(config.data.as_deref(), Some(""));
        assert!(config.templating.is_none());
    }
}
