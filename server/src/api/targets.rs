//! The Docker targets voc deploys to: `targets`, answered from the live
//! state (`serve::live` reads each engine's `/info` every half minute).

use async_graphql::{Context, Object, SimpleObject};

use super::caller::{Role, require};
use super::error::ApiResult;
use crate::reconcile::status::format_rfc3339;
use crate::serve::AppState;

/// One Docker engine voc deploys to.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Target")]
pub struct TargetView {
    /// Its name in the configuration.
    pub name: String,
    /// Where it is (`unix:///var/run/docker.sock`, `tcp://host:2376`),
    /// without credentials.
    pub host: String,
    /// True when its last read succeeded.
    pub reachable: bool,
    /// True when it is a swarm manager (can deploy stacks).
    pub swarm_manager: bool,
    /// The engine's version.
    pub engine_version: Option<String>,
    /// Why the last read failed, if it did.
    pub last_error: Option<String>,
    /// When it was last read successfully (RFC 3339).
    pub last_read_at: Option<String>,
}

/// `host` without the user and password a URL may carry
/// (`tcp://user:secret@host:2376` -> `tcp://host:2376`).
fn without_credentials(host: &str) -> String {
    match host.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => host.to_owned(),
            }
        }
        None => host.to_owned(),
    }
}

/// The host a target connects to: the configured one, else the docker
/// CLI's (`DOCKER_HOST`, else the local socket), as `Engine::connect_to`
/// does.
fn host_of(configured: Option<&str>) -> String {
    configured.map(str::to_owned).unwrap_or_else(|| {
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
    })
}

/// The target queries.
#[derive(Default)]
pub struct TargetsQuery;

#[Object]
impl TargetsQuery {
    /// Every configured target, by name, with its status.
    async fn targets(&self, ctx: &Context<'_>) -> ApiResult<Vec<TargetView>> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        Ok(state
            .config
            .targets
            .iter()
            .map(|(name, config)| {
                let live = state.live.get(name).map(|channel| channel.borrow().clone());
                let info = live.as_ref().and_then(|l| l.info.clone());
                TargetView {
                    name: name.clone(),
                    host: without_credentials(&host_of(config.host.as_deref())),
                    reachable: live.as_ref().is_some_and(|l| l.is_reachable()),
                    swarm_manager: info.as_ref().is_some_and(|i| i.swarm_manager),
                    engine_version: info.map(|i| i.version),
                    last_error: live.as_ref().and_then(|l| l.error.clone()),
                    last_read_at: live.and_then(|l| l.read_at).map(format_rfc3339),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_shown_without_credentials() {
        let cases = [
            ("tcp://user:secret@10.0.0.1:2376", "tcp://10.0.0.1:2376"),
            ("tcp://user@host:2376/path@x", "tcp://host:2376/path@x"),
            ("tcp://10.0.0.1:2376", "tcp://10.0.0.1:2376"),
            ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
            ("ssh://me:pw@box", "ssh://box"),
        ];
        for (host, shown) in cases {
            assert_eq!(without_credentials(host), shown, "{host}");
        }
    }
}
