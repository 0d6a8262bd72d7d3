//! Seeing what `voc serve` does, against the real engine: `/metrics`
//! counts the deploys, jobs, webhook deliveries, Docker requests and git
//! fetches and pushes that happened (exact counts where voc's work is
//! deterministic); `/readyz` names the git remote while it is gone and is
//! ready again when it is back; `--log-format json` writes one JSON object
//! per line, and a job's lines carry its id.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{VocServer, announced, bare_repo_with};
use voc_tests::{StackGuard, require_engine, unique_name, wait_for};

use crate::serve_follow::{Author, serve, wait_for_marker};
use crate::serve_webhooks::{deliver, payload, signed_headers};

const GITHUB_SECRET: &str = "observability-hook-secret";
const METRICS_TOKEN: &str = "observability-metrics-token";

/// One sample of `/metrics`: its name and labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
}

/// `GET url`, with a bearer `token`; the status and the body.
fn get(url: &str, token: Option<&str>) -> Result<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call()?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}

/// Prometheus' text format, as series and values (comments skipped).
fn parse_metrics(text: &str) -> Result<BTreeMap<Series, f64>> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .with_context(|| format!("no value in `{line}`"))?;
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').context("no closing brace")?),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').context("a label without `=`")?;
                Ok((key.to_owned(), value.trim_matches('"').to_owned()))
            })
            .collect::<Result<_>>()?;
        let series = Series {
            name: name.to_owned(),
            labels,
        };
        samples.insert(
            series,
            value.parse().context("a value that is not a number")?,
        );
    }
    Ok(samples)
}

/// The value of `name{labels}` (exactly these labels), 0 when absent.
fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let series = Series {
        name: name.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    samples.get(&series).copied().unwrap_or(0.0)
}

/// The sum of `name` over the series whose labels include `labels`.
fn total(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.name == name
                && labels
                    .iter()
                    .all(|(k, v)| series.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, value)| value)
        .sum()
}

fn scrape(server: &VocServer, token: Option<&str>) -> Result<BTreeMap<Series, f64>> {
    let (status, text) = get(&format!("{}/metrics", server.url), token)?;
    if status != 200 {
        bail!("/metrics answered {status}: {text}");
    }
    parse_metrics(&text)
}

/// The ids of stack `stack`'s jobs, with their kind and status, once none
/// is queued or running.
fn finished_jobs(server: &VocServer, stack: &str) -> Result<Vec<(String, String, String)>> {
    let admin = server.admin()?;
    wait_for("the stack's jobs to end", Duration::from_secs(60), || {
        let data = admin.data(
            "query($s: String) { jobs(stack: $s, first: 100) { nodes { id kind status } } }",
            json!({"s": stack}),
        )?;
        let jobs: Vec<(String, String, String)> = data["jobs"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|job| {
                let text = |key: &str| job[key].as_str().unwrap_or_default().to_owned();
                (text("id"), text("kind"), text("status"))
            })
            .collect();
        let busy = jobs
            .iter()
            .any(|(_, _, status)| status == "QUEUED" || status == "RUNNING");
        Ok((!busy).then_some(jobs))
    })
}

#[test]
fn metrics_count_jobs_webhooks_and_requests_and_json_logs_carry_the_job_id() -> Result<()> {
    require_engine();
    let name = unique_name("observe");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write_stack(&name, "one")?;
    let first = author.push("Add the stack")?;
    // Polling every hour: after the first fetch, only the webhook and the
    // API's push make voc work, so the job counts are exact.
    let server = serve(
        &bare,
        &[("VOC_POLL_INTERVAL", "1h"), ("VOC_LOG_FORMAT", "json")],
        &format!("[webhooks]\ngithub_secret = \"{GITHUB_SECRET}\"\n"),
    )?;
    wait_for_marker(&server, &name, "one", Duration::from_secs(60))?;

    // Four deliveries: forged, another branch, no secret configured, and
    // a signed push that deploys the new commit.
    author.write_stack(&name, "two")?;
    let second = author.push("Marker two")?;
    let body = payload("github", "refs/heads/main", &first, &second);
    let forged = signed_headers("github", &body, "not-the-secret", "o-1");
    assert_eq!(deliver(&server.url, "github", &forged, &body)?.0, 401);
    let feature = payload("github", "refs/heads/feature", &first, &second);
    let headers = signed_headers("github", &feature, GITHUB_SECRET, "o-2");
    assert_eq!(deliver(&server.url, "github", &headers, &feature)?.0, 202);
    let gitlab = payload("gitlab", "refs/heads/main", &first, &second);
    let headers = signed_headers("gitlab", &gitlab, "any-token", "o-3");
    assert_eq!(deliver(&server.url, "gitlab", &headers, &gitlab)?.0, 401);
    let headers = signed_headers("github", &body, GITHUB_SECRET, "o-4");
    assert_eq!(deliver(&server.url, "github", &headers, &body)?.0, 202);
    wait_for_marker(&server, &name, "two", Duration::from_secs(60))?;

    // A push through the API: the stack disabled, so removed by a job.
    let admin = server.admin()?;
    let change = admin.data(
        "mutation($n: String!) { setStackEnabled(name: $n, enabled: false) { commit jobId } }",
        json!({"n": name}),
    )?["setStackEnabled"]
        .clone();
    assert!(change["commit"].is_string(), "{change}");
    let jobs = finished_jobs(&server, &name)?;
    let count = |kind: &str, status: &str| {
        jobs.iter()
            .filter(|(_, k, s)| k == kind && s == status)
            .count()
    };
    assert_eq!(
        (count("DEPLOY", "SUCCEEDED"), count("REMOVE", "SUCCEEDED")),
        (2, 1),
        "{jobs:?}"
    );

    let samples = scrape(&server, None)?;
    let jobs_total = |kind: &str, result: &str| {
        value(
            &samples,
            "voc_jobs_total",
            &[("target", "default"), ("kind", kind), ("result", result)],
        )
    };
    assert_eq!(jobs_total("deploy", "succeeded"), 2.0, "{samples:#?}");
    assert_eq!(jobs_total("remove", "succeeded"), 1.0, "{samples:#?}");
    assert_eq!(total(&samples, "voc_jobs_total", &[]), 3.0, "{samples:#?}");
    let deliveries = |provider: &str, result: &str| {
        value(
            &samples,
            "voc_webhook_deliveries_total",
            &[("provider", provider), ("result", result)],
        )
    };
    assert_eq!(
        [
            deliveries("github", "accepted"),
            deliveries("github", "ignored"),
            deliveries("github", "refused"),
            deliveries("gitlab", "refused"),
        ],
        [1.0, 1.0, 1.0, 1.0],
        "{samples:#?}"
    );
    assert_eq!(
        total(&samples, "voc_webhook_deliveries_total", &[]),
        4.0,
        "{samples:#?}"
    );
    // Every reconcile that deployed succeeded and was timed.
    let reconciles = value(
        &samples,
        "voc_reconciles_total",
        &[("target", "default"), ("result", "succeeded")],
    );
    assert!(reconciles >= 3.0, "{samples:#?}");
    assert_eq!(
        value(
            &samples,
            "voc_reconcile_duration_seconds_count",
            &[("target", "default"), ("result", "succeeded")],
        ),
        reconciles
    );
    for (name, labels) in [
        (
            "voc_docker_request_duration_seconds_count",
            &[("target", "default"), ("operation", "list_services")][..],
        ),
        (
            "voc_docker_request_duration_seconds_count",
            &[("target", "default"), ("operation", "create_service")][..],
        ),
        (
            "voc_docker_request_duration_seconds_count",
            &[("target", "default"), ("operation", "update_service")][..],
        ),
        (
            "voc_docker_request_duration_seconds_count",
            &[("target", "default"), ("operation", "delete_service")][..],
        ),
        (
            "voc_git_fetch_duration_seconds_count",
            &[("result", "ok")][..],
        ),
        (
            "voc_git_push_duration_seconds_count",
            &[("result", "accepted")][..],
        ),
        ("voc_target_up", &[("target", "default")][..]),
    ] {
        assert!(
            value(&samples, name, labels) >= 1.0,
            "no {name}{labels:?} in {samples:#?}"
        );
    }
    // Histograms have their buckets, up to +Inf.
    assert!(
        total(
            &samples,
            "voc_docker_request_duration_seconds_bucket",
            &[("operation", "list_services"), ("le", "+Inf")],
        ) >= 1.0
    );
    assert_eq!(total(&samples, "voc_build_info", &[]), 1.0, "{samples:#?}");

    // Every line voc wrote is JSON, and the jobs' lines carry their ids.
    let stdout = server.stdout_lines();
    let stderr = server.log_text();
    let mut lines = Vec::new();
    for line in stdout.iter().map(String::as_str).chain(stderr.lines()) {
        let object: Value = serde_json::from_str(line)
            .with_context(|| format!("a line that is not JSON: `{line}`"))?;
        assert!(
            object["timestamp"].is_string() && object["level"].is_string(),
            "{line}"
        );
        lines.push(object);
    }
    assert!(
        stdout
            .iter()
            .any(|line| announced(line).starts_with("voc is listening on http://")),
        "{stdout:?}"
    );
    for (id, kind, _) in &jobs {
        let id: i64 = id.parse()?;
        let of_job: Vec<&Value> = lines.iter().filter(|l| l["span"]["id"] == id).collect();
        let messages: Vec<&str> = of_job
            .iter()
            .filter_map(|l| l["fields"]["message"].as_str())
            .collect();
        assert!(
            messages.contains(&"job started") && messages.contains(&"job ended"),
            "job {id}: {messages:?}"
        );
        // The job's own log lines, as the API shows them, with its span.
        assert!(
            of_job.iter().any(|l| l["target"] == "voc::job"),
            "job {id} has no log line in voc's log: {messages:?}"
        );
        for line in &of_job {
            assert_eq!(line["span"]["kind"], kind.to_lowercase().as_str(), "{line}");
            assert_eq!(line["span"]["subject"], name.as_str(), "{line}");
            assert_eq!(line["span"]["target"], "default", "{line}");
        }
    }
    Ok(())
}

/// Waits until `/readyz` answers `status`; its body.
fn wait_for_readyz(server: &VocServer, status: u16, what: &str) -> Result<Value> {
    wait_for(what, Duration::from_secs(60), || {
        let (got, body) = get(&format!("{}/readyz", server.url), None)?;
        Ok((got == status)
            .then(|| serde_json::from_str::<Value>(&body))
            .transpose()?)
    })
    .with_context(|| format!("voc's log:\n{}", server.log_text()))
}

fn check<'a>(readiness: &'a Value, name: &str) -> &'a Value {
    readiness["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|check| check["name"] == name)
        .unwrap_or(&Value::Null)
}

fn move_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("moving {} to {}", from.display(), to.display()))
}

#[test]
fn readyz_names_the_git_remote_while_it_is_gone_and_metrics_ask_for_their_token() -> Result<()> {
    require_engine();
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let server = serve(
        &bare,
        &[
            ("VOC_POLL_INTERVAL", "1s"),
            ("VOC_METRICS_TOKEN", METRICS_TOKEN),
        ],
        "",
    )?;

    let ready = wait_for_readyz(&server, 200, "voc to be ready")?;
    assert_eq!(ready["ready"], true);
    for name in ["store", "git", "engine:default"] {
        assert_eq!(check(&ready, name)["ok"], true, "{ready}");
    }
    assert_eq!(get(&format!("{}/healthz", server.url), None)?.0, 200);

    // The remote disappears: not ready, and the body says which part.
    let away = dir.path().join("gone.git");
    move_dir(&bare, &away)?;
    let not_ready = wait_for_readyz(&server, 503, "readyz to fail without the remote");
    // Put it back before anything can fail the test, so the server keeps
    // a remote to stop with.
    move_dir(&away, &bare)?;
    let not_ready = not_ready?;
    assert_eq!(not_ready["ready"], false);
    let git = check(&not_ready, "git");
    assert_eq!(git["ok"], false, "{not_ready}");
    let error = git["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("the last fetch of the conf repo failed: "),
        "{not_ready}"
    );
    assert_eq!(check(&not_ready, "store")["ok"], true, "{not_ready}");
    assert_eq!(
        check(&not_ready, "engine:default")["ok"],
        true,
        "{not_ready}"
    );

    // Back: ready again.
    wait_for_readyz(&server, 200, "voc to be ready again")?;

    // The metrics want the token, and saw the failed fetches.
    let url = format!("{}/metrics", server.url);
    assert_eq!(get(&url, None)?.0, 401);
    assert_eq!(get(&url, Some("not-the-token"))?.0, 401);
    let samples = scrape(&server, Some(METRICS_TOKEN))?;
    for result in ["ok", "error"] {
        assert!(
            value(
                &samples,
                "voc_git_fetch_duration_seconds_count",
                &[("result", result)]
            ) >= 1.0,
            "no {result} fetch in {samples:#?}"
        );
    }
    Ok(())
}
