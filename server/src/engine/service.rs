//! Creating and updating one service of a stack, sending nothing when it did
//! not change.
//!
//! What to do is decided by `plan`, a pure function of the desired spec's
//! hash, the image as written, the `--resolve-image` mode and the live
//! service; `deploy_service` carries it out, pinning images through the
//! registry, and retries on "update out of sequence" (someone updated the
//! service between voc's inspect and its update) with a fresh inspect.

use std::collections::{BTreeMap, HashMap};

use super::request::DockerApi;
use bollard::models::{Platform, Service, ServiceSpec, TaskSpecPlacement};
use bollard::query_parameters::UpdateServiceOptions;

use super::deploy::{ResolveImage, ServiceAction};
use super::distribution::{self, Resolver};
use super::error::{ApiContext, Error, ObjectKind, Result, server_message};
use super::reference;
use super::spec_hash::{SPEC_HASH_LABEL, spec_hash};
use crate::compose::spec::{LABEL_IMAGE, ServiceObject};

/// How many times an update is tried when the service keeps changing under
/// voc's feet.
const MAX_UPDATE_ATTEMPTS: u32 = 5;

/// Where the image of an update or creation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageSource {
    /// Ask the registry for the tag's digest and pin it.
    Registry,
    /// Keep what the live service runs (pinned by an earlier deploy).
    Live,
    /// The image as written, with the default tag added.
    Tag,
}

/// What one service needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServicePlan {
    /// It does not exist.
    Create(ImageSource),
    /// It exists and differs.
    Update(ImageSource),
    /// Same spec; only the image's digest may have moved: ask the registry,
    /// and update only if it did.
    CheckDigest,
    /// Same spec, nothing to send.
    Unchanged,
}

/// The label a live service carries, if any.
fn live_label<'a>(live: &'a Service, key: &str) -> Option<&'a str> {
    live.spec
        .as_ref()?
        .labels
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// Decides what service `compose_image` (the image as written) with spec
/// hash `hash` needs, given the live service, following the docker CLI's
/// image rule per `--resolve-image`:
/// - `always`: ask the registry;
/// - `changed`: ask only if the image differs from the live
///   `com.docker.stack.image` label, else keep the live image;
/// - `never`: keep the live image if unchanged, else use the tag.
pub(crate) fn plan(
    hash: &str,
    compose_image: &str,
    resolve: ResolveImage,
    live: Option<&Service>,
) -> ServicePlan {
    let Some(live) = live else {
        return ServicePlan::Create(match resolve {
            ResolveImage::Always | ResolveImage::Changed => ImageSource::Registry,
            ResolveImage::Never => ImageSource::Tag,
        });
    };
    if live_label(live, SPEC_HASH_LABEL) == Some(hash) {
        // The hash covers the image as written, so it is unchanged too.
        return match resolve {
            ResolveImage::Always => ServicePlan::CheckDigest,
            ResolveImage::Changed | ResolveImage::Never => ServicePlan::Unchanged,
        };
    }
    let image_unchanged = live_label(live, LABEL_IMAGE) == Some(compose_image);
    ServicePlan::Update(match resolve {
        ResolveImage::Always => ImageSource::Registry,
        ResolveImage::Changed | ResolveImage::Never if image_unchanged => ImageSource::Live,
        ResolveImage::Changed => ImageSource::Registry,
        ResolveImage::Never => ImageSource::Tag,
    })
}

/// What carrying out a deploy of one service needs besides the service.
pub(crate) struct ServiceContext<'a> {
    /// A client carrying the registry credentials, if any.
    pub docker: &'a DockerApi,
    /// The `--resolve-image` mode.
    pub resolve: ResolveImage,
    /// Extra `io.voc.*` labels for the service.
    pub labels: &'a BTreeMap<String, String>,
    /// Secret IDs by name.
    pub secret_ids: &'a HashMap<String, String>,
    /// Config IDs by name.
    pub config_ids: &'a HashMap<String, String>,
    /// Update the service even when unchanged, bumping `ForceUpdate` so
    /// that swarm replaces its tasks (a forced redeploy).
    pub force: bool,
}

/// What was done to one service.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub action: ServiceAction,
    pub id: String,
    pub image: String,
    /// voc's and the daemon's warnings.
    pub warnings: Vec<String>,
}

/// The image and platforms a live service runs.
fn live_image(live: &Service) -> (Option<String>, Option<Vec<Platform>>) {
    let template = live.spec.as_ref().and_then(|s| s.task_template.as_ref());
    let image = template
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.clone());
    let platforms = template
        .and_then(|t| t.placement.as_ref())
        .and_then(|p| p.platforms.clone());
    (image, platforms)
}

/// The spec to send: the desired spec with the extra labels, the hash
/// label, secret and config IDs, the chosen image, and `ForceUpdate` as the
/// live service has it (a stack deploy never forces).
fn to_final_spec(
    object: &ServiceObject,
    hash: &str,
    context: &ServiceContext<'_>,
    image: &str,
    platforms: Option<Vec<Platform>>,
    force_update: Option<u64>,
) -> Result<ServiceSpec> {
    let mut spec = object.spec.clone();
    let labels = spec.labels.get_or_insert_with(HashMap::new);
    labels.extend(context.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.insert(SPEC_HASH_LABEL.to_owned(), hash.to_owned());
    let template = spec.task_template.get_or_insert_with(Default::default);
    template.force_update = force_update;
    if let Some(platforms) = platforms.filter(|p| !p.is_empty()) {
        template
            .placement
            .get_or_insert_with(TaskSpecPlacement::default)
            .platforms = Some(platforms);
    }
    let container = template.container_spec.get_or_insert_with(Default::default);
    container.image = Some(image.to_owned());
    for secret in container.secrets.iter_mut().flatten() {
        let name = secret.secret_name.clone().unwrap_or_default();
        match context.secret_ids.get(&name) {
            Some(id) => secret.secret_id = Some(id.clone()),
            None if secret.secret_id.is_some() => {}
            None => return Err(undefined(object, ObjectKind::Secret, name)),
        }
    }
    for config in container.configs.iter_mut().flatten() {
        let name = config.config_name.clone().unwrap_or_default();
        match context.config_ids.get(&name) {
            Some(id) => config.config_id = Some(id.clone()),
            None if config.config_id.is_some() => {}
            None => return Err(undefined(object, ObjectKind::Config, name)),
        }
    }
    // `credential_spec: {config: NAME}` refers to a config of the stack by
    // name; swarm wants its ID.
    if let Some(credential) = container
        .privileges
        .as_mut()
        .and_then(|p| p.credential_spec.as_mut())
        && let Some(id) = credential
            .config
            .as_ref()
            .and_then(|name| context.config_ids.get(name))
    {
        credential.config = Some(id.clone());
    }
    Ok(spec)
}

fn undefined(object: &ServiceObject, kind: ObjectKind, name: String) -> Error {
    Error::UndefinedObject {
        service: object.name.clone(),
        kind,
        name,
    }
}

/// The image as written in the spec (the converter puts it in the container
/// spec; [`ServiceObject::image`] is the fallback).
fn compose_image(object: &ServiceObject) -> &str {
    if !object.image.is_empty() {
        return &object.image;
    }
    object
        .spec
        .task_template
        .as_ref()
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.as_deref())
        .unwrap_or_default()
}

/// Creates, updates or leaves alone the service `object`, given its live
/// state (`None` if it does not exist).
pub(crate) async fn deploy_service(
    context: &ServiceContext<'_>,
    resolver: &Resolver,
    object: &ServiceObject,
    live: Option<Service>,
) -> Result<Applied> {
    let hash = spec_hash(&object.spec);
    let written = compose_image(object);
    let tagged = reference::with_default_tag(written);
    let mut live = live;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let plan = match plan(&hash, written, context.resolve, live.as_ref()) {
            ServicePlan::Unchanged if context.force => ServicePlan::Update(ImageSource::Live),
            ServicePlan::CheckDigest if context.force => ServicePlan::Update(ImageSource::Registry),
            plan => plan,
        };
        let mut warning = None;
        let Some(current) = live.as_ref() else {
            let source = match plan {
                ServicePlan::Create(source) => source,
                _ => ImageSource::Tag,
            };
            let (image, platforms) = match source {
                ImageSource::Registry => pin_or_tag(resolver, &tagged, &mut warning).await,
                _ => (tagged.clone(), None),
            };
            let spec = to_final_spec(object, &hash, context, &image, platforms, None)?;
            let created = context
                .docker
                .call("create_service", |docker| docker.create_service(spec, None))
                .await
                .during("creating", ObjectKind::Service, &object.name)?;
            let warnings = warning
                .into_iter()
                .chain(created.warnings.into_iter().flatten())
                .collect();
            return Ok(Applied {
                action: ServiceAction::Created,
                id: created.id.unwrap_or_default(),
                image,
                warnings,
            });
        };
        let id = current.id.clone().unwrap_or_default();
        let (running_image, running_platforms) = live_image(current);
        let (image, platforms) = match plan {
            ServicePlan::Unchanged => {
                return Ok(Applied {
                    action: ServiceAction::Unchanged,
                    id,
                    image: running_image.unwrap_or(tagged),
                    warnings: Vec::new(),
                });
            }
            ServicePlan::CheckDigest => match resolver.pin(&tagged).await {
                Some(pinned) if Some(&pinned.image) != running_image.as_ref() => {
                    (pinned.image, Some(pinned.platforms))
                }
                // Same digest, or the registry cannot say: leave it alone.
                answer => {
                    return Ok(Applied {
                        action: ServiceAction::Unchanged,
                        id,
                        image: running_image.unwrap_or(tagged.clone()),
                        warnings: answer
                            .is_none()
                            .then(|| distribution::digest_warning(&tagged))
                            .into_iter()
                            .collect(),
                    });
                }
            },
            ServicePlan::Update(ImageSource::Registry)
            | ServicePlan::Create(ImageSource::Registry) => {
                pin_or_tag(resolver, &tagged, &mut warning).await
            }
            ServicePlan::Update(ImageSource::Live) => match running_image {
                Some(image) => (image, running_platforms),
                None => (tagged.clone(), None),
            },
            ServicePlan::Update(ImageSource::Tag) | ServicePlan::Create(_) => {
                (tagged.clone(), None)
            }
        };
        let force_update = current
            .spec
            .as_ref()
            .and_then(|s| s.task_template.as_ref())
            .and_then(|t| t.force_update);
        // Swarm replaces the tasks of a service whose `ForceUpdate` changed.
        let force_update = match context.force {
            true => Some(force_update.unwrap_or(0).wrapping_add(1)),
            false => force_update,
        };
        let spec = to_final_spec(object, &hash, context, &image, platforms, force_update)?;
        let index = current
            .version
            .as_ref()
            .and_then(|v| v.index)
            .unwrap_or_default();
        let version = i32::try_from(index).map_err(|_| Error::VersionOutOfRange {
            kind: ObjectKind::Service,
            name: object.name.clone(),
            index,
        })?;
        let options = UpdateServiceOptions {
            version,
            ..Default::default()
        };
        match context
            .docker
            .call("update_service", |docker| {
                docker.update_service(&id, spec, options, None)
            })
            .await
        {
            Ok(response) => {
                let warnings = warning
                    .into_iter()
                    .chain(response.warnings.into_iter().flatten())
                    .collect();
                return Ok(Applied {
                    action: ServiceAction::Updated,
                    id,
                    image,
                    warnings,
                });
            }
            Err(e) if is_out_of_sequence(&e) => {
                if attempt >= MAX_UPDATE_ATTEMPTS {
                    return Err(Error::OutOfSequence {
                        service: object.name.clone(),
                        attempts: attempt,
                        source: e,
                    });
                }
                let fresh = context
                    .docker
                    .call("inspect_service", |docker| {
                        docker.inspect_service(&id, None)
                    })
                    .await
                    .during("inspecting", ObjectKind::Service, &object.name)?;
                live = Some(fresh);
            }
            Err(e) => return Err(e).during("updating", ObjectKind::Service, &object.name),
        }
    }
}

/// `tagged` pinned to its digest, or as it is with the docker CLI's warning
/// when the registry cannot say.
async fn pin_or_tag(
    resolver: &Resolver,
    tagged: &str,
    warning: &mut Option<String>,
) -> (String, Option<Vec<Platform>>) {
    match resolver.pin(tagged).await {
        Some(pinned) => (pinned.image, Some(pinned.platforms)),
        None => {
            *warning = Some(distribution::digest_warning(tagged));
            (tagged.to_owned(), None)
        }
    }
}

/// True for the daemon's answer to an update sent with a stale version.
pub(crate) fn is_out_of_sequence(error: &bollard::errors::Error) -> bool {
    server_message(error).is_some_and(|m| m.contains("update out of sequence"))
}

#[cfg(test)]
mod tests {
    use bollard::models::{
        ObjectVersion, TaskSpec, TaskSpecContainerSpec, TaskSpecContainerSpecConfigs,
        TaskSpecContainerSpecSecrets,
    };

    use super::*;

    fn live(hash: Option<&str>, image_label: &str) -> Service {
        let mut labels = HashMap::from([(LABEL_IMAGE.to_owned(), image_label.to_owned())]);
        if let Some(hash) = hash {
            labels.insert(SPEC_HASH_LABEL.to_owned(), hash.to_owned());
        }
        Service {
            id: Some("sid".into()),
            version: Some(ObjectVersion { index: Some(42) }),
            spec: Some(ServiceSpec {
                labels: Some(labels),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn plan_follows_the_image_rule_and_the_hash() {
        use ImageSource::*;
        use ResolveImage::*;
        use ServicePlan::*;
        let same = live(Some("h"), "web:1");
        let other_hash = live(Some("old"), "web:1");
        let other_image = live(Some("old"), "web:0");
        let cli_deployed = live(None, "web:1");
        let cases = [
            (Always, None, Create(Registry)),
            (Changed, None, Create(Registry)),
            (Never, None, Create(Tag)),
            (Always, Some(&same), CheckDigest),
            (Changed, Some(&same), Unchanged),
            (Never, Some(&same), Unchanged),
            (Always, Some(&other_hash), Update(Registry)),
            (Changed, Some(&other_hash), Update(Live)),
            (Never, Some(&other_hash), Update(Live)),
            (Always, Some(&other_image), Update(Registry)),
            (Changed, Some(&other_image), Update(Registry)),
            (Never, Some(&other_image), Update(Tag)),
            (Never, Some(&cli_deployed), Update(Live)),
            (Changed, Some(&cli_deployed), Update(Live)),
        ];
        for (resolve, live, expected) in cases {
            assert_eq!(
                plan("h", "web:1", resolve, live),
                expected,
                "{resolve:?} {live:?}"
            );
        }
    }

    fn object() -> ServiceObject {
        ServiceObject {
            key: "web".into(),
            name: "s_web".into(),
            image: "web:1".into(),
            spec: ServiceSpec {
                name: Some("s_web".into()),
                labels: Some(HashMap::from([(
                    "com.docker.stack.namespace".to_owned(),
                    "s".to_owned(),
                )])),
                task_template: Some(TaskSpec {
                    container_spec: Some(TaskSpecContainerSpec {
                        image: Some("web:1".into()),
                        secrets: Some(vec![TaskSpecContainerSpecSecrets {
                            secret_name: Some("s_db_12345678".into()),
                            ..Default::default()
                        }]),
                        configs: Some(vec![TaskSpecContainerSpecConfigs {
                            config_name: Some("s_site_abcdef01".into()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        }
    }

    #[test]
    fn final_spec_has_labels_ids_image_and_force_update() {
        let docker = DockerApi::new(
            bollard::Docker::connect_with_http(
                "tcp://127.0.0.1:1",
                1,
                bollard::API_DEFAULT_VERSION,
            )
            .unwrap(),
            "test".into(),
        );
        let labels = BTreeMap::from([("io.voc.commit".to_owned(), "abc".to_owned())]);
        let secret_ids = HashMap::from([("s_db_12345678".to_owned(), "secret-id".to_owned())]);
        let config_ids = HashMap::from([("s_site_abcdef01".to_owned(), "config-id".to_owned())]);
        let context = ServiceContext {
            docker: &docker,
            resolve: ResolveImage::Never,
            labels: &labels,
            secret_ids: &secret_ids,
            config_ids: &config_ids,
            force: false,
        };
        let platforms = vec![Platform {
            architecture: Some("amd64".into()),
            os: Some("linux".into()),
        }];
        let spec = to_final_spec(
            &object(),
            "h",
            &context,
            "web:1@sha256:x",
            Some(platforms.clone()),
            Some(3),
        )
        .unwrap();
        let labels = spec.labels.as_ref().unwrap();
        assert_eq!(labels[SPEC_HASH_LABEL], "h");
        assert_eq!(labels["io.voc.commit"], "abc");
        assert_eq!(labels["com.docker.stack.namespace"], "s");
        let template = spec.task_template.unwrap();
        assert_eq!(template.force_update, Some(3));
        assert_eq!(template.placement.unwrap().platforms, Some(platforms));
        let container = template.container_spec.unwrap();
        assert_eq!(container.image.as_deref(), Some("web:1@sha256:x"));
        assert_eq!(
            container.secrets.unwrap()[0].secret_id.as_deref(),
            Some("secret-id")
        );
        assert_eq!(
            container.configs.unwrap()[0].config_id.as_deref(),
            Some("config-id")
        );

        let missing = HashMap::new();
        let context = ServiceContext {
            secret_ids: &missing,
            ..context
        };
        let err = to_final_spec(&object(), "h", &context, "web:1", None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "service `s_web` uses secret `s_db_12345678`, which the stack does not define"
        );
    }

    #[test]
    fn out_of_sequence_is_recognised() {
        let stale = bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "rpc error: code = Unknown desc = update out of sequence".into(),
        };
        let other = bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "boom".into(),
        };
        assert!(is_out_of_sequence(&stale));
        assert!(!is_out_of_sequence(&other));
    }

    /// Removes a test service when dropped, even if the test panics.
    struct ServiceGuard(String);

    impl Drop for ServiceGuard {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["service", "rm", &self.0])
                .output();
        }
    }

    /// Against the real engine: the live service voc read is stale by the
    /// time it updates (someone else updated it in between), so the first
    /// update is refused as out of sequence; voc re-inspects and succeeds.
    #[tokio::test]
    async fn stale_update_is_retried_after_a_fresh_inspect() {
        let docker = bollard::Docker::connect_with_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("voc-oos-{}-{nanos}", std::process::id());
        let _guard = ServiceGuard(name.clone());
        let object = ServiceObject {
            key: "web".into(),
            name: name.clone(),
            image: "voc-test/busybox:latest".into(),
            spec: ServiceSpec {
                name: Some(name.clone()),
                task_template: Some(TaskSpec {
                    container_spec: Some(TaskSpecContainerSpec {
                        image: Some("voc-test/busybox:latest".into()),
                        args: Some(vec!["sleep".into(), "3600".into()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                mode: Some(bollard::models::ServiceSpecMode {
                    replicated: Some(bollard::models::ServiceSpecModeReplicated {
                        replicas: Some(0),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        docker
            .create_service(object.spec.clone(), None)
            .await
            .unwrap();
        let stale = docker.inspect_service(&name, None).await.unwrap();
        let mut other = stale.spec.clone().unwrap();
        other
            .labels
            .get_or_insert_with(HashMap::new)
            .insert("someone".into(), "else".into());
        let index = stale.version.as_ref().and_then(|v| v.index).unwrap();
        let options = UpdateServiceOptions {
            version: i32::try_from(index).unwrap(),
            ..Default::default()
        };
        docker
            .update_service(&name, other, options, None)
            .await
            .unwrap();

        let labels = BTreeMap::new();
        let ids = HashMap::new();
        let api = DockerApi::new(docker.clone(), "test".into());
        let context = ServiceContext {
            docker: &api,
            resolve: ResolveImage::Never,
            labels: &labels,
            secret_ids: &ids,
            config_ids: &ids,
            force: false,
        };
        let resolver = Resolver::new(api.clone());
        let applied = deploy_service(&context, &resolver, &object, Some(stale))
            .await
            .unwrap();

        assert_eq!(applied.action, ServiceAction::Updated);
        let live = docker.inspect_service(&name, None).await.unwrap();
        assert_eq!(
            live_label(&live, SPEC_HASH_LABEL),
            Some(spec_hash(&object.spec).as_str())
        );
        assert!(
            live.version.and_then(|v| v.index).unwrap() > index + 1,
            "no second update happened"
        );
    }
}
