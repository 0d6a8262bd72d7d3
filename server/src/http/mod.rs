//! voc's HTTP server: the GraphQL endpoint and its WebSocket, the
//! playground, the webhooks, and the health checks. Plain handlers with the
//! state passed explicitly (as in axum's examples).
//!
//! | route | what |
//! |---|---|
//! | `GET, POST /graphql` | GraphQL queries and mutations |
//! | `GET /graphql/ws` | subscriptions (graphql-transport-ws) |
//! | `GET /graphiql` | the playground (GraphiQL, bundled by the web build) |
//! | `GET /healthz` | the process is up |
//! | `GET /readyz` | store, git remote and engines answer (`observability`) |
//! | `GET /metrics` | Prometheus metrics (`observability`) |
//! | `POST /hooks/gitlab`, `/hooks/github`, `/hooks/gitea` | push webhooks (`hooks`) |
//! | anything else | the web app's files (`ui`), `index.html` for its routes |

pub mod auth;
mod graphql;
pub mod hooks;
mod observability;
mod ui;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::api::VocSchema;
use crate::serve::AppState;

/// The largest request body accepted (a GraphQL query with its variables,
/// or a webhook's payload).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The server's state.
    pub app: AppState,
    /// The GraphQL schema (it holds the state too).
    pub schema: VocSchema,
    /// The webhook deliveries seen lately (repeated ones are ignored).
    pub deliveries: std::sync::Arc<hooks::Deliveries>,
}

/// Every route, ready to serve (with `into_make_service_with_connect_info::<SocketAddr>()`,
/// for the client's address).
pub fn router(app: AppState, schema: VocSchema) -> Router {
    Router::new()
        .route("/graphql", get(graphql::query).post(graphql::query))
        .route("/graphql/ws", get(graphql::subscribe))
        .route("/graphiql", get(ui::playground))
        .route("/healthz", get(healthz))
        .route("/readyz", get(observability::readyz))
        .route("/metrics", get(observability::metrics))
        .route("/hooks/gitlab", post(hooks::gitlab))
        .route("/hooks/github", post(hooks::github))
        .route("/hooks/gitea", post(hooks::gitea))
        .fallback(ui::file)
        .layer(CompressionLayer::new())
        // The GraphQL extractor reads the body as a stream, which
        // `DefaultBodyLimit` does not bound: the layer does.
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(HttpState {
            app,
            schema,
            deliveries: Default::default(),
        })
}

/// The process is up and answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The client's address, in the GraphQL context (login's rate limit is per
/// address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Whether `given` is `expected`, in a time that does not depend on where
/// they differ: both go through one keyed hash, and the equal-length
/// digests are compared in constant time.
pub(crate) fn is_same_secret(given: &str, expected: &str) -> bool {
    let digest = |text: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"voc: secret comparison")
            .expect("HMAC-SHA256 accepts keys of any length");
        mac.update(text.as_bytes());
        mac
    };
    let expected = digest(expected).finalize().into_bytes();
    digest(given).verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn only_the_very_token_is_the_same() {
        assert!(is_same_secret("s3cret-token", "s3cret-token"));
        for other in ["", "s3cret-toke", "s3cret-token ", "S3cret-token", "x"] {
            assert!(!is_same_secret(other, "s3cret-token"), "`{other}` passed");
        }
    }
}
