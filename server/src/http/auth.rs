//! Finding the caller of a request: the session cookie or the
//! `Authorization: Bearer` API token.

use axum::http::HeaderMap;

use crate::api::Caller;
use crate::api::caller::Credential;
use crate::serve::AppState;
use crate::store::{Authenticated, CredentialId, Secret, UserResult};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "voc_session";

/// The session cookie's value, if the request has one. A secret: its
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCookie(pub Option<String>);

impl std::fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => f.write_str("SessionCookie(Some(***))"),
            None => f.write_str("SessionCookie(None)"),
        }
    }
}

/// The caller of a request with `headers`: the bearer token if there is
/// one, else the session cookie; `None` when neither is valid. A bearer
/// token that is not valid means no caller, even with a good cookie: a
/// client that sends a token means to act as its user.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    if let Some(token) = bearer_in_headers(headers) {
        return authenticate_token(state, &token).await;
    }
    let cookie = cookie(headers, SESSION_COOKIE)?;
    let secret = Secret::new(cookie);
    let store = state.store.clone();
    lookup(move || store.session_user(&secret)).await
}

/// The caller an API token belongs to.
pub async fn authenticate_token(state: &AppState, token: &str) -> Option<Caller> {
    let token = Secret::new(token);
    let store = state.store.clone();
    lookup(move || store.token_user(&token)).await
}

/// Runs a store lookup on the blocking pool. A failing store means no
/// caller (the request then gets `UNAUTHENTICATED`), logged without the
/// secret.
async fn lookup(
    find: impl FnOnce() -> UserResult<Option<Authenticated>> + Send + 'static,
) -> Option<Caller> {
    match tokio::task::spawn_blocking(find).await {
        Ok(Ok(found)) => found.map(caller_of),
        Ok(Err(error)) => {
            tracing::error!("authenticating a request: {error:#}");
            None
        }
        Err(error) => {
            tracing::error!("authenticating a request: the lookup panicked: {error}");
            None
        }
    }
}

/// The API's caller for a user the store authenticated.
pub fn caller_of(found: Authenticated) -> Caller {
    Caller {
        user_id: found.user.id,
        name: found.user.name,
        email: found.user.email,
        role: found.user.role,
        credential: match found.credential {
            CredentialId::Session(id) => Credential::Session(id),
            CredentialId::Token(id) => Credential::Token(id),
        },
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_in_headers(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The `Set-Cookie` value that stores session `secret` in the browser for
/// `max_age_seconds` (0 deletes it). `HttpOnly`: page scripts cannot read
/// it; `SameSite=Lax`: other sites' pages do not send it with their
/// requests.
pub fn set_session_cookie(secret: &str, max_age_seconds: i64) -> String {
    format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_seconds}")
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
        .or_else(|| {
            object
                .get("token")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })?;
    (!value.is_empty()).then_some(value)
}
