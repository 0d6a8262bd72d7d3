//! Asking a registry, through the daemon (`GET /distribution/{image}/json`),
//! which digest and platforms an image tag points to, so that every node
//! runs the same image (`--resolve-image always|changed`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::request::DockerApi;
use bollard::models::{DistributionInspect, Platform};
use tokio::sync::OnceCell;

use super::reference;

/// An image pinned to the digest its tag had when voc asked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PinnedImage {
    /// `image:tag@sha256:…`, in familiar form.
    pub image: String,
    /// The platforms the registry lists for it (for `Placement.Platforms`).
    pub platforms: Vec<Platform>,
}

/// The docker CLI's warning when a registry cannot be asked (same text).
pub(crate) fn digest_warning(image: &str) -> String {
    format!(
        "image {image} could not be accessed on a registry to record its digest. Each node will access {image} independently, possibly leading to different nodes running different versions of the image."
    )
}

fn to_pinned(image: &str, answer: DistributionInspect) -> Option<PinnedImage> {
    let digest = answer.descriptor.digest?;
    let platforms = answer
        .platforms
        .into_iter()
        .map(|p| {
            // Manifests say "arm" where nodes say "armv7l": like the docker
            // CLI, drop the architecture so such tasks can be scheduled
            // (https://github.com/docker/swarmkit/issues/2294).
            let architecture = p
                .architecture
                .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("arm"));
            Platform {
                architecture,
                os: p.os.filter(|os| !os.is_empty()),
            }
        })
        .collect();
    Some(PinnedImage {
        image: reference::with_digest(image, &digest),
        platforms,
    })
}

/// Resolves tags to digests, asking the registry once per image per deploy
/// (per batch, when [`Engine::deploy_stacks`](super::Engine::deploy_stacks)
/// deploys many stacks: stacks that share an image share its answer, and
/// stacks deploying side by side wait for the one request in flight).
pub(crate) struct Resolver {
    /// A client that carries the deploy's registry credentials, if any.
    docker: DockerApi,
    answers: Mutex<HashMap<String, Arc<OnceCell<Option<PinnedImage>>>>>,
}

impl Resolver {
    /// A resolver asking through `docker`.
    pub(crate) fn new(docker: DockerApi) -> Resolver {
        Resolver {
            docker,
            answers: Mutex::default(),
        }
    }

    /// `image` (already tagged, see [`reference::with_default_tag`]) pinned
    /// to its current digest, or `None` when the registry cannot be asked
    /// (the caller warns and keeps the tag, as the docker CLI does).
    pub(crate) async fn pin(&self, image: &str) -> Option<PinnedImage> {
        let answer = {
            // A poisoned map is still a valid map: a panic elsewhere cannot
            // leave it half-updated.
            let mut answers = self
                .answers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(answers.entry(image.to_owned()).or_default())
        };
        answer
            .get_or_init(|| async {
                match self
                    .docker
                    .call("inspect_registry_image", |docker| {
                        docker.inspect_registry_image(image, None)
                    })
                    .await
                {
                    Ok(answer) => to_pinned(image, answer),
                    Err(_) => None,
                }
            })
            .await
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::{OciDescriptor, OciPlatform};

    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn platform(os: &str, arch: &str) -> OciPlatform {
        OciPlatform {
            os: Some(os.into()),
            architecture: Some(arch.into()),
            ..Default::default()
        }
    }

    #[test]
    fn answer_pins_the_tag_and_lists_platforms() {
        let answer = DistributionInspect {
            descriptor: OciDescriptor {
                digest: Some(DIGEST.into()),
                ..Default::default()
            },
            platforms: vec![
                platform("linux", "amd64"),
                platform("linux", "arm"),
                platform("", ""),
            ],
        };
        let pinned = to_pinned("127.0.0.1:5000/app:1", answer).unwrap();
        assert_eq!(pinned.image, format!("127.0.0.1:5000/app:1@{DIGEST}"));
        assert_eq!(
            pinned.platforms,
            [
                Platform {
                    architecture: Some("amd64".into()),
                    os: Some("linux".into())
                },
                Platform {
                    architecture: None,
                    os: Some("linux".into())
                },
                Platform {
                    architecture: None,
                    os: None
                },
            ]
        );
    }

    #[test]
    fn answer_without_digest_pins_nothing() {
        let answer = DistributionInspect {
            descriptor: OciDescriptor::default(),
            platforms: vec![],
        };
        assert_eq!(to_pinned("app:1", answer), None);
    }
}
