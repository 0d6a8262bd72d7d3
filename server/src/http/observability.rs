//! What lets an operator see voc from outside: `GET /metrics` (Prometheus
//! text format, see `crate::metrics`) and `GET /readyz` (`serve::ready`).
//! `/healthz`, the liveness check, stays in the router's module: it only
//! answers.
//!
//! `/metrics` is open by default, like `/healthz`: Prometheus scrapers have
//! no session, and the numbers name no secret (targets, providers, stack
//! kinds). With `metrics_token` configured it asks for
//! `Authorization: Bearer <token>` (Prometheus' `authorization` setting).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::auth::bearer_in_headers;
use crate::serve::ready;

/// Prometheus' text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let app = &state.app;
    if let Some(expected) = app.config.metrics_token.as_deref()
        && !bearer_in_headers(&headers).is_some_and(|given| super::is_same_secret(&given, expected))
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "/metrics needs the configured metrics_token as `Authorization: Bearer <token>`\n",
        )
            .into_response();
    }
    let Some(metrics) = &app.metrics else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "this process records no metrics (another recorder was installed first)\n",
        )
            .into_response();
    };
    // Read at the scrape, from what the live loops last published: exact
    // whenever it is read, and no work when nobody reads it.
    for (target, live) in app.live.iter() {
        crate::metrics::target_up(target, live.borrow().is_reachable());
    }
    (
        [
            (header::CONTENT_TYPE, PROMETHEUS_TEXT),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics.render(),
    )
        .into_response()
}

/// `GET /readyz`: 200 when every check passed, else 503; the body lists
/// each check (JSON).
pub async fn readyz(State(state): State<HttpState>) -> Response {
    let readiness = ready::readiness(&state.app).await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(readiness),
    )
        .into_response()
}
