//! One `voc serve` driving several Docker targets: the local engine and a
//! second engine started by the test (`SecondEngine`: its own dockerd and
//! swarm in a network namespace, reached over mutual TLS with certificates
//! the test makes). Each stack lands on its own engine; each target has
//! its own status; a target that is down holds up no other and comes back
//! on its own; and each target's notifications (`[targets.<name>.notify]`)
//! tell a failure and its recovery once, retried until the receiver takes
//! them, signed, over HTTP and HTTPS.
//!
//! Each test declares its `StackGuard`s before its server, so that the
//! server stops before the guards remove the stacks.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use voc_tests::second_engine::SecondEngine;
use voc_tests::server::{GraphqlClient, VocServer, bare_repo_with};
use voc_tests::webhook_receiver::{HookReceiver, Received, TlsFront};
use voc_tests::{BASE_IMAGE, StackGuard, docker, require_engine, unique_name, wait_for};

use crate::serve_follow::{Author, compose, marker, serve, wait_for_marker};

const NOTIFY_SECRET: &str = "notify-test-secret";

const TARGETS: &str =
    "{ targets { name host reachable swarmManager engineVersion lastError lastReadAt } }";

/// The `targets` query's entry for `name`.
fn target_status(client: &GraphqlClient, name: &str) -> Result<Value> {
    let data = client.data(TARGETS, json!({}))?;
    data["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == name)
        .cloned()
        .with_context(|| format!("no target {name} in {data}"))
}

/// `repository.targets`' entry for `name` (the reconcile loop's view).
fn reconcile_status(client: &GraphqlClient, name: &str) -> Result<Value> {
    let data = client.data(
        "{ repository { targets { target lastAppliedCommit lastError reconciling } } }",
        json!({}),
    )?;
    data["repository"]["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["target"] == name)
        .cloned()
        .with_context(|| format!("no target {name} in {data}"))
}

/// The jobs of `stack`, newest first.
fn jobs_of(client: &GraphqlClient, stack: &str) -> Result<Vec<Value>> {
    let data = client.data(
        "query($s: String) { jobs(stack: $s, first: 100) { nodes { id kind subject target commit status error } } }",
        json!({"s": stack}),
    )?;
    Ok(data["jobs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The `MARKER` of stack `name`'s service on `engine`.
fn marker_on(engine: &SecondEngine, name: &str) -> Result<Option<String>> {
    let Some(service) = engine.inspect_service(&format!("{name}_web"))? else {
        return Ok(None);
    };
    let env = &service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"];
    Ok(env
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|pair| pair.strip_prefix("MARKER="))
        .map(str::to_owned))
}

/// Writes stack `name` with `MARKER=marker` on target `target`.
fn write_stack_on(author: &Author, name: &str, marker: &str, target: &str) -> Result<()> {
    author.write_stack(name, marker)?;
    author.write(
        &format!("stack-{name}.json"),
        &format!("{{\"resolveImage\": \"never\", \"target\": \"{target}\"}}\n"),
    )
}

/// Checks that `received` is signed with [`NOTIFY_SECRET`] and names its
/// event in its headers.
fn check_signed(received: &Received) {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(NOTIFY_SECRET.as_bytes()).expect("key");
    mac.update(&received.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        received.header("x-voc-signature-256"),
        Some(format!("sha256={expected}").as_str()),
        "{received:?}"
    );
    assert_eq!(
        received.header("x-voc-event"),
        received.json()["event"].as_str()
    );
    assert_eq!(
        received.header("x-voc-delivery"),
        received.json()["delivery"].as_str()
    );
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert!(
        received
            .header("user-agent")
            .is_some_and(|agent| agent.starts_with("voc/")),
        "{received:?}"
    );
}

/// Every delivery was tried until accepted (the receiver refuses each
/// one's first attempt), and each subject's notifications alternate
/// failure, recovery, ending with a recovery: no notification repeats
/// while something keeps failing.
fn check_deliveries(receiver: &HookReceiver) {
    let received = receiver.received();
    let mut tries: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for request in &received {
        let delivery = request.header("x-voc-delivery").unwrap_or_default();
        tries
            .entry(delivery.to_owned())
            .or_default()
            .push(request.status);
        assert_eq!(request.path, "/hook");
    }
    for (delivery, statuses) in &tries {
        assert_eq!(
            statuses,
            &[500, 200],
            "delivery {delivery}: {:#?}",
            receiver.summary()
        );
    }
    let mut events: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for request in receiver.accepted() {
        let body = request.json();
        events
            .entry((
                body["subjectKind"].as_str().unwrap_or_default().to_owned(),
                body["subject"].as_str().unwrap_or_default().to_owned(),
            ))
            .or_default()
            .push(body["event"].as_str().unwrap_or_default().to_owned());
    }
    for (subject, events) in &events {
        let alternating = events
            .iter()
            .enumerate()
            .all(|(i, e)| e == if i % 2 == 0 { "failure" } else { "recovery" });
        assert!(
            alternating && events.len() % 2 == 0,
            "{subject:?}: {events:?}; {:#?}",
            receiver.summary()
        );
    }
}

#[test]
fn one_server_drives_two_engines_and_a_target_that_is_down_holds_up_no_other() -> Result<()> {
    require_engine();
    let started = Instant::now();
    let phase = |what: &str| eprintln!("[{:>5.1}s] {what}", started.elapsed().as_secs_f64());
    let mut engine = SecondEngine::start()?;
    phase("second engine up");
    let near = unique_name("near");
    let far = unique_name("far");
    let _guard = StackGuard::new(&near);
    let receiver = HookReceiver::start(1)?;
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    write_stack_on(&author, &near, "one", "default")?;
    write_stack_on(&author, &far, "one", "remote")?;
    let first = author.push("A stack on each engine")?;
    let config = format!(
        "{}\n[targets.remote.notify]\nurl = \"{}\"\nsecret = \"{NOTIFY_SECRET}\"\nattempts = 4\n",
        engine.target_config("remote"),
        receiver.url()
    );
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], &config)?;
    let admin = server.admin()?;

    // Each stack on its own engine, and only there.
    wait_for_marker(&server, &near, "one", Duration::from_secs(90))?;
    wait_for(
        "stack far on the second engine",
        Duration::from_secs(90),
        || Ok((marker_on(&engine, &far)?.as_deref() == Some("one")).then_some(())),
    )
    .with_context(|| server.log_text())?;
    phase("both stacks deployed");
    assert_eq!(marker(&far)?, None, "far is on the local engine too");
    assert_eq!(
        marker_on(&engine, &near)?,
        None,
        "near is on the second engine too"
    );
    let far_job = wait_for("far's deploy job to end", Duration::from_secs(60), || {
        Ok(jobs_of(&admin, &far)?
            .into_iter()
            .find(|job| job["status"] != "QUEUED" && job["status"] != "RUNNING"))
    })?;
    assert_eq!(far_job["target"], "remote", "{far_job}");
    assert_eq!(far_job["status"], "SUCCEEDED", "{far_job}");
    assert_eq!(far_job["commit"], first.as_str());
    // The far service's task runs on the second engine's node.
    wait_for("far's task to run", Duration::from_secs(60), || {
        let states = engine.docker([
            "service",
            "ps",
            &format!("{far}_web"),
            "--format",
            "{{.CurrentState}}",
        ])?;
        Ok(states
            .lines()
            .any(|s| s.starts_with("Running"))
            .then_some(()))
    })?;

    // Both targets' status, from each engine.
    let version = |out: String| out.trim().to_owned();
    let local_version = version(docker(["version", "--format", "{{.Server.Version}}"])?);
    let remote_version = version(engine.docker(["version", "--format", "{{.Server.Version}}"])?);
    let statuses = wait_for("both targets read", Duration::from_secs(60), || {
        let default = target_status(&admin, "default")?;
        let remote = target_status(&admin, "remote")?;
        let read = default["engineVersion"].is_string() && remote["engineVersion"].is_string();
        Ok(read.then_some((default, remote)))
    })?;
    for (status, version) in [
        (&statuses.0, &local_version),
        (&statuses.1, &remote_version),
    ] {
        assert_eq!(status["reachable"], true, "{status}");
        assert_eq!(status["swarmManager"], true, "{status}");
        assert_eq!(status["engineVersion"], version.as_str(), "{status}");
        assert!(status["lastError"].is_null(), "{status}");
        assert!(status["lastReadAt"].is_string(), "{status}");
    }
    assert_eq!(statuses.1["host"], engine.host().as_str());
    assert_eq!(
        reconcile_status(&admin, "remote")?["lastAppliedCommit"],
        first.as_str()
    );

    // The second engine stops: its target says so, and the receiver is
    // told once (after one refused attempt).
    engine.stop()?;
    let stopped = Instant::now();
    phase("second engine stopped");
    let down = wait_for(
        "the remote target to be unreachable",
        Duration::from_secs(60),
        || {
            let remote = target_status(&admin, "remote")?;
            Ok((remote["reachable"] == false).then_some(remote))
        },
    )?;
    phase("remote target unreachable in the API");
    assert!(down["lastError"].is_string(), "{down}");
    let failure = receiver.wait_for(
        "the remote target's failure",
        Duration::from_secs(60),
        |body| body["event"] == "failure" && body["subjectKind"] == "target",
    )?;
    let body = failure.json();
    phase(&format!("failure notified: {}", body["message"]));
    assert_eq!(body["target"], "remote");
    assert_eq!(body["subject"], "remote");
    assert!(body["job"].is_null() && body["kind"].is_null(), "{body}");
    assert_eq!(body["commit"], first.as_str());
    assert_eq!(body["failures"], 1);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("target remote cannot be reached"),
        "{body}"
    );
    assert_eq!(
        body["message"],
        format!(
            "the reconcile of target remote failed: {}",
            body["error"].as_str().unwrap_or_default()
        )
    );
    assert!(
        body["vocVersion"].is_string()
            && body["at"].is_string()
            && body["failingSince"] == body["at"]
    );
    check_signed(&failure);
    let remote = reconcile_status(&admin, "remote")?;
    assert!(
        remote["lastError"]
            .as_str()
            .unwrap_or_default()
            .starts_with("target remote cannot be reached"),
        "{remote}"
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(30),
        "{:?}",
        stopped.elapsed()
    );

    // A commit changes both stacks: the local one is deployed at once; the
    // remote one waits for its engine.
    write_stack_on(&author, &near, "two", "default")?;
    write_stack_on(&author, &far, "two", "remote")?;
    let second = author.push("Change both stacks")?;
    let pushed = Instant::now();
    wait_for_marker(&server, &near, "two", Duration::from_secs(60))?;
    let local_deploy = pushed.elapsed();
    phase(&format!(
        "local stack updated {:.1}s after the push",
        local_deploy.as_secs_f64()
    ));
    assert!(
        local_deploy < Duration::from_secs(30),
        "the local deploy took {local_deploy:?} while the other target is down"
    );
    let near_jobs = jobs_of(&admin, &near)?;
    assert_eq!(near_jobs[0]["commit"], second.as_str());
    // Down, the remote target makes no job: its reconcile fails before
    // planning, and says why.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        jobs_of(&admin, &far)?
            .iter()
            .all(|job| job["commit"] != second.as_str()),
        "{:?}",
        jobs_of(&admin, &far)?
    );
    let remote = reconcile_status(&admin, "remote")?;
    assert_eq!(remote["lastAppliedCommit"], first.as_str(), "{remote}");
    assert!(remote["lastError"].is_string(), "{remote}");

    // Back up: with nothing asked, voc deploys the new commit there, the
    // target is reachable again, and the recovery is told.
    engine.start_daemon()?;
    let restarted = Instant::now();
    phase("second engine started again");
    wait_for(
        "far updated on the second engine",
        Duration::from_secs(120),
        || Ok((marker_on(&engine, &far)?.as_deref() == Some("two")).then_some(())),
    )
    .with_context(|| server.log_text())?;
    phase(&format!(
        "remote stack updated {:.1}s after the engine came back",
        restarted.elapsed().as_secs_f64()
    ));
    wait_for(
        "the remote target reachable again",
        Duration::from_secs(60),
        || {
            let remote = target_status(&admin, "remote")?;
            Ok((remote["reachable"] == true && remote["lastError"].is_null()).then_some(()))
        },
    )?;
    phase(&format!(
        "remote target reachable in the API {:.1}s after the engine came back",
        restarted.elapsed().as_secs_f64()
    ));
    let recovery = receiver.wait_for(
        "the remote target's recovery",
        Duration::from_secs(60),
        |body| body["event"] == "recovery" && body["subjectKind"] == "target",
    )?;
    let body = recovery.json();
    phase(&format!("recovery notified: {}", body["message"]));
    assert_eq!(body["target"], "remote");
    assert!(
        body["failures"].as_u64() >= Some(2),
        "one failed reconcile per 1 s poll: {body}"
    );
    assert_eq!(body["failingSince"], failure.json()["at"]);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("target remote recovered: its reconcile ran again after")
    );
    check_signed(&recovery);
    let remote = reconcile_status(&admin, "remote")?;
    assert_eq!(remote["lastAppliedCommit"], second.as_str(), "{remote}");
    assert!(remote["lastError"].is_null(), "{remote}");
    let far_jobs = jobs_of(&admin, &far)?;
    assert!(
        far_jobs
            .iter()
            .any(|job| job["commit"] == second.as_str() && job["status"] == "SUCCEEDED"),
        "{far_jobs:?}"
    );
    check_deliveries(&receiver);
    phase("done");
    Ok(())
}

/// A deploy that fails for a real reason (its external network does not
/// exist) and is retried is notified once, over HTTPS; the commit that
/// fixes it is notified as the recovery, with the number of failures.
#[test]
fn a_failing_deploy_is_notified_once_and_its_fix_as_a_recovery_over_https() -> Result<()> {
    require_engine();
    let name = unique_name("notify");
    let _guard = StackGuard::new(&name);
    let receiver = HookReceiver::start(1)?;
    let front = TlsFront::start(receiver.port())?;
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write(
        &format!("docker-compose-{name}.yml"),
        &format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: {BASE_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 1s\n    networks: [gone]\nnetworks:\n  gone:\n    external: true\n    name: voc-no-such-network-{name}\n"
        ),
    )?;
    author.write(
        &format!("stack-{name}.json"),
        "{\"resolveImage\": \"never\"}\n",
    )?;
    let broken = author.push("A stack whose network is missing")?;
    let config = format!(
        "[targets.default.notify]\nurl = \"{}\"\nsecret = \"{NOTIFY_SECRET}\"\n",
        front.url()
    );
    let ca = front.ca_file().to_string_lossy().into_owned();
    let server = serve(
        &bare,
        &[("VOC_POLL_INTERVAL", "1s"), ("SSL_CERT_FILE", ca.as_str())],
        &config,
    )?;
    let admin = server.admin()?;

    let failure = receiver
        .wait_for("the deploy's failure", Duration::from_secs(60), |body| {
            body["event"] == "failure"
        })
        .with_context(|| server.log_text())?;
    let body = failure.json();
    let jobs = jobs_of(&admin, &name)?;
    let first_job = jobs.last().context("a job")?;
    assert_eq!(first_job["status"], "FAILED");
    assert_eq!(body["target"], "default");
    assert_eq!(
        (body["subjectKind"].as_str(), body["subject"].as_str()),
        (Some("stack"), Some(name.as_str()))
    );
    assert_eq!(body["kind"], "deploy");
    assert_eq!(
        body["job"].to_string(),
        first_job["id"].as_str().unwrap_or_default()
    );
    assert_eq!(body["commit"], broken.as_str());
    assert_eq!(body["error"], first_job["error"]);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("voc-no-such-network-{name}")),
        "{body}"
    );
    check_signed(&failure);

    // The retries (after 1, 2, 4 s) fail again: no new notification.
    wait_for("two more failed deploys", Duration::from_secs(30), || {
        let failed = jobs_of(&admin, &name)?
            .iter()
            .filter(|job| job["status"] == "FAILED")
            .count();
        Ok((failed >= 3).then_some(()))
    })?;
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(receiver.accepted().len(), 1, "{:#?}", receiver.summary());

    // The fix: a recovery, counting every failed deploy.
    author.write(&format!("docker-compose-{name}.yml"), &compose("fixed"))?;
    let fixed = author.push("Drop the missing network")?;
    let recovery = receiver
        .wait_for("the deploy's recovery", Duration::from_secs(90), |body| {
            body["event"] == "recovery"
        })
        .with_context(|| server.log_text())?;
    let body = recovery.json();
    let jobs = jobs_of(&admin, &name)?;
    let failed = jobs.iter().filter(|job| job["status"] == "FAILED").count();
    assert_eq!(jobs[0]["status"], "SUCCEEDED", "{jobs:?}");
    assert_eq!(
        body["job"].to_string(),
        jobs[0]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(body["commit"], fixed.as_str());
    assert_eq!(body["failures"], failed, "{body} {jobs:?}");
    assert_eq!(body["failingSince"], failure.json()["at"]);
    assert_eq!(
        body["message"],
        format!(
            "stack {name} on target default recovered: deploy succeeded after {failed} failed attempts since {}",
            body["failingSince"].as_str().unwrap_or_default()
        )
    );
    check_signed(&recovery);
    check_deliveries(&receiver);
    Ok(())
}

/// A target whose engine accepts connections and never answers (a hung
/// daemon, a host lost behind a firewall that drops packets) is reported
/// unreachable within seconds, not after the 2-minute request timeout, and
/// the other target deploys meanwhile.
#[test]
fn an_engine_that_never_answers_is_reported_within_seconds() -> Result<()> {
    require_engine();
    let name = unique_name("hung");
    let _guard = StackGuard::new(&name);
    // Listens, never accepts: the kernel completes the handshakes, then
    // nothing answers.
    let silent = TcpListener::bind("127.0.0.1:0")?;
    let port = silent.local_addr()?.port();
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write_stack(&name, "one")?;
    write_stack_on(&author, &unique_name("away"), "one", "hung")?;
    author.push("A stack on each target")?;
    let config = format!("[targets.hung]\nhost = \"tcp://127.0.0.1:{port}\"\n");
    let started = Instant::now();
    let server: VocServer = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], &config)?;
    let admin = server.admin()?;
    wait_for_marker(&server, &name, "one", Duration::from_secs(60))?;
    let (live, reconcile) = wait_for("the hung target's errors", Duration::from_secs(60), || {
        let live = target_status(&admin, "hung")?;
        let reconcile = reconcile_status(&admin, "hung")?;
        let both = live["lastError"].is_string() && reconcile["lastError"].is_string();
        Ok(both.then_some((live, reconcile)))
    })?;
    let took = started.elapsed();
    eprintln!(
        "the hung target was reported after {took:?}: {} / {}",
        live["lastError"], reconcile["lastError"]
    );
    assert!(took < Duration::from_secs(45), "{took:?}");
    assert_eq!(live["reachable"], false);
    for error in [&live["lastError"], &reconcile["lastError"]] {
        assert!(
            error
                .as_str()
                .unwrap_or_default()
                .contains("the engine did not answer"),
            "{error}"
        );
    }
    drop(silent);
    Ok(())
}
