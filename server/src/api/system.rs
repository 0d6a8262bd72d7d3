//! The server itself: its version, and a heartbeat subscription.

use async_graphql::{Context, Object, Subscription};
use futures_util::Stream;

use super::caller::{Role, require};
use super::error::ApiResult;

/// Queries about the server.
#[derive(Default)]
pub struct SystemQuery;

#[Object]
impl SystemQuery {
    /// voc's version.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<&'static str> {
        require(ctx, Role::Viewer)?;
        Ok(env!("CARGO_PKG_VERSION"))
    }
}

/// Mutations about the server.
#[derive(Default)]
pub struct SystemMutation;

#[Object]
impl SystemMutation {
    /// Does nothing; answers true (a cheap authenticated round trip).
    async fn ping(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        require(ctx, Role::Viewer)?;
        Ok(true)
    }
}

/// Subscriptions about the server.
#[derive(Default)]
pub struct SystemSubscription;

#[Subscription]
impl SystemSubscription {
    /// A tick every `seconds` (1 to 60): a way to check that subscriptions
    /// reach the client.
    async fn heartbeat(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] seconds: u64,
    ) -> Result<impl Stream<Item = u64> + use<>, async_graphql::Error> {
        require(ctx, Role::Viewer)?;
        let period = std::time::Duration::from_secs(seconds.clamp(1, 60));
        Ok(futures_util::stream::unfold(0u64, move |n| async move {
            tokio::time::sleep(period).await;
            Some((n + 1, n + 1))
        }))
    }
}
