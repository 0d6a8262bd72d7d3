//! Sending notifications: one task per target POSTs them in order, each
//! tried up to `attempts` times with a growing wait between tries and a
//! timeout per try. Nothing here waits on the reconcile, nor the reconcile
//! on it: notices are queued without waiting.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::payload::{DELIVERY_HEADER, EVENT_HEADER, Payload, SIGNATURE_HEADER, signature};
use crate::config::NotifyConfig;

/// The longest wait between two tries.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);
/// How much of a refusing receiver's answer is logged.
const LOGGED_ANSWER: usize = 300;
/// How many notifications may wait for a slow receiver before new ones
/// are dropped (each subject queues at most one per state change).
pub const QUEUE: usize = 256;

/// How long to wait after failed try number `attempt` (from 1): 1 s, then
/// twice as long each time, at most 5 minutes.
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    Duration::from_secs(1 << doublings).min(MAX_RETRY_DELAY)
}

/// What an answer means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: delivered.
    Delivered,
    /// 5xx, 408 (timeout), 429 (too many requests): try again later.
    Retry,
    /// Any other status (a wrong URL, a refused signature, a redirect):
    /// trying again would get the same answer.
    Refused,
}

/// The verdict of HTTP status `status`.
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Refused,
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends one target's notifications.
pub struct Sender {
    target: String,
    config: NotifyConfig,
    uri: hyper::Uri,
    client: HttpsClient,
}

/// Why notifications cannot be sent at all (found at start-up).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL is not one hyper can use.
    #[error("targets.{target}.notify.url: `{url}` is not a valid URL: {message}")]
    Url {
        /// The target.
        target: String,
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// TLS cannot be set up.
    #[error("setting up TLS for the notifications of target {target}")]
    Tls {
        /// The target.
        target: String,
        /// Why.
        source: rustls::Error,
    },
}

impl Sender {
    /// A sender for `target`'s notifications. For an `https://` URL it
    /// reads the system's CA certificates (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` override them, as for OpenSSL).
    pub fn new(target: &str, config: &NotifyConfig) -> Result<Sender, SetupError> {
        let uri: hyper::Uri =
            config
                .url
                .parse()
                .map_err(|error: hyper::http::uri::InvalidUri| SetupError::Url {
                    target: target.to_owned(),
                    url: config.url.clone(),
                    message: error.to_string(),
                })?;
        let mut roots = rustls::RootCertStore::empty();
        if uri.scheme_str() == Some("https") {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(target = %target, %error, "reading the system's CA certificates for notifications");
            }
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                tracing::warn!(
                    target = %target,
                    "no CA certificate found (install ca-certificates, or set SSL_CERT_FILE): HTTPS notifications will fail"
                );
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|source| SetupError::Tls {
            target: target.to_owned(),
            source,
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            // A notification is rare: no connection is kept between them.
            .pool_max_idle_per_host(0)
            .build(connector);
        Ok(Sender {
            target: target.to_owned(),
            config: config.clone(),
            uri,
            client,
        })
    }

    /// Sends what arrives on `queue`, in order, until it closes.
    pub async fn run(self, mut queue: tokio::sync::mpsc::Receiver<Payload>) {
        while let Some(payload) = queue.recv().await {
            self.deliver(&payload).await;
        }
    }

    /// Tries to deliver `payload` until it is delivered, refused, or out
    /// of attempts; says how it ended in the log.
    pub async fn deliver(&self, payload: &Payload) -> bool {
        let body = match serde_json::to_vec(payload) {
            Ok(body) => Bytes::from(body),
            Err(error) => {
                tracing::error!(target = %self.target, %error, "encoding a notification");
                return false;
            }
        };
        let attempts = self.config.attempts;
        for attempt in 1..=attempts {
            let problem =
                match tokio::time::timeout(self.config.timeout, self.post(payload, &body)).await {
                    Err(_) => format!("no answer within {:?}", self.config.timeout),
                    Ok(Err(error)) => error,
                    Ok(Ok((status, answer))) => match verdict(status) {
                        Verdict::Delivered => {
                            tracing::info!(
                                target = %self.target,
                                event = payload.event,
                                subject = %payload.subject,
                                delivery = %payload.delivery,
                                attempt,
                                "notification delivered"
                            );
                            return true;
                        }
                        Verdict::Retry => format!("HTTP {status}: {answer}"),
                        Verdict::Refused => {
                            tracing::warn!(
                                target = %self.target,
                                event = payload.event,
                                delivery = %payload.delivery,
                                url = %self.config.url,
                                "the receiver refused the notification (HTTP {status}: {answer}); \
                                 not trying again: check the URL and the secret"
                            );
                            return false;
                        }
                    },
                };
            if attempt == attempts {
                tracing::warn!(
                    target = %self.target,
                    event = payload.event,
                    subject = %payload.subject,
                    delivery = %payload.delivery,
                    url = %self.config.url,
                    "gave up a notification after {attempts} attempts; the last: {problem}"
                );
                return false;
            }
            let wait = retry_delay(attempt);
            tracing::info!(
                target = %self.target,
                delivery = %payload.delivery,
                attempt,
                retry_in_secs = wait.as_secs(),
                "a notification was not delivered: {problem}"
            );
            tokio::time::sleep(wait).await;
        }
        false
    }

    /// One POST; the status and the start of the answer.
    async fn post(&self, payload: &Payload, body: &Bytes) -> Result<(u16, String), String> {
        let mut request = hyper::Request::post(self.uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("voc/", env!("CARGO_PKG_VERSION")),
            )
            .header(EVENT_HEADER, payload.event)
            .header(DELIVERY_HEADER, &payload.delivery);
        if let Some(secret) = &self.config.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, body));
        }
        let request = request
            .body(Full::new(body.clone()))
            .map_err(|error| format!("building the request: {error}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| describe(&error))?;
        let status = response.status().as_u16();
        let answer = match Limited::new(response.into_body(), 16 * 1024)
            .collect()
            .await
        {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let text = String::from_utf8_lossy(&bytes);
                let text = text.trim();
                match text.char_indices().nth(LOGGED_ANSWER) {
                    Some((cut, _)) => format!("{}…", &text[..cut]),
                    None => text.to_owned(),
                }
            }
            Err(_) => String::new(),
        };
        Ok((status, answer))
    }
}

/// An HTTP client error with its causes (hyper's own message is only
/// "client error (Connect)").
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    crate::engine::error::ErrorChain(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_one_second_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
    }

    #[test]
    fn statuses_are_delivered_retried_or_refused() {
        let cases = [
            (200, Verdict::Delivered),
            (202, Verdict::Delivered),
            (204, Verdict::Delivered),
            (299, Verdict::Delivered),
            (301, Verdict::Refused),
            (400, Verdict::Refused),
            (401, Verdict::Refused),
            (404, Verdict::Refused),
            (408, Verdict::Retry),
            (429, Verdict::Retry),
            (500, Verdict::Retry),
            (502, Verdict::Retry),
            (503, Verdict::Retry),
            (599, Verdict::Retry),
            (100, Verdict::Refused),
        ];
        for (status, expected) in cases {
            assert_eq!(verdict(status), expected, "HTTP {status}");
        }
    }
}
