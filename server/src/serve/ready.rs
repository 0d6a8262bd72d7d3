//! Readiness (`GET /readyz`): whether this voc can do its work, part by
//! part, so that an operator (or an orchestrator's probe) sees which part
//! is missing. Liveness (`/healthz`) is only "the process answers".
//!
//! The checks:
//!
//! - **store**: a read of the database's schema answers within
//!   [`STORE_TIMEOUT`].
//! - **git**: what the fetch loop last saw, not a fetch of its own (a
//!   probe every few seconds must not load the git host): its last round
//!   succeeded, there was one, and it is not older than
//!   [`stale_after`] the poll interval (a fetch loop that hangs).
//! - **engine:`<target>`**, one per configured target: the target's live
//!   loop read it at its last try, recently enough ([`stale_after`] the
//!   live interval).
//!
//! The verdict and each check are pure functions of what the loops
//! publish, tested below; [`readiness`] gathers them.

use std::time::Duration;

use serde::Serialize;

use super::live::LiveState;
use super::state::AppState;
use crate::reconcile::follow::RepoStatus;

/// How long the store may take to answer before it counts as not ready.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `store`, `git`, or `engine:<target>`.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Why it did not, as a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    fn passed(name: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            error: None,
        }
    }

    fn failed(name: impl Into<String>, error: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: false,
            error: Some(error.into()),
        }
    }
}

/// The verdict, and every check that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// True when every check passed.
    pub ready: bool,
    /// Each check, in a fixed order: store, git, then the engines by
    /// target name.
    pub checks: Vec<Check>,
}

impl Readiness {
    /// Ready when every one of `checks` passed (and there is at least one).
    pub fn of(checks: Vec<Check>) -> Readiness {
        Readiness {
            ready: !checks.is_empty() && checks.iter().all(|check| check.ok),
            checks,
        }
    }
}

/// How old the last success of a loop that runs every `interval` may be:
/// three rounds and a minute to spare (for a slow fetch or read, and the
/// backoff of a retry).
pub fn stale_after(interval: Duration) -> Duration {
    interval.saturating_mul(3) + Duration::from_secs(60)
}

/// The git check, from the fetch loop's status at `now_ms` (milliseconds
/// since the Unix epoch), for a loop that fetches every `poll`.
pub fn git_check(status: &RepoStatus, now_ms: i64, poll: Duration) -> Check {
    const NAME: &str = "git";
    if let Some(error) = &status.last_error {
        return Check::failed(
            NAME,
            format!("the last fetch of the conf repo failed: {error}"),
        );
    }
    let Some(fetched_at) = status.last_fetch_at else {
        return Check::failed(NAME, "the conf repo has not been fetched yet");
    };
    let age = Duration::from_millis(u64::try_from(now_ms - fetched_at).unwrap_or(0));
    if age > stale_after(poll) {
        return Check::failed(
            NAME,
            format!(
                "the last fetch of the conf repo ended {}s ago, and one is due every {}s: \
                 the fetch loop seems stuck",
                age.as_secs(),
                poll.as_secs()
            ),
        );
    }
    Check::passed(NAME)
}

/// The check of one target's engine, from its live state at `now` (Unix
/// seconds), for a loop that reads every `interval`.
pub fn engine_check(live: &LiveState, now: i64, interval: Duration) -> Check {
    let name = format!("engine:{}", live.target);
    if let Some(error) = &live.error {
        return Check::failed(
            name,
            format!("target {} did not answer: {error}", live.target),
        );
    }
    let Some(read_at) = live.read_at else {
        return Check::failed(
            name,
            format!("target {} has not been read yet", live.target),
        );
    };
    let age = Duration::from_secs(u64::try_from(now - read_at).unwrap_or(0));
    if age > stale_after(interval) {
        return Check::failed(
            name,
            format!(
                "target {} was last read {}s ago, and a read is due every {}s: \
                 its live loop seems stuck",
                live.target,
                age.as_secs(),
                interval.as_secs().max(1)
            ),
        );
    }
    Check::passed(name)
}

/// Runs every check on `state`.
pub async fn readiness(state: &AppState) -> Readiness {
    let mut checks = vec![store_check(state).await];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let now_ms = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
    checks.push(git_check(
        &state.follow.repo_status(),
        now_ms,
        state.config.repo.poll_interval,
    ));
    let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    for live in state.live.values() {
        let live = live.borrow().clone();
        checks.push(engine_check(&live, now_secs, state.config.live_interval));
    }
    Readiness::of(checks)
}

async fn store_check(state: &AppState) -> Check {
    const NAME: &str = "store";
    let store = state.store.clone();
    let checked = tokio::time::timeout(
        STORE_TIMEOUT,
        tokio::task::spawn_blocking(move || store.check()),
    )
    .await;
    match checked {
        Ok(Ok(Ok(()))) => Check::passed(NAME),
        Ok(Ok(Err(error))) => Check::failed(
            NAME,
            format!("the store did not answer: {:#}", anyhow::Error::new(error)),
        ),
        Ok(Err(_)) => Check::failed(NAME, "the store check panicked"),
        Err(_) => Check::failed(
            NAME,
            format!(
                "the store did not answer within {}s (a long write may hold it)",
                STORE_TIMEOUT.as_secs()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::CommitId;

    const POLL: Duration = Duration::from_secs(60);
    const NOW_MS: i64 = 1_800_000_000_000;

    fn fetched(at: Option<i64>, error: Option<&str>) -> RepoStatus {
        RepoStatus {
            last_fetch_at: at,
            head: at.map(|_| CommitId::parse(&"a".repeat(40)).expect("commit id")),
            last_error: error.map(str::to_owned),
        }
    }

    #[test]
    fn ready_only_when_every_check_passed() {
        let all_ok = Readiness::of(vec![Check::passed("store"), Check::passed("git")]);
        assert!(all_ok.ready);
        let one_failed = Readiness::of(vec![
            Check::passed("store"),
            Check::failed("git", "down"),
            Check::passed("engine:default"),
        ]);
        assert!(!one_failed.ready);
        assert!(
            !Readiness::of(Vec::new()).ready,
            "nothing checked is not ready"
        );
    }

    #[test]
    fn the_body_names_each_check_and_the_failures_reason() {
        let readiness = Readiness::of(vec![
            Check::passed("store"),
            Check::failed("git", "the conf repo has not been fetched yet"),
        ]);
        assert_eq!(
            serde_json::to_value(&readiness).expect("json"),
            serde_json::json!({
                "ready": false,
                "checks": [
                    {"name": "store", "ok": true},
                    {"name": "git", "ok": false, "error": "the conf repo has not been fetched yet"}
                ]
            })
        );
    }

    #[test]
    fn git_is_ready_after_a_recent_successful_fetch_only() {
        let recent = git_check(&fetched(Some(NOW_MS - 30_000), None), NOW_MS, POLL);
        assert_eq!(recent, Check::passed("git"));

        let never = git_check(&fetched(None, None), NOW_MS, POLL);
        assert_eq!(
            never.error.as_deref(),
            Some("the conf repo has not been fetched yet")
        );

        // A fetch that failed after earlier successes.
        let failing = git_check(
            &fetched(
                Some(NOW_MS - 1000),
                Some("fetching branch main: no such repo"),
            ),
            NOW_MS,
            POLL,
        );
        assert!(!failing.ok);
        assert_eq!(
            failing.error.as_deref(),
            Some("the last fetch of the conf repo failed: fetching branch main: no such repo")
        );

        // Three polls and a minute: still fine; past it, stuck.
        let limit = i64::try_from(stale_after(POLL).as_millis()).expect("millis");
        assert!(git_check(&fetched(Some(NOW_MS - limit), None), NOW_MS, POLL).ok);
        let stuck = git_check(&fetched(Some(NOW_MS - limit - 1000), None), NOW_MS, POLL);
        assert!(!stuck.ok);
        assert!(
            stuck
                .error
                .as_deref()
                .is_some_and(|e| e.contains("241s ago")),
            "{stuck:?}"
        );
    }

    #[test]
    fn an_engine_is_ready_when_its_last_read_answered_recently() {
        let now = 1_800_000_000;
        let interval = Duration::from_secs(2);
        let live = |read_at: Option<i64>, error: Option<&str>| LiveState {
            target: "edge".into(),
            read_at,
            error: error.map(str::to_owned),
            ..LiveState::default()
        };
        assert_eq!(
            engine_check(&live(Some(now - 2), None), now, interval),
            Check::passed("engine:edge")
        );
        let never = engine_check(&live(None, None), now, interval);
        assert_eq!(never.name, "engine:edge");
        assert_eq!(
            never.error.as_deref(),
            Some("target edge has not been read yet")
        );
        // Down after earlier reads: the state is kept, marked with the error.
        let down = engine_check(
            &live(Some(now - 5), Some("error trying to connect")),
            now,
            interval,
        );
        assert_eq!(
            down.error.as_deref(),
            Some("target edge did not answer: error trying to connect")
        );
        let stuck = engine_check(&live(Some(now - 600), None), now, interval);
        assert!(!stuck.ok);
        assert!(
            stuck
                .error
                .as_deref()
                .is_some_and(|e| e.contains("600s ago")),
            "{stuck:?}"
        );
    }
}
