//! Finding the caller of a request: the session cookie or the
//! `Authorization: Bearer` API token.
//!
//! The store does the checking (`store::user`: hashes, expiry, revocation);
//! this module reads the headers, runs the lookup on the blocking pool and
//! turns what the store found into the API's [`Caller`]. On the WebSocket
//! the token comes in the connection parameters ([`bearer_in_params`]),
//! and the cookie counts only from an allowed `Origin`
//! ([`origin_allowed`]).

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

/// The token of an `Authorization: Bearer <token>` header (empty when
/// the header names the scheme but no token: still a bearer attempt, which
/// must fail rather than fall back to the cookie).
pub(crate) fn bearer_in_headers(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_bearer_token_is_read_from_the_authorization_header() {
        let read = |value| bearer_in_headers(&headers(&[("authorization", value)]));
        assert_eq!(read("Bearer voc_abc"), Some("voc_abc".to_owned()));
        assert_eq!(read("bearer  voc_abc "), Some("voc_abc".to_owned()));
        assert_eq!(read("Bearer "), Some(String::new()));
        assert_eq!(read("Bearer"), Some(String::new()));
        assert_eq!(read("Basic dm9jOnZvYw=="), None);
        assert_eq!(read("voc_abc"), None);
        assert_eq!(bearer_in_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let found = session_cookie(&headers(&[
            ("cookie", "theme=dark; voc_session=abc123"),
            ("cookie", "other=1"),
        ]));
        assert_eq!(found, SessionCookie(Some("abc123".to_owned())));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "voc_sessionx=1")])).0,
            None
        );
        assert!(!format!("{found:?}").contains("abc123"));
    }

    #[test]
    fn the_set_cookie_value_keeps_the_cookie_from_scripts_and_other_sites() {
        assert_eq!(
            set_session_cookie("abc", 604_800),
            "voc_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=604800"
        );
        assert_eq!(
            set_session_cookie("", 0),
            "voc_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
        );
    }

    #[test]
    fn the_caller_carries_the_user_and_the_credential() {
        let user = crate::store::User {
            id: 7,
            name: "alice".into(),
            email: "alice@example.com".into(),
            role: crate::api::Role::Operator,
            created_at: 0,
        };
        let caller = caller_of(Authenticated {
            user,
            credential: CredentialId::Token(3),
        });
        assert_eq!(
            (
                caller.user_id,
                caller.name.as_str(),
                caller.role,
                caller.credential
            ),
            (7, "alice", crate::api::Role::Operator, Credential::Token(3))
        );
    }
}
