//! `voc serve` following its conf repo (issue 4, section 2) against the
//! real engine: a bare repo the test pushes to with the git CLI, a server
//! polling it, and the stacks checked with the docker CLI. Pushed stacks
//! are deployed, updated and removed; the jobs and their logs are listed;
//! `jobEvents` follows a forced redeploy to its end; commits that arrive
//! during a reconcile are coalesced into one more; `syncNow` and `plan`.
//!
//! Each test declares its `StackGuard`s before its server, so that the
//! server stops before the guards remove the stacks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{BASE_IMAGE, StackGuard, inspect_service, require_engine, unique_name, wait_for};

/// A person's clone of the conf repo: write, commit, push.
pub(crate) struct Author {
    work: PathBuf,
}

impl Author {
    /// Clones `bare` into `dir/author`.
    pub(crate) fn clone_of(bare: &Path, dir: &Path) -> Result<Author> {
        let work = dir.join("author");
        git(
            dir,
            &[
                "clone",
                "-q",
                &bare.to_string_lossy(),
                &work.to_string_lossy(),
            ],
        )?;
        Ok(Author { work })
    }

    /// Writes stack `name` running the base image with `MARKER=marker`.
    pub(crate) fn write_stack(&self, name: &str, marker: &str) -> Result<()> {
        std::fs::write(
            self.work.join(format!("docker-compose-{name}.yml")),
            compose(marker),
        )?;
        // The base image is in no registry: never ask one for its digest.
        std::fs::write(
            self.work.join(format!("stack-{name}.json")),
            "{\"resolveImage\": \"never\"}\n",
        )?;
        Ok(())
    }

    /// Writes `content` to file `path` of the clone.
    pub(crate) fn write(&self, path: &str, content: &str) -> Result<()> {
        std::fs::write(self.work.join(path), content)?;
        Ok(())
    }

    /// Deletes stack `name`'s files.
    pub(crate) fn delete_stack(&self, name: &str) -> Result<()> {
        git(
            &self.work,
            &[
                "rm",
                "-q",
                &format!("docker-compose-{name}.yml"),
                &format!("stack-{name}.json"),
            ],
        )
    }

    /// Commits everything with `message` and pushes to `main`; the commit.
    pub(crate) fn push(&self, message: &str) -> Result<String> {
        self.push_to(message, "main")
    }

    /// Commits everything with `message` and pushes it to `branch`.
    pub(crate) fn push_to(&self, message: &str, branch: &str) -> Result<String> {
        git(&self.work, &["add", "-A"])?;
        git(
            &self.work,
            &["commit", "-q", "--allow-empty", "-m", message],
        )?;
        git(
            &self.work,
            &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
        )?;
        let sha = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&self.work)
            .output()?;
        Ok(String::from_utf8_lossy(&sha.stdout).trim().to_owned())
    }
}

fn git(cwd: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.org"])
        .args(args)
        .current_dir(cwd)
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// One service that sleeps, with `MARKER` in its environment; a 1 s
/// monitor keeps each deploy's stability wait short.
pub(crate) fn compose(marker: &str) -> String {
    compose_with_monitor(marker, "1s")
}

/// [`compose`] whose deploys wait `monitor` for stability (its update
/// monitor).
pub(crate) fn compose_with_monitor(marker: &str, monitor: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: {BASE_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment:
      MARKER: "{marker}"
    deploy:
      update_config:
        monitor: {monitor}
"#
    )
}

/// The `MARKER` of stack `name`'s service, `None` when it is not there.
pub(crate) fn marker(name: &str) -> Result<Option<String>> {
    let Some(service) = inspect_service(&format!("{name}_web"))? else {
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

/// Waits until stack `name` runs with `MARKER=expected`.
pub(crate) fn wait_for_marker(
    server: &VocServer,
    name: &str,
    expected: &str,
    timeout: Duration,
) -> Result<()> {
    wait_for(
        &format!("stack {name} with MARKER={expected}"),
        timeout,
        || Ok((marker(name)?.as_deref() == Some(expected)).then_some(())),
    )
    .with_context(|| format!("voc's log:\n{}", server.log_text()))
}

/// A server following `bare`, with the extra environment `env`.
pub(crate) fn serve(bare: &Path, env: &[(&str, &str)], config: &str) -> Result<VocServer> {
    VocServer::start(ServerOptions {
        repo_url: Some(bare.to_string_lossy().into_owned()),
        config: config.to_owned(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

const JOBS: &str = "query($s: String, $k: JobKind, $first: Int = 100, $after: ID) { \
     jobs(stack: $s, kind: $k, first: $first, after: $after) { nodes { id kind subject target commit \
     reason status error createdAt startedAt finishedAt log { seq line } } endCursor hasNextPage } }";

fn jobs_of(client: &GraphqlClient, stack: &str) -> Result<Vec<Value>> {
    let data = client.data(JOBS, json!({"s": stack, "first": 100}))?;
    Ok(data["jobs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Waits until stack `stack` has a job matching `matches`, finished.
fn wait_for_job(
    server: &VocServer,
    client: &GraphqlClient,
    stack: &str,
    what: &str,
    matches: impl Fn(&Value) -> bool,
) -> Result<Value> {
    wait_for(what, Duration::from_secs(90), || {
        Ok(jobs_of(client, stack)?.into_iter().find(|job| {
            matches(job)
                && ["SUCCEEDED", "FAILED", "SKIPPED"]
                    .contains(&job["status"].as_str().unwrap_or(""))
        }))
    })
    .with_context(|| format!("voc's log:\n{}", server.log_text()))
}

#[test]
fn pushed_stacks_are_deployed_updated_and_removed_with_their_jobs() -> Result<()> {
    require_engine();
    let name = unique_name("follow");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], "")?;
    let admin = server.admin()?;

    // Deployed.
    author.write_stack(&name, "one")?;
    let first = author.push(&format!("Add stack {name}"))?;
    wait_for_marker(&server, &name, "one", Duration::from_secs(90))?;
    let deploy = wait_for_job(&server, &admin, &name, "the first deploy job", |job| {
        job["commit"] == first.as_str()
    })?;
    assert_eq!(deploy["kind"], "DEPLOY");
    assert_eq!(deploy["status"], "SUCCEEDED", "{deploy}");
    assert_eq!(deploy["target"], "default");
    assert!(
        deploy["reason"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("docker-compose-{name}.yml")),
        "the reason names the file: {deploy}"
    );
    assert!(deploy["startedAt"].is_string() && deploy["finishedAt"].is_string());
    let log = deploy["log"].as_array().cloned().unwrap_or_default();
    assert!(!log.is_empty(), "the deploy job has a log: {deploy}");
    assert_eq!(log[0]["seq"], 1);
    // The service carries the commit it was deployed from.
    let service = inspect_service(&format!("{name}_web"))?.context("the service")?;
    assert_eq!(service["Spec"]["Labels"]["io.voc.commit"], first.as_str());

    // The repository says where things are.
    let repository = admin.data(
        "{ repository { url branch head { sha shortSha message author date } lastFetchAt lastError \
           targets { target lastAppliedCommit lastAppliedAt lastError reconciling } } }",
        json!({}),
    )?["repository"]
        .clone();
    assert_eq!(repository["url"], bare.to_string_lossy().as_ref());
    assert_eq!(repository["branch"], "main");
    assert_eq!(repository["head"]["sha"], first.as_str());
    assert_eq!(repository["head"]["shortSha"], &first[..7]);
    assert_eq!(repository["head"]["message"], format!("Add stack {name}\n"));
    assert_eq!(repository["head"]["author"], "test <test@example.org>");
    assert!(repository["lastFetchAt"].is_string() && repository["lastError"].is_null());
    let target = &repository["targets"][0];
    assert_eq!(target["target"], "default");
    assert_eq!(target["lastAppliedCommit"], first.as_str());
    assert!(target["lastError"].is_null(), "{target}");

    // Updated.
    author.write_stack(&name, "two")?;
    let second = author.push("Change the marker")?;
    wait_for_marker(&server, &name, "two", Duration::from_secs(90))?;
    wait_for_job(&server, &admin, &name, "the update's job", |job| {
        job["commit"] == second.as_str()
    })?;

    // Removed.
    author.delete_stack(&name)?;
    let third = author.push("Remove the stack")?;
    wait_for("the stack's removal", Duration::from_secs(90), || {
        Ok(marker(&name)?.is_none().then_some(()))
    })?;
    let removal = wait_for_job(&server, &admin, &name, "the removal's job", |job| {
        job["commit"] == third.as_str()
    })?;
    assert_eq!(removal["kind"], "REMOVE");
    assert_eq!(removal["status"], "SUCCEEDED", "{removal}");

    // Three jobs, newest first, in pages of one.
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let page =
            admin.data(JOBS, json!({"s": name, "first": 1, "after": after}))?["jobs"].clone();
        ids.extend(
            page["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|j| j["id"].clone()),
        );
        if page["hasNextPage"] != true {
            break;
        }
        after = page["endCursor"].clone();
    }
    let all: Vec<Value> = jobs_of(&admin, &name)?
        .iter()
        .map(|j| j["id"].clone())
        .collect();
    assert_eq!(ids, all);
    assert_eq!(ids.len(), 3, "{all:?}");
    let removals = admin.data(JOBS, json!({"s": name, "k": "REMOVE"}))?;
    assert_eq!(removals["jobs"]["nodes"].as_array().map(Vec::len), Some(1));

    // One job by id, with its log; a missing one is NOT_FOUND.
    let one = admin.data(
        "query($id: ID!) { job(id: $id) { id status log(after: 1) { seq } } }",
        json!({"id": ids[0]}),
    )?;
    assert_eq!(one["job"]["id"], ids[0]);
    assert!(
        one["job"]["log"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|l| l["seq"].as_i64() > Some(1))
    );
    let (code, _) = admin.error_code("{ job(id: \"999999\") { id } }", json!({}))?;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = admin.error_code("{ job(id: \"x\") { id } }", json!({}))?;
    assert_eq!(code, "VALIDATION");
    // Reads need a caller.
    let (code, _) = server
        .anonymous()
        .error_code("{ jobs { nodes { id } } }", json!({}))?;
    assert_eq!(code, "UNAUTHENTICATED");
    Ok(())
}

#[test]
fn job_events_follow_a_forced_redeploy_to_its_end() -> Result<()> {
    require_engine();
    let name = unique_name("events");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write_stack(&name, "one")?;
    author.push("Add the stack")?;
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], "")?;
    let admin = server.admin()?;
    wait_for_marker(&server, &name, "one", Duration::from_secs(90))?;
    let before = inspect_service(&format!("{name}_web"))?.context("the service")?;
    let force_before = before["Spec"]["TaskTemplate"]["ForceUpdate"]
        .as_u64()
        .unwrap_or(0);

    let mut all = admin.subscribe(
        "subscription { jobEvents { jobId status seq line } }",
        json!({}),
    )?;
    let job = admin.data(
        "mutation($n: String!) { redeployStack(name: $n, force: true) { id kind subject status reason } }",
        json!({"n": name}),
    )?["redeployStack"]
        .clone();
    assert_eq!(job["kind"], "DEPLOY");
    assert_eq!(job["subject"], name.as_str());
    assert_eq!(job["status"], "QUEUED");
    let id = job["id"].clone();

    let mut one = admin.subscribe(
        "subscription($id: ID) { jobEvents(id: $id) { jobId status error seq line } }",
        json!({"id": id}),
    )?;
    let mut events = Vec::new();
    loop {
        let event = one
            .next(Duration::from_secs(90))
            .with_context(|| server.log_text())?["jobEvents"]
            .clone();
        assert_eq!(event["jobId"], id);
        events.push(event.clone());
        if ["SUCCEEDED", "FAILED", "SKIPPED"].contains(&event["status"].as_str().unwrap_or("")) {
            break;
        }
    }
    assert_eq!(
        events.last().map(|e| e["status"].clone()),
        Some(json!("SUCCEEDED")),
        "{events:?}"
    );
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(!seqs.is_empty(), "no log line: {events:?}");
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "lines missed or repeated: {events:?}"
    );
    // The subscription ends after the final status.
    assert!(one.next(Duration::from_secs(2)).is_err());
    // The stored log is what was streamed.
    let stored = admin.data(
        "query($id: ID!) { job(id: $id) { log { seq line } } }",
        json!({"id": id}),
    )?;
    assert_eq!(
        stored["job"]["log"].as_array().map(Vec::len),
        Some(seqs.len())
    );

    // Forced: the tasks were replaced although nothing changed.
    let after = inspect_service(&format!("{name}_web"))?.context("the service")?;
    assert_eq!(
        after["Spec"]["TaskTemplate"]["ForceUpdate"].as_u64(),
        Some(force_before + 1)
    );
    // The all-jobs subscription saw it too.
    all.until(Duration::from_secs(30), |e| {
        e["jobEvents"]["jobId"] == id && e["jobEvents"]["status"] == "SUCCEEDED"
    })?;

    // Unknown names are NOT_FOUND; viewers cannot redeploy.
    let (code, _) = admin.error_code(
        "mutation { redeployStack(name: \"no-such-stack\") { id } }",
        json!({}),
    )?;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = admin.error_code(
        "mutation { buildImage(name: \"no-such-image\") { id } }",
        json!({}),
    )?;
    assert_eq!(code, "NOT_FOUND");
    Ok(())
}

#[test]
fn pushes_during_a_reconcile_are_coalesced_into_one_more() -> Result<()> {
    require_engine();
    let slow = unique_name("slow");
    let quick = unique_name("quick");
    let _guards = (StackGuard::new(&slow), StackGuard::new(&quick));
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], "")?;
    let admin = server.admin()?;

    // A stack whose deploy waits 12 s for stability keeps the reconcile busy.
    std::fs::write(
        author.work.join(format!("docker-compose-{slow}.yml")),
        compose("slow").replace("monitor: 1s", "monitor: 12s"),
    )?;
    std::fs::write(
        author.work.join(format!("stack-{slow}.json")),
        "{\"resolveImage\": \"never\"}\n",
    )?;
    author.push("Add a slow stack")?;
    wait_for("the slow deploy to run", Duration::from_secs(60), || {
        Ok(jobs_of(&admin, &slow)?
            .into_iter()
            .find(|j| j["status"] == "RUNNING"))
    })?;
    let reconciling = admin.data("{ repository { targets { reconciling } } }", json!({}))?;
    assert_eq!(reconciling["repository"]["targets"][0]["reconciling"], true);

    // Two pushes while it runs, more than a poll apart: each is fetched.
    author.write_stack(&quick, "b")?;
    author.push("Add the quick stack")?;
    std::thread::sleep(Duration::from_millis(2500));
    author.write_stack(&quick, "c")?;
    let last = author.push("Change the quick stack")?;
    assert_eq!(
        jobs_of(&admin, &slow)?[0]["status"],
        "RUNNING",
        "the slow deploy ended before the pushes: the test proves nothing"
    );

    wait_for_marker(&server, &quick, "c", Duration::from_secs(90))?;
    wait_for_job(&server, &admin, &quick, "the quick stack's job", |_| true)?;
    let quick_jobs = jobs_of(&admin, &quick)?;
    assert_eq!(
        quick_jobs.len(),
        1,
        "one run for both commits: {quick_jobs:?}"
    );
    assert_eq!(quick_jobs[0]["commit"], last.as_str());
    assert_eq!(quick_jobs[0]["status"], "SUCCEEDED");
    Ok(())
}

#[test]
fn sync_now_fetches_at_once_and_plan_shows_what_is_pending() -> Result<()> {
    require_engine();
    let name = unique_name("sync");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1h")], "")?;
    let admin = server.admin()?;
    let head = wait_for("the first fetch", Duration::from_secs(30), || {
        let repository = admin.data("{ repository { head { sha } } }", json!({}))?;
        Ok(repository["repository"]["head"]["sha"]
            .as_str()
            .map(str::to_owned))
    })?;

    // A [dry-run] commit: read, planned, nothing changed, and the plan
    // still shows the deploy.
    author.write_stack(&name, "one")?;
    let dry = author.push("Try the stack [dry-run]")?;
    assert_eq!(
        admin.data("mutation { syncNow }", json!({}))?["syncNow"],
        true
    );
    wait_for(
        "the dry run's commit to be read",
        Duration::from_secs(30),
        || {
            let repository = admin.data("{ repository { head { sha } } }", json!({}))?;
            Ok((repository["repository"]["head"]["sha"] == dry.as_str()).then_some(()))
        },
    )?;
    // A dry run records no job and changes nothing.
    std::thread::sleep(Duration::from_secs(3));
    assert!(marker(&name)?.is_none(), "a dry run deployed");
    assert!(jobs_of(&admin, &name)?.is_empty());
    let plan = admin.data(
        "{ plan { target from to scope dryRun actions { id kind subject target reasons needs } \
           skipped { kind name reason } problems { file line message } } }",
        json!({}),
    )?["plan"]
        .clone();
    assert_eq!(plan["target"], "default");
    assert_eq!(plan["from"], head.as_str());
    assert_eq!(plan["to"], dry.as_str());
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["actions"][0]["kind"], "DEPLOY");
    assert_eq!(plan["actions"][0]["subject"], name.as_str());
    assert!(
        plan["problems"].as_array().is_some_and(Vec::is_empty),
        "{plan}"
    );

    // A real commit, and syncNow instead of the hour-long poll.
    author.write_stack(&name, "two")?;
    let applied = author.push("Deploy the stack")?;
    admin.data("mutation { syncNow }", json!({}))?;
    wait_for_marker(&server, &name, "two", Duration::from_secs(60))?;
    wait_for_job(&server, &admin, &name, "the deploy's job", |job| {
        job["commit"] == applied.as_str()
    })?;
    let plan = admin.data(
        "{ plan(target: \"default\") { from to actions { kind } } }",
        json!({}),
    )?["plan"]
        .clone();
    assert_eq!(plan["from"], applied.as_str());
    assert_eq!(plan["to"], applied.as_str());
    assert!(
        plan["actions"].as_array().is_some_and(Vec::is_empty),
        "{plan}"
    );
    let (code, _) = admin.error_code("{ plan(target: \"nowhere\") { to } }", json!({}))?;
    assert_eq!(code, "NOT_FOUND");
    Ok(())
}

#[test]
fn a_target_that_is_down_fails_its_own_run_and_holds_up_no_other() -> Result<()> {
    require_engine();
    let up = unique_name("up");
    let away = unique_name("away");
    let _guard = StackGuard::new(&up);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    // Nothing listens on the `down` target's port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = format!("[targets.down]\nhost = \"tcp://127.0.0.1:{port}\"\n");
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], &config)?;
    let admin = server.admin()?;

    author.write_stack(&up, "one")?;
    author.write_stack(&away, "one")?;
    std::fs::write(
        author.work.join(format!("stack-{away}.json")),
        "{\"resolveImage\": \"never\", \"target\": \"down\"}\n",
    )?;
    let head = author.push("A stack on each target")?;
    wait_for_marker(&server, &up, "one", Duration::from_secs(90))?;
    let targets = wait_for("the down target's error", Duration::from_secs(30), || {
        let data = admin.data(
            "{ repository { targets { target lastAppliedCommit lastError } } }",
            json!({}),
        )?;
        let targets = data["repository"]["targets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let settled = targets
            .iter()
            .any(|t| t["target"] == "down" && t["lastError"].is_string())
            && targets
                .iter()
                .any(|t| t["target"] == "default" && t["lastAppliedCommit"] == head.as_str());
        Ok(settled.then_some(targets))
    })?;
    let down = targets
        .iter()
        .find(|t| t["target"] == "down")
        .context("the down target")?;
    assert!(
        down["lastError"]
            .as_str()
            .unwrap_or("")
            .contains("target down cannot be reached"),
        "{down}"
    );
    assert!(down["lastAppliedCommit"].is_null(), "{down}");
    // The stack of the down target got no job, and the default target's
    // plan does not hold it.
    assert!(jobs_of(&admin, &away)?.is_empty());
    // Its plan needs its engine (for the services' labels): a clear error.
    let (code, error) = admin.error_code("{ plan(target: \"down\") { to } }", json!({}))?;
    assert_eq!(code, "INTERNAL");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("down's services"),
        "{error}"
    );
    Ok(())
}

/// A deploy that fails at once (its external network does not exist) is
/// not tried again at every 1 s poll: the retries back off (1 s, 2 s, 4 s,
/// ...), and `syncNow` tries again at once.
#[test]
fn a_failing_deploy_is_retried_with_a_growing_delay_and_at_once_on_sync_now() -> Result<()> {
    require_engine();
    let name = unique_name("backoff");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    std::fs::write(
        author.work.join(format!("docker-compose-{name}.yml")),
        format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: {BASE_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    networks: [gone]\nnetworks:\n  gone:\n    external: true\n    name: voc-no-such-network-{name}\n"
        ),
    )?;
    std::fs::write(
        author.work.join(format!("stack-{name}.json")),
        "{\"resolveImage\": \"never\"}\n",
    )?;
    author.push("A stack whose network is missing")?;
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1s")], "")?;
    let admin = server.admin()?;
    let failed = |admin: &GraphqlClient| -> Result<usize> {
        Ok(jobs_of(admin, &name)?
            .iter()
            .filter(|job| job["status"] == "FAILED")
            .count())
    };
    wait_for("the first failed deploy", Duration::from_secs(60), || {
        Ok((failed(&admin)? >= 1).then_some(()))
    })?;
    // Without the back-off, 12 polls make about 12 failed jobs; with it,
    // retries come after 1, 2, 4 and 8 s: at most 4 more in 12 s.
    std::thread::sleep(Duration::from_secs(12));
    let after_wait = failed(&admin)?;
    assert!(
        (2..=5).contains(&after_wait),
        "{after_wait} failed deploys in 12 s of 1 s polls"
    );
    admin.data("mutation { syncNow }", json!({}))?;
    wait_for("a retry asked by syncNow", Duration::from_secs(20), || {
        Ok((failed(&admin)? > after_wait).then_some(()))
    })?;
    Ok(())
}
