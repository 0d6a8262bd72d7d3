//! Everything that talks to Docker, through the Engine API (bollard).
//!
//! [`Engine`] is the one handle to a Docker engine. Stack operations
//! reproduce `docker stack deploy|rm|ls|services|ps` natively, so stacks voc
//! deploys and stacks the docker CLI deploys are interchangeable:
//!
//! - [`Engine::deploy_stack`] creates or updates a [`StackSpec`] (see
//!   [`deploy`]), sending nothing for services that did not change, and can
//!   wait until the services converge ([`converge`]).
//!   [`Engine::deploy_stacks`] deploys many stacks from one read of the
//!   swarm (the `snapshot` module), so that unchanged stacks cost no
//!   request.
//! - [`Engine::remove_stack`] removes a stack ([`remove`]).
//! - [`Engine::list_stacks`], [`Engine::stack_services`] and
//!   [`Engine::stack_tasks`] read stacks ([`stack`]).
//! - [`watch`] reads every stack's services and tasks in a constant
//!   number of calls, for `voc serve`'s live state.
//! - [`Engine::service_logs`] follows a service's logs ([`logs`]).
//! - [`Engine::build_image`] and [`Engine::push_image`] build images
//!   (classic builder, `.dockerignore` rules from [`dockerignore`]) and push
//!   them ([`image`]).
//!
//! One file per Docker object: [`network`], [`file_object`] (secrets and
//! configs), [`service`], [`task`]; plus [`reference`](mod@reference) (image names),
//! [`distribution`] (registry digests), [`registry_auth`] and [`spec_hash`].
//!
//! [`StackSpec`]: crate::compose::StackSpec

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::Docker;

use crate::conf::model::DEFAULT_TARGET;
use request::DockerApi;

pub mod applied;
mod build_context;
pub mod converge;
pub mod credentials;
pub mod deadline;
pub mod deploy;
pub mod distribution;
pub mod dockerignore;
pub mod error;
pub mod file_object;
pub mod image;
mod late_socket;
pub mod logs;
pub mod network;
pub mod reference;
pub mod registry_auth;
pub mod remove;
mod request;
pub mod service;
mod snapshot;
pub mod spec_hash;
pub mod stack;
pub mod task;
pub mod watch;

pub use deploy::{
    CONCURRENT_STACKS, DeployEvent, DeployOptions, DeployReport, ResolveImage, ServiceAction,
    ServiceOutcome,
};
pub use error::{Error, ObjectKind, Result};
pub use image::{BuiltImage, ImageBuild, Log, PushedImage};
pub use registry_auth::RegistryAuth;
pub use remove::{RemoveEvent, RemoveReport};
pub use stack::{ServiceMode, ServiceSummary, StackSummary, TaskSummary};

/// A connection to one Docker engine, with the per-stack locks that keep two
/// deploys of the same stack from interleaving within this process.
///
/// Cheap to clone: clones share the connection and the locks.
#[derive(Clone)]
pub struct Engine {
    docker: DockerApi,
    stack_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("docker", &self.docker)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Connects the way the docker CLI does: `DOCKER_HOST` (default the
    /// local unix socket); for `tcp://` hosts, TLS when `DOCKER_TLS_VERIFY`
    /// is set, with `ca.pem`, `cert.pem` and `key.pem` from
    /// `DOCKER_CERT_PATH` (default `~/.docker`). Then checks that the
    /// daemon answers, with `GET /_ping`.
    pub async fn connect() -> Result<Engine> {
        let host = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned());
        let connect_error = |source| Error::Connect {
            host: host.clone(),
            source,
        };
        let docker = Docker::connect_with_defaults().map_err(connect_error)?;
        // bollard 0.21 joins every request path as an absolute path, which
        // drops the `/v1.xx` prefix: the daemon answers at its own API
        // version whatever is negotiated. So `negotiate_version` (a `GET
        // /version`, which makes the daemon run runc and containerd for
        // their versions: 10 to 70 ms here) only proves the daemon answers,
        // and `/_ping` proves the same in about a millisecond.
        docker.ping().await.map_err(connect_error)?;
        Ok(Engine::from_docker(docker))
    }

    /// Connects to `host` (`unix://...` or `tcp://...`), with mutual TLS
    /// when `tls` names the CA, certificate and key files (in that order);
    /// `None` for `host`: as [`Engine::connect`]. Does not check that the
    /// daemon answers (a target that is down still gets a handle, and is
    /// retried by whoever uses it): call [`Engine::ping`].
    pub fn connect_to(
        host: Option<&str>,
        tls: Option<(&std::path::Path, &std::path::Path, &std::path::Path)>,
    ) -> Result<Engine> {
        let docker_host = std::env::var("DOCKER_HOST").ok();
        let shown = shown_host(host, docker_host.as_deref());
        let connect_error = |source| Error::Connect {
            host: shown.clone(),
            source,
        };
        const TIMEOUT_SECS: u64 = 120;
        let version = bollard::API_DEFAULT_VERSION;
        if let Some(socket) = unix_socket(host, tls.is_some(), docker_host.as_deref())
            && !socket.exists()
        {
            let docker =
                late_socket::client(&socket, TIMEOUT_SECS, version).map_err(connect_error)?;
            return Ok(Engine::from_docker(docker));
        }
        let docker = match (host, tls) {
            (None, _) => Docker::connect_with_defaults(),
            (Some(host), Some((ca, cert, key))) => {
                Docker::connect_with_ssl(host, key, cert, ca, TIMEOUT_SECS, version)
            }
            (Some(host), None) if host.starts_with("tcp://") => {
                Docker::connect_with_http(host, TIMEOUT_SECS, version)
            }
            (Some(host), None) => Docker::connect_with_unix(host, TIMEOUT_SECS, version),
        }
        .map_err(connect_error)?;
        Ok(Engine::from_docker(docker))
    }

    /// Checks that the daemon answers (`GET /_ping`).
    pub async fn ping(&self) -> Result<()> {
        self.docker
            .call("ping", |docker| docker.ping())
            .await
            .map(|_| ())
            .map_err(|source| Error::Api {
                verb: "reaching",
                kind: ObjectKind::Engine,
                name: "/_ping".to_owned(),
                source,
            })
    }

    /// Wraps an existing bollard client (already connected and negotiated).
    /// Its requests are timed as target `default` until [`Engine::for_target`]
    /// names it.
    pub fn from_docker(docker: Docker) -> Engine {
        Engine {
            docker: DockerApi::new(docker, Arc::from(DEFAULT_TARGET)),
            stack_locks: Arc::default(),
        }
    }

    /// The same engine, its requests timed as target `target` in the
    /// metrics (`voc serve` names each configured engine).
    pub fn for_target(self, target: &str) -> Engine {
        Engine {
            docker: self.docker.for_target(target),
            stack_locks: self.stack_locks,
        }
    }

    /// The target this engine's requests are timed as.
    pub fn target(&self) -> &str {
        self.docker.target()
    }

    /// The client, for the engine modules.
    pub(crate) fn docker(&self) -> &DockerApi {
        &self.docker
    }

    /// Waits for, then holds, this process's lock on stack `name`: deploys
    /// and removals of one stack run one after the other.
    pub(crate) async fn lock_stack(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            // A poisoned map is still a valid map: a panic elsewhere cannot
            // leave it half-updated.
            let mut locks = self
                .stack_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(locks.entry(name.to_owned()).or_default())
        };
        lock.lock_owned().await
    }

    /// Fails with the docker CLI's message unless this engine is a swarm
    /// manager (`/info` `Swarm.ControlAvailable`).
    pub async fn check_swarm_manager(&self) -> Result<()> {
        let info = self.docker.call("info", |docker| docker.info()).await;
        let info = info.map_err(|source| Error::Api {
            verb: "reading",
            kind: ObjectKind::Engine,
            name: "/info".to_owned(),
            source,
        })?;
        let is_manager = info
            .swarm
            .and_then(|swarm| swarm.control_available)
            .unwrap_or(false);
        if is_manager {
            Ok(())
        } else {
            Err(Error::NotSwarmManager)
        }
    }
}

/// Where a connection with configured host `host` goes, as errors name it:
/// the host; without one, what bollard connects to by default, which is
/// `DOCKER_HOST` (`docker_host`) when set, else the default socket.
fn shown_host(host: Option<&str>, docker_host: Option<&str>) -> String {
    match (host, docker_host) {
        (Some(host), _) => host.to_owned(),
        (None, Some(docker_host)) if !docker_host.is_empty() => {
            format!("{docker_host} (DOCKER_HOST)")
        }
        // bollard's default socket (its `DEFAULT_SOCKET`, which it does
        // not export).
        (None, _) => "unix:///var/run/docker.sock".to_owned(),
    }
}

/// The unix socket a target connects to, if it is one: the configured
/// host (`unix://` or a bare path, without TLS), else `DOCKER_HOST`'s, else
/// the default socket, as `Engine::connect_to` reads them.
fn unix_socket(
    host: Option<&str>,
    tls: bool,
    docker_host: Option<&str>,
) -> Option<std::path::PathBuf> {
    let socket = |host: &str| {
        let path = host.strip_prefix("unix://").unwrap_or(host);
        (!host.contains("://") || host.starts_with("unix://"))
            .then(|| std::path::PathBuf::from(path))
    };
    match (host, docker_host) {
        (Some(host), _) if !tls => socket(host),
        (Some(_), _) => None,
        (None, Some(docker_host)) if !docker_host.is_empty() => socket(docker_host),
        (None, _) => Some(std::path::PathBuf::from("/var/run/docker.sock")),
    }
}

#[cfg(test)]
mod unix_socket_tests {
    use super::unix_socket;
    use std::path::PathBuf;

    #[test]
    fn the_socket_is_found_where_connect_to_looks() {
        let sock = |p: &str| Some(PathBuf::from(p));
        assert_eq!(
            unix_socket(Some("unix:///run/d.sock"), false, None),
            sock("/run/d.sock")
        );
        assert_eq!(
            unix_socket(Some("/run/d.sock"), false, None),
            sock("/run/d.sock")
        );
        assert_eq!(unix_socket(Some("tcp://10.0.0.1:2376"), false, None), None);
        assert_eq!(unix_socket(Some("tcp://10.0.0.1:2376"), true, None), None);
        assert_eq!(unix_socket(None, false, None), sock("/var/run/docker.sock"));
        assert_eq!(
            unix_socket(None, false, Some("")),
            sock("/var/run/docker.sock")
        );
        assert_eq!(
            unix_socket(None, false, Some("unix:///x/d.sock")),
            sock("/x/d.sock")
        );
        assert_eq!(unix_socket(None, false, Some("tcp://h:2375")), None);
        assert_eq!(unix_socket(None, false, Some("ssh://me@h")), None);
    }
}

#[cfg(test)]
mod shown_host_tests {
    use super::shown_host;

    #[test]
    fn a_connection_error_names_the_host_docker_host_or_the_default_socket() {
        assert_eq!(
            shown_host(Some("tcp://10.0.0.2:2376"), Some("unix:///x.sock")),
            "tcp://10.0.0.2:2376"
        );
        assert_eq!(
            shown_host(None, Some("unix:///run/user/1000/docker.sock")),
            "unix:///run/user/1000/docker.sock (DOCKER_HOST)"
        );
        assert_eq!(shown_host(None, Some("")), "unix:///var/run/docker.sock");
        assert_eq!(shown_host(None, None), "unix:///var/run/docker.sock");
    }
}
