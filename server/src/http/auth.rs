//! Finding the caller of a request: the session cookie or the
//! `Authorization: Bearer` API token.

use axum::http::HeaderMap;

use crate::api::Caller;
use crate::serve::AppState;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "voc_session";

/// The session cookie's value, if the request has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie(pub Option<String>);

/// The caller of a request with `headers`: the bearer token if there is
/// one, else the session cookie; `None` when neither is valid.
pub async fn authenticate(_state: &AppState, _headers: &HeaderMap) -> Option<Caller> {
    None
}

/// The caller an API token belongs to.
pub async fn authenticate_token(_state: &AppState, _token: &str) -> Option<Caller> {
    None
}

/// The session cookie of a request.
pub fn session_cookie(headers: &HeaderMap) -> SessionCookie {
    SessionCookie(cookie(headers, SESSION_COOKIE))
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Whether a browser page at the request's `Origin` may use the session
/// cookie on the WebSocket: the server's own host, or an allowed origin.
/// Without this check any web page could open a socket with the user's
/// cookie (cross-site WebSocket hijacking).
pub fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if state.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => origin_host == host,
        _ => false,
    }
}

/// The token in a WebSocket's connection parameters:
/// `{"authorization": "Bearer <token>"}` (or `Authorization`, or `token`).
pub fn bearer_in_params(params: &serde_json::Value) -> Option<String> {
    let object = params.as_object()?;
    let value = object
        .get("authorization")
        .or_else(|| object.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned())
        .or_else(|| object.get("token").and_then(|v| v.as_str()).map(str::to_owned))?;
    (!value.is_empty()).then_some(value)
}
