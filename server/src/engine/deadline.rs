//! How long voc waits for an engine that does not answer.
//!
//! bollard's own timeout (two minutes, for every request: a deploy's
//! calls may be slow) is far too long to tell that an engine is down: a
//! daemon that hangs, or a remote host whose packets are dropped, would
//! make its target's status and reconcile wait two minutes per try. The
//! checks that only ask "are you there?" get these shorter limits.

use std::future::Future;
use std::time::Duration;

use super::{Engine, Error, Result};

/// How long a `/_ping` may take before the engine counts as down.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one read of a target's live state (services and tasks, nodes,
/// `/info`) may take, each.
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// `call`'s result, or [`Error::NoAnswer`] naming `what` once `limit` has
/// passed.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result,
        Err(_) => Err(Error::NoAnswer {
            what: what.to_owned(),
            after: limit,
        }),
    }
}

impl Engine {
    /// Checks that the daemon answers `/_ping` within [`PING_TIMEOUT`].
    pub async fn ping_in_time(&self) -> Result<()> {
        within(PING_TIMEOUT, "/_ping", self.ping()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_past_its_limit_names_what_was_asked() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(1)
        };
        let started = std::time::Instant::now();
        let error = within(Duration::from_millis(50), "/_ping", slow)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            error.to_string(),
            "the engine did not answer /_ping within 50ms"
        );
        let quick = async { Ok(2) };
        assert_eq!(
            within(Duration::from_secs(10), "/_ping", quick)
                .await
                .unwrap(),
            2
        );
    }
}
