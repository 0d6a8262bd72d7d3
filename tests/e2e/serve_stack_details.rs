//! What a stack's page shows beyond its status (issue 5): the text of its
//! Compose file at the commit git is at, its services' logs streamed over
//! the WebSocket, and the author of each job's commit, against a real
//! engine and a real git remote.
//!
//! The `StackGuard` is declared before the server, so the server stops
//! before the guard removes the stack.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{BASE_IMAGE, StackGuard, require_engine, unique_name, wait_for};

/// A stack whose one service prints `hello-<n>` every second (`$$` is a
/// literal `$` in Compose).
fn compose() -> String {
    format!(
        r#"version: "3.8"
services:
  talker:
    image: {BASE_IMAGE}
    command: ["sh", "-c", "while true; do echo hello-$$RANDOM; sleep 1; done"]
    stop_grace_period: 1s
"#
    )
}

/// A server following a bare repo that holds stack `name`, and the
/// repo's path.
fn serve(
    dir: &std::path::Path,
    name: &str,
    compose: &str,
) -> Result<(VocServer, std::path::PathBuf)> {
    let settings = json!({"resolveImage": "never", "withRegistryAuth": false}).to_string();
    let compose_file = format!("docker-compose-{name}.yml");
    let stack_file = format!("stack-{name}.json");
    let bare = bare_repo_with(dir, &[(&compose_file, compose), (&stack_file, &settings)])?;
    let server = VocServer::start(ServerOptions {
        config: format!(
            "live_interval = \"500ms\"\n[repo]\nurl = {:?}\n",
            bare.to_string_lossy()
        ),
        ..ServerOptions::default()
    })?;
    Ok((server, bare))
}

/// Waits until voc deployed stack `name` and its task runs.
fn wait_until_running(server: &VocServer, client: &GraphqlClient, name: &str) -> Result<Value> {
    let query = "query($n: String!) { stack(name: $n) { syncStatus runningTasks desiredTasks \
                 desiredCommit composeFile composeText deployedComposeText lastDeploy { status } } }";
    wait_for(
        "the stack deployed and running",
        Duration::from_secs(120),
        || {
            let (data, _) = client.post(query, json!({"n": name}))?;
            let stack = data["data"]["stack"].clone();
            let ready = stack["syncStatus"] == "SYNCED"
                && stack["runningTasks"].as_u64() == Some(1)
                && stack["lastDeploy"]["status"] == "succeeded";
            Ok(ready.then_some(stack))
        },
    )
    .with_context(|| format!("voc's log:\n{}", server.log_text()))
}

/// `git log -1 --format=<format>` of the bare repo's `main`.
fn git_log(bare: &std::path::Path, format: &str) -> Result<String> {
    let output = Command::new("git")
        .args(["log", "-1", &format!("--format={format}"), "main"])
        .current_dir(bare)
        .output()?;
    if !output.status.success() {
        bail!("git log: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn a_stack_shows_its_compose_text_its_logs_and_who_made_its_commit() -> Result<()> {
    require_engine();
    let name = unique_name("details");
    let guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let (server, bare) = serve(dir.path(), &name, &compose())?;
    let admin = server.admin()?;

    // The Compose file's text is the committed file, at both commits.
    let stack = wait_until_running(&server, &admin, &name)?;
    assert_eq!(stack["composeText"], compose().as_str(), "{stack:#}");
    assert_eq!(stack["deployedComposeText"], compose().as_str());
    let sha = git_log(&bare, "%H")?;
    assert_eq!(stack["desiredCommit"], sha.as_str());

    // The service's logs stream over the WebSocket: the tail, then new lines.
    let mut logs = admin.subscribe(
        "subscription($s: String!, $v: String!) { serviceLogs(stack: $s, service: $v, tail: 5) \
         { at line stream taskId } }",
        json!({"s": name, "v": "talker"}),
    )?;
    let mut lines = Vec::new();
    for _ in 0..3 {
        let event = logs.next(Duration::from_secs(30))?;
        lines.push(event["serviceLogs"].clone());
    }
    for line in &lines {
        let text = line["line"].as_str().unwrap_or_default();
        assert!(text.starts_with("hello-"), "{line}");
        assert!(text["hello-".len()..].parse::<u32>().is_ok(), "{line}");
        assert_eq!(line["stream"], "STDOUT", "{line}");
        let at = line["at"].as_str().unwrap_or_default();
        assert!(at.starts_with("20") && at.ends_with('Z'), "{line}");
    }
    drop(logs);

    // Each job tells who made its commit.
    let jobs = admin.data(
        "query($s: String) { jobs(stack: $s) { nodes { kind commit \
         commitInfo { sha shortSha author message date } } } }",
        json!({"s": name}),
    )?;
    let nodes = jobs["jobs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let deploy = nodes
        .iter()
        .find(|job| job["kind"] == "DEPLOY")
        .with_context(|| format!("no deploy job: {jobs}"))?;
    let info = &deploy["commitInfo"];
    assert_eq!(info["sha"], sha.as_str(), "{deploy}");
    assert_eq!(info["shortSha"], &sha[..7]);
    assert_eq!(info["author"], git_log(&bare, "%an <%ae>")?.as_str());
    assert_eq!(info["message"].as_str().map(str::trim), Some("first"));

    drop(server);
    guard.remove()
}

#[test]
fn logs_of_an_unknown_service_or_target_are_not_found() -> Result<()> {
    require_engine();
    let server = VocServer::start(ServerOptions::default())?;
    let admin = server.admin()?;
    let query =
        "subscription($s: String!, $v: String!) { serviceLogs(stack: $s, service: $v) { line } }";
    let variables = json!({"s": unique_name("nothing"), "v": "nobody"});

    let mut logs = admin.subscribe(query, variables.clone())?;
    let error = match logs.next(Duration::from_secs(30)) {
        Ok(event) => bail!("expected an error, got {event}"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("NOT_FOUND"), "{error}");
    assert!(error.contains("has no service nobody"), "{error}");

    // An unknown target is NOT_FOUND too, with its name.
    let mut logs = admin.subscribe(
        "subscription { serviceLogs(stack: \"a\", service: \"b\", target: \"nowhere\") { line } }",
        json!({}),
    )?;
    let error = match logs.next(Duration::from_secs(30)) {
        Ok(event) => bail!("expected an error, got {event}"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        error.contains("NOT_FOUND") && error.contains("nowhere"),
        "{error}"
    );
    Ok(())
}

/// A port nothing listens on.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[test]
fn logs_on_a_target_that_is_down_fail_with_a_sentence_naming_it() -> Result<()> {
    require_engine();
    let server = VocServer::start(ServerOptions {
        config: format!(
            "[targets.down]\nhost = \"tcp://127.0.0.1:{}\"\n",
            free_port()?
        ),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let query = "subscription($t: String) { serviceLogs(stack: \"shop\", service: \"web\", target: $t) { line } }";

    let mut logs = admin.subscribe(query, json!({"t": "down"}))?;
    let error = match logs.next(Duration::from_secs(30)) {
        Ok(event) => bail!("expected an error, got {event}"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        error.contains("voc could not read the logs of shop_web on target down"),
        "{error}"
    );

    // With two targets and a stack git does not have, voc asks which one.
    let mut logs = admin.subscribe(query, json!({"t": null}))?;
    let error = match logs.next(Duration::from_secs(30)) {
        Ok(event) => bail!("expected an error, got {event}"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        error.contains("VALIDATION") && error.contains("say which one"),
        "{error}"
    );
    Ok(())
}
