//! What `voc serve` counts and times, for `GET /metrics` (Prometheus text
//! format). Every metric voc has is named, described and bucketed here, and
//! recorded through the functions of this module, so that a name is
//! written once and its labels are always the same set.
//!
//! Names follow Prometheus' conventions: the `voc_` prefix, base units in
//! the name (`_seconds`), `_total` on counters. Labels take few values
//! (target and provider names, kinds, results, Docker operations), never a
//! commit, job or stack id: the series stay few whatever voc does.
//!
//! Recording goes through the `metrics` facade: with no recorder installed
//! (the CLI, unit tests) it costs a relaxed atomic load and records
//! nothing. `voc serve` installs the Prometheus recorder with [`install`]
//! and renders it with [`Metrics::render`]. This module depends on no other
//! part of voc, so every layer may record.

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Counter: reconcile rounds of a target's loop, by `target` and `result`
/// ([`ReconcileResult`]).
pub const RECONCILES_TOTAL: &str = "voc_reconciles_total";
/// Histogram: how long a reconcile round took (planning and applying), by
/// `target` and `result`.
pub const RECONCILE_DURATION_SECONDS: &str = "voc_reconcile_duration_seconds";
/// Counter: jobs that ended, by `target`, `kind` (build, deploy, remove)
/// and `result` (succeeded, failed, skipped).
pub const JOBS_TOTAL: &str = "voc_jobs_total";
/// Counter: webhook deliveries, by `provider` and `result`
/// ([`WebhookResult`]).
pub const WEBHOOK_DELIVERIES_TOTAL: &str = "voc_webhook_deliveries_total";
/// Histogram: Docker Engine API requests, by `target` and `operation`
/// (bollard's method name: `list_services`, `update_service`, ...).
pub const DOCKER_REQUEST_DURATION_SECONDS: &str = "voc_docker_request_duration_seconds";
/// Histogram: fetches of the conf repo's branch, by `result` (ok, error).
pub const GIT_FETCH_DURATION_SECONDS: &str = "voc_git_fetch_duration_seconds";
/// Histogram: pushes to the conf repo, by `result` ([`PushResult`]).
pub const GIT_PUSH_DURATION_SECONDS: &str = "voc_git_push_duration_seconds";
/// Gauge: 1 when a target's engine answered its last live read, else 0.
pub const TARGET_UP: &str = "voc_target_up";
/// Gauge: always 1, with voc's `version` as a label.
pub const BUILD_INFO: &str = "voc_build_info";

/// Docker requests: most take milliseconds; updates, image pulls through
/// `create_service` and the whole of a build or push take seconds.
const DOCKER_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Reconciles: a fraction of a second with nothing to do, minutes for
/// deploys that wait for their services to converge.
const RECONCILE_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];
/// Git over the network: tens of milliseconds on a LAN to tens of seconds
/// for a large repository.
const GIT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// How a reconcile round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileResult {
    /// Every action of the plan succeeded (or was already as wanted).
    Succeeded,
    /// At least one action failed.
    Failed,
    /// The round could not plan or start (the target is down, git failed).
    Error,
    /// Nothing to apply: the target is at the head already, or waits to
    /// retry a run that failed.
    Unchanged,
}

impl ReconcileResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::Succeeded => "succeeded",
            ReconcileResult::Failed => "failed",
            ReconcileResult::Error => "error",
            ReconcileResult::Unchanged => "unchanged",
        }
    }
}

/// What voc made of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookResult {
    /// A push to the followed branch: the loops were woken.
    Accepted,
    /// Authentic but nothing to do: another branch, another event, a
    /// repeated delivery, a ping, a deleted branch.
    Ignored,
    /// Refused (401): wrong or missing token or signature, or no secret
    /// configured for the endpoint.
    Refused,
    /// Authentic but its body is not a push payload (400).
    BadRequest,
}

impl WebhookResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookResult::Accepted => "accepted",
            WebhookResult::Ignored => "ignored",
            WebhookResult::Refused => "refused",
            WebhookResult::BadRequest => "bad_request",
        }
    }
}

/// How one push attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushResult {
    /// The remote took the commit.
    Accepted,
    /// Someone pushed first: voc rebuilds the commit on the new head and
    /// tries again.
    Overtaken,
    /// Refused by the remote, or a network or authentication error.
    Error,
}

impl PushResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PushResult::Accepted => "accepted",
            PushResult::Overtaken => "overtaken",
            PushResult::Error => "error",
        }
    }
}

/// A reconcile round of `target` ended after `duration`.
pub fn reconcile_ended(target: &str, result: ReconcileResult, duration: Duration) {
    let target = target.to_owned();
    let result = result.as_str();
    metrics::counter!(RECONCILES_TOTAL, "target" => target.clone(), "result" => result)
        .increment(1);
    metrics::histogram!(RECONCILE_DURATION_SECONDS, "target" => target, "result" => result)
        .record(duration.as_secs_f64());
}

/// A job of `target` ended. `kind` and `result` are the store's names
/// (`JobKind::as_str`, `JobStatus::as_str`).
pub fn job_ended(target: &str, kind: &'static str, result: &'static str) {
    metrics::counter!(
        JOBS_TOTAL,
        "target" => target.to_owned(),
        "kind" => kind,
        "result" => result
    )
    .increment(1);
}

/// A webhook delivery from `provider` (`gitlab`, `github`, `gitea`) was
/// answered.
pub fn webhook_delivered(provider: &'static str, result: WebhookResult) {
    metrics::counter!(
        WEBHOOK_DELIVERIES_TOTAL,
        "provider" => provider,
        "result" => result.as_str()
    )
    .increment(1);
}

/// A Docker request to `target` took `duration`.
pub fn docker_request(target: &Arc<str>, operation: &'static str, duration: Duration) {
    metrics::histogram!(
        DOCKER_REQUEST_DURATION_SECONDS,
        "target" => Arc::clone(target),
        "operation" => operation
    )
    .record(duration.as_secs_f64());
}

/// A fetch of the conf repo took `duration`.
pub fn git_fetch(succeeded: bool, duration: Duration) {
    let result = if succeeded { "ok" } else { "error" };
    metrics::histogram!(GIT_FETCH_DURATION_SECONDS, "result" => result)
        .record(duration.as_secs_f64());
}

/// A push attempt to the conf repo took `duration`.
pub fn git_push(result: PushResult, duration: Duration) {
    metrics::histogram!(GIT_PUSH_DURATION_SECONDS, "result" => result.as_str())
        .record(duration.as_secs_f64());
}

/// Whether `target`'s engine answered its last live read.
pub fn target_up(target: &str, up: bool) {
    metrics::gauge!(TARGET_UP, "target" => target.to_owned()).set(if up { 1.0 } else { 0.0 });
}

/// The installed recorder, to render what it holds.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric, in Prometheus' text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds the histogram samples recorded since the last call into their
    /// buckets. The recorder keeps raw samples until then: call it every
    /// few seconds, or memory grows when nobody scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Another recorder is installed in this process (only one can be).
    #[error("a metrics recorder is already installed in this process")]
    AlreadyInstalled,
}

/// The Prometheus recorder with voc's buckets, not installed: `install`
/// installs it, tests use it locally.
fn recorder() -> metrics_exporter_prometheus::PrometheusRecorder {
    let buckets = [
        (DOCKER_REQUEST_DURATION_SECONDS, DOCKER_BUCKETS),
        (RECONCILE_DURATION_SECONDS, RECONCILE_BUCKETS),
        (GIT_FETCH_DURATION_SECONDS, GIT_BUCKETS),
        (GIT_PUSH_DURATION_SECONDS, GIT_BUCKETS),
    ];
    let mut builder = PrometheusBuilder::new();
    for (name, values) in buckets {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), values)
            .expect("the bucket lists above are not empty");
    }
    builder.build_recorder()
}

/// Says what each metric is (the `# HELP` lines) and sets the build info.
/// Goes to the current recorder: the global one after [`install`].
fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        RECONCILES_TOTAL,
        Unit::Count,
        "Reconcile rounds of each target's loop, by result (succeeded, failed, error, unchanged)."
    );
    metrics::describe_histogram!(
        RECONCILE_DURATION_SECONDS,
        Unit::Seconds,
        "How long each reconcile round took, planning and applying."
    );
    metrics::describe_counter!(
        JOBS_TOTAL,
        Unit::Count,
        "Jobs that ended, by kind (build, deploy, remove) and result (succeeded, failed, skipped)."
    );
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES_TOTAL,
        Unit::Count,
        "Webhook deliveries, by provider and result (accepted, ignored, refused, bad_request)."
    );
    metrics::describe_histogram!(
        DOCKER_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Docker Engine API requests, by target and operation (a build or push: until its stream ends)."
    );
    metrics::describe_histogram!(
        GIT_FETCH_DURATION_SECONDS,
        Unit::Seconds,
        "Fetches of the conf repo's branch, by result (ok, error)."
    );
    metrics::describe_histogram!(
        GIT_PUSH_DURATION_SECONDS,
        Unit::Seconds,
        "Push attempts to the conf repo, by result (accepted, overtaken, error)."
    );
    metrics::describe_gauge!(
        TARGET_UP,
        "1 when the target's engine answered its last live read, else 0."
    );
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version of voc is a label.");
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Installs the Prometheus recorder for the whole process (once: a second
/// call fails) and describes voc's metrics.
pub fn install() -> Result<Metrics, InstallError> {
    let recorder = recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| InstallError::AlreadyInstalled)?;
    describe();
    Ok(Metrics { handle })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `record` against a recorder of its own, and renders it.
    fn rendered(record: impl FnOnce()) -> String {
        let recorder = recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            record();
        });
        handle.render()
    }

    #[test]
    fn histograms_are_rendered_with_their_own_buckets() {
        let text = rendered(|| {
            let target: Arc<str> = Arc::from("edge");
            docker_request(&target, "list_services", Duration::from_millis(3));
            reconcile_ended("edge", ReconcileResult::Succeeded, Duration::from_secs(42));
            git_fetch(true, Duration::from_millis(30));
            git_push(PushResult::Overtaken, Duration::from_millis(70));
        });
        for line in [
            r#"voc_docker_request_duration_seconds_bucket{target="edge",operation="list_services",le="0.0025"} 0"#,
            r#"voc_docker_request_duration_seconds_bucket{target="edge",operation="list_services",le="0.005"} 1"#,
            r#"voc_reconcile_duration_seconds_bucket{target="edge",result="succeeded",le="30"} 0"#,
            r#"voc_reconcile_duration_seconds_bucket{target="edge",result="succeeded",le="60"} 1"#,
            r#"voc_reconcile_duration_seconds_count{target="edge",result="succeeded"} 1"#,
            r#"voc_reconciles_total{target="edge",result="succeeded"} 1"#,
            r#"voc_git_fetch_duration_seconds_bucket{result="ok",le="0.05"} 1"#,
            r#"voc_git_push_duration_seconds_count{result="overtaken"} 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line `{line}` in:\n{text}"
            );
        }
    }

    #[test]
    fn counters_and_gauges_carry_their_labels_and_help() {
        let text = rendered(|| {
            job_ended("default", "deploy", "failed");
            job_ended("default", "deploy", "failed");
            webhook_delivered("github", WebhookResult::Refused);
            target_up("default", false);
        });
        for line in [
            r#"voc_jobs_total{target="default",kind="deploy",result="failed"} 2"#,
            r#"voc_webhook_deliveries_total{provider="github",result="refused"} 1"#,
            r#"voc_target_up{target="default"} 0"#,
            &format!(
                r#"voc_build_info{{version="{}"}} 1"#,
                env!("CARGO_PKG_VERSION")
            ),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line `{line}` in:\n{text}"
            );
        }
        assert!(
            text.contains("# HELP voc_jobs_total Jobs that ended"),
            "no help line:\n{text}"
        );
    }
}
