//! Push webhooks from GitLab, GitHub and Gitea (or Forgejo): `POST
//! /hooks/gitlab`, `/hooks/github`, `/hooks/gitea`. A valid push to the
//! followed branch wakes the follow loops, which fetch and reconcile; the
//! webhook only says "something happened", the commit deployed is always
//! the branch head voc fetches.
//!
//! What each request goes through, in order:
//!
//! 1. The endpoint's secret must be configured (`webhooks.gitlab_token`,
//!    `github_secret`, `gitea_secret`), else every delivery is refused.
//! 2. Authentication over the raw body, compared in constant time: GitLab's
//!    `X-Gitlab-Token` is the secret itself; GitHub's `X-Hub-Signature-256`
//!    is `sha256=` and the hex HMAC-SHA256 of the body; Gitea's
//!    `X-Gitea-Signature` (or `X-Forgejo-Signature`) is the bare hex
//!    HMAC-SHA256. A missing or wrong one is `401`, logged with the
//!    provider, the reason and the delivery id (never the secret or the
//!    signature).
//! 3. A delivery id seen before (GitHub `X-GitHub-Delivery`, Gitea
//!    `X-Gitea-Delivery`, GitLab `Idempotency-Key` or else
//!    `X-Gitlab-Event-UUID`; the last [`REMEMBERED_DELIVERIES`] are kept)
//!    is `200`, ignored: providers redeliver on timeouts.
//! 4. Events other than a push (GitHub's `ping`) are `200`, ignored.
//! 5. A push to another ref than `refs/heads/<branch>` is `202`, ignored
//!    with the reason; a deleted branch or a test delivery (`before` equal
//!    to `after`) is `200`, nothing to do.
//! 6. Otherwise `202`: the loops are woken.
//!
//! Only JSON payloads are read (the hooks' `application/json` content
//! type). GitLab's newer signing token (`webhook-signature`) is not
//! checked: configure the secret token.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::HttpState;
use crate::metrics::WebhookResult;

/// How many delivery ids are remembered to ignore repeated deliveries.
pub const REMEMBERED_DELIVERIES: usize = 1000;

type HmacSha256 = Hmac<Sha256>;

/// Who sends the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitLab.
    GitLab,
    /// GitHub.
    GitHub,
    /// Gitea or Forgejo.
    Gitea,
}

impl Provider {
    /// The name in logs and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitLab => "gitlab",
            Provider::GitHub => "github",
            Provider::Gitea => "gitea",
        }
    }

    /// The configuration key of its secret.
    fn secret_key(self) -> &'static str {
        match self {
            Provider::GitLab => "webhooks.gitlab_token",
            Provider::GitHub => "webhooks.github_secret",
            Provider::Gitea => "webhooks.gitea_secret",
        }
    }

    /// The delivery id headers, preferred first.
    fn delivery_headers(self) -> &'static [&'static str] {
        match self {
            Provider::GitLab => &["idempotency-key", "x-gitlab-event-uuid"],
            Provider::GitHub => &["x-github-delivery"],
            Provider::Gitea => &["x-gitea-delivery", "x-forgejo-delivery", "x-gogs-delivery"],
        }
    }

    /// The event name headers, preferred first.
    fn event_headers(self) -> &'static [&'static str] {
        match self {
            Provider::GitLab => &["x-gitlab-event"],
            Provider::GitHub => &["x-github-event"],
            Provider::Gitea => &["x-gitea-event", "x-forgejo-event", "x-gogs-event"],
        }
    }

    /// Whether `event` is a push (branch or tag).
    fn is_push(self, event: &str) -> bool {
        match self {
            Provider::GitLab => event == "Push Hook" || event == "Tag Push Hook",
            Provider::GitHub | Provider::Gitea => event == "push",
        }
    }
}

/// The delivery ids seen lately, oldest first out.
#[derive(Debug, Default)]
pub struct Deliveries {
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Deliveries {
    /// Records `id`; false when it was already there.
    pub fn first_time(&self, id: &str) -> bool {
        let mut guard = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
        if order.len() > REMEMBERED_DELIVERIES
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
        true
    }
}

/// What to answer a delivery, and whether to wake the loops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short sentence for the provider's delivery log.
    pub body: String,
    /// A push to the followed branch: fetch and reconcile.
    pub wake: bool,
}

impl Answer {
    fn new(status: StatusCode, body: impl Into<String>) -> Answer {
        Answer {
            status,
            body: body.into(),
            wake: false,
        }
    }
}

impl Answer {
    /// What the delivery came to, for the metrics.
    pub fn result(&self) -> WebhookResult {
        match self.status {
            _ if self.wake => WebhookResult::Accepted,
            StatusCode::UNAUTHORIZED => WebhookResult::Refused,
            StatusCode::BAD_REQUEST => WebhookResult::BadRequest,
            _ => WebhookResult::Ignored,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, format!("{}\n", self.body)).into_response()
    }
}

/// The fields of a push payload voc reads (the same on all three).
#[derive(Debug, Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// A webhook's request, as [`answer`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// Who sends it.
    pub provider: Provider,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// Its raw body.
    pub body: &'a [u8],
}

/// Decides what to answer `delivery`, given the endpoint's `secret` and
/// the followed `branch`; remembers its id in `deliveries` once it is
/// authenticated. Logs refusals.
pub fn answer(
    delivery: Delivery<'_>,
    secret: Option<&str>,
    branch: &str,
    deliveries: &Deliveries,
) -> Answer {
    let Delivery {
        provider,
        headers,
        body,
    } = delivery;
    let delivery_id = first_header(headers, provider.delivery_headers());
    let refuse = |reason: String| {
        tracing::warn!(
            provider = provider.as_str(),
            delivery = delivery_id.unwrap_or("none"),
            %reason,
            "webhook refused"
        );
        Answer::new(StatusCode::UNAUTHORIZED, reason)
    };
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return refuse(format!(
            "the {} webhook secret is not configured ({}): voc refuses every delivery",
            provider.as_str(),
            provider.secret_key()
        ));
    };
    if let Err(reason) = authenticate(provider, secret, headers, body) {
        return refuse(reason);
    }
    if let Some(id) = delivery_id
        && !deliveries.first_time(&format!("{}:{id}", provider.as_str()))
    {
        return Answer::new(StatusCode::OK, "ignored: delivery already seen");
    }
    let event = first_header(headers, provider.event_headers()).unwrap_or("");
    if provider == Provider::GitHub && event == "ping" {
        return Answer::new(StatusCode::OK, "pong: the webhook reaches voc");
    }
    if !provider.is_push(event) {
        return Answer::new(
            StatusCode::OK,
            format!("ignored: `{event}` is not a push event"),
        );
    }
    let push: Push = match serde_json::from_slice(body) {
        Ok(push) => push,
        Err(error) => {
            return Answer::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a JSON push payload (use the application/json content type): {error}"
                ),
            );
        }
    };
    let followed = format!("refs/heads/{branch}");
    if push.git_ref != followed {
        return Answer::new(
            StatusCode::ACCEPTED,
            format!("ignored: push to {}, voc follows {branch}", push.git_ref),
        );
    }
    let after = push.after.unwrap_or_default();
    if !after.is_empty() && after.chars().all(|c| c == '0') {
        return Answer::new(
            StatusCode::OK,
            format!("ignored: branch {branch} was deleted; voc keeps what it deployed"),
        );
    }
    if push.before.as_deref() == Some(after.as_str()) {
        return Answer::new(
            StatusCode::OK,
            "test delivery: nothing changed (before = after), nothing to do",
        );
    }
    let short: String = after.chars().take(7).collect();
    tracing::info!(
        provider = provider.as_str(),
        delivery = delivery_id.unwrap_or("none"),
        commit = %short,
        "webhook: push to the followed branch"
    );
    Answer {
        status: StatusCode::ACCEPTED,
        body: format!("queued: voc fetches {branch} and reconciles up to {short}"),
        wake: true,
    }
}

/// Checks the delivery's token or signature against `secret`; the reason
/// when it does not match.
fn authenticate(
    provider: Provider,
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    match provider {
        Provider::GitLab => {
            let token = first_header(headers, &["x-gitlab-token"])
                .ok_or("missing X-Gitlab-Token header")?;
            if super::is_same_secret(token, secret) {
                Ok(())
            } else {
                Err("wrong X-Gitlab-Token".to_owned())
            }
        }
        Provider::GitHub => {
            let header = first_header(headers, &["x-hub-signature-256"])
                .ok_or("missing X-Hub-Signature-256 header")?;
            let hex = header
                .strip_prefix("sha256=")
                .ok_or("X-Hub-Signature-256 does not start with sha256=")?;
            verify_hex(secret, body, hex, "X-Hub-Signature-256")
        }
        Provider::Gitea => {
            let hex = first_header(
                headers,
                &[
                    "x-gitea-signature",
                    "x-forgejo-signature",
                    "x-gogs-signature",
                ],
            )
            .filter(|value| !value.is_empty())
            .ok_or("missing X-Gitea-Signature header (is a secret set on the hook?)")?;
            verify_hex(secret, body, hex, "X-Gitea-Signature")
        }
    }
}

fn mac_of(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length")
}

/// Checks that `hex` is the HMAC-SHA256 of `body` with `secret`.
fn verify_hex(secret: &str, body: &[u8], hex: &str, header: &str) -> Result<(), String> {
    let signature = decode_hex(hex).ok_or_else(|| format!("{header} is not hexadecimal"))?;
    let mut mac = mac_of(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| format!("wrong {header}: the body was not signed with the configured secret"))
}

/// Bytes from (lower or upper case) hexadecimal.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

/// The first of `names` the request has, as text.
fn first_header<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .map(str::trim)
}

/// Answers one delivery and wakes the loops for a push.
fn handle(state: &HttpState, provider: Provider, headers: &HeaderMap, body: &[u8]) -> Answer {
    let config = &state.app.config;
    let secret = match provider {
        Provider::GitLab => config.webhooks.gitlab_token.as_deref(),
        Provider::GitHub => config.webhooks.github_secret.as_deref(),
        Provider::Gitea => config.webhooks.gitea_secret.as_deref(),
    };
    let delivery = Delivery {
        provider,
        headers,
        body,
    };
    let answer = answer(delivery, secret, &config.repo.branch, &state.deliveries);
    crate::metrics::webhook_delivered(provider.as_str(), answer.result());
    if answer.wake {
        state.app.follow.sync_now();
    }
    answer
}

/// `POST /hooks/gitlab`.
pub async fn gitlab(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Answer {
    handle(&state, Provider::GitLab, &headers, &body)
}

/// `POST /hooks/github`.
pub async fn github(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Answer {
    handle(&state, Provider::GitHub, &headers, &body)
}

/// `POST /hooks/gitea` (Gitea and Forgejo).
pub async fn gitea(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Answer {
    handle(&state, Provider::Gitea, &headers, &body)
}

#[cfg(test)]
mod tests;
