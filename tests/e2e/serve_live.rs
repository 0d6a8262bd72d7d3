//! `voc serve`'s live state (issue 4, sections 2 and 6) against the real
//! engine: the `stacks` and `targets` queries answered from the per-target
//! loop, task events over the WebSocket, and drift: a hand change to a
//! stack voc deployed makes it out of sync with the reason, and a stack
//! with `selfHeal` is put back.
//!
//! Each test declares its `StackGuard` before its server, so the server
//! stops (and cannot self-heal a stack) before the guard removes it.

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{
    BASE_IMAGE, StackGuard, cli_stack_deploy, docker, require_engine, unique_name, wait_for,
};

const STACK: &str = "query($n: String!) { stack(name: $n) { name target enabled syncStatus \
     syncReason health runningTasks desiredTasks deployedCommit desiredCommit composeFile \
     selfHeal lastDeploy { id status error } \
     services { name fullName image mode replicas runningTasks updateState \
       tasks { id slot node state desiredState message error image createdAt updatedAt } } } }";

const TASK_EVENTS: &str = "subscription($s: String) { taskEvents(stack: $s) \
     { target stack service taskId previousState state error } }";

/// The config of a server that reads its targets often.
fn fast_config(drift_interval: &str) -> String {
    format!("live_interval = \"500ms\"\ndrift_interval = \"{drift_interval}\"\n")
}

/// A stack of two services: `web` (2 replicas) and `worker`.
fn compose() -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: {BASE_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment:
      ROLE: web
    deploy:
      replicas: 2
  worker:
    image: {BASE_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
"#
    )
}

/// A port nothing listens on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn stack(client: &GraphqlClient, name: &str) -> Result<Value> {
    Ok(client.data(STACK, json!({"n": name}))?["stack"].clone())
}

/// Waits until `stack(name)` satisfies `ready`, and returns it.
fn wait_for_stack(
    client: &GraphqlClient,
    name: &str,
    what: &str,
    timeout: Duration,
    ready: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let mut last = Value::Null;
    let found = wait_for(what, timeout, || {
        let (data, _) = client.post(STACK, json!({"n": name}))?;
        last = data["data"]["stack"].clone();
        Ok(ready(&last).then(|| last.clone()))
    });
    match found {
        Ok(stack) => Ok(stack),
        Err(error) => bail!("{error:#}; the stack last read: {last:#}"),
    }
}

fn all_running(stack: &Value) -> bool {
    stack["desiredTasks"].as_u64().unwrap_or(0) > 0
        && stack["runningTasks"] == stack["desiredTasks"]
        && stack["health"] == "HEALTHY"
}

#[test]
fn stacks_show_a_cli_stack_with_its_services_and_running_tasks() -> Result<()> {
    require_engine();
    let name = unique_name("live-cli");
    let guard = cli_stack_deploy(&name, &compose())?;
    let server = VocServer::start(ServerOptions {
        config: fast_config("30s"),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;

    let stack = wait_for_stack(
        &admin,
        &name,
        "every task running",
        Duration::from_secs(60),
        all_running,
    )?;
    assert_eq!(stack["target"], "default");
    assert_eq!(stack["syncStatus"], "OUT_OF_SYNC", "{stack:#}");
    assert_eq!(stack["syncReason"], "the stack is not in git");
    assert_eq!(stack["desiredCommit"], Value::Null);
    assert_eq!(stack["deployedCommit"], Value::Null);
    assert_eq!(stack["composeFile"], Value::Null);
    assert_eq!(
        (
            stack["runningTasks"].as_u64(),
            stack["desiredTasks"].as_u64()
        ),
        (Some(3), Some(3))
    );
    let services = stack["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "worker"]);
    let web = &services[0];
    assert_eq!(web["fullName"], format!("{name}_web"));
    assert_eq!(web["mode"], "replicated");
    assert_eq!(web["replicas"], 2);
    assert_eq!(web["runningTasks"], 2);
    let tasks = web["tasks"].as_array().unwrap();
    let running: Vec<&Value> = tasks.iter().filter(|t| t["state"] == "running").collect();
    assert_eq!(running.len(), 2, "{tasks:#?}");
    for task in running {
        assert_eq!(task["desiredState"], "running");
        assert!(!task["node"].as_str().unwrap().is_empty(), "{task}");
        assert!(
            task["image"].as_str().unwrap().starts_with(BASE_IMAGE),
            "{task}"
        );
        assert!(
            task["createdAt"].as_str().unwrap().starts_with("20"),
            "{task}"
        );
    }
    let mut slots: Vec<u64> = tasks.iter().filter_map(|t| t["slot"].as_u64()).collect();
    slots.dedup();
    assert_eq!(slots, [1, 2]);

    // The list has it too, and the filter and target narrow it.
    let listed = admin.data(
        "query($f: String) { stacks(filter: $f) { name target syncStatus services { name tasks { id state } } } }",
        json!({"f": name.to_uppercase()}),
    )?;
    assert_eq!(listed["stacks"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["stacks"][0]["name"], name.as_str());
    let elsewhere = admin.data(
        "query($f: String) { stacks(target: \"nowhere\", filter: $f) { name } }",
        json!({"f": name}),
    )?;
    assert_eq!(elsewhere["stacks"], json!([]));

    // A stack neither git nor Docker has is NOT_FOUND.
    let (code, _) = admin.error_code(STACK, json!({"n": "no-such-stack-anywhere"}))?;
    assert_eq!(code, "NOT_FOUND");
    // Reading needs a caller.
    let (code, _) = server.anonymous().error_code(STACK, json!({"n": name}))?;
    assert_eq!(code, "UNAUTHENTICATED");

    drop(server);
    guard.remove()
}

#[test]
fn targets_show_the_default_engine_reachable_and_a_manager() -> Result<()> {
    require_engine();
    let server = VocServer::start(ServerOptions {
        config: fast_config("30s"),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let query =
        "{ targets { name host reachable swarmManager engineVersion lastError lastReadAt } }";
    let targets = wait_for("the default target read", Duration::from_secs(30), || {
        let targets = admin.data(query, json!({}))?["targets"].clone();
        Ok((targets[0]["reachable"] == true).then_some(targets))
    })?;
    let targets = targets.as_array().unwrap();
    assert_eq!(targets.len(), 1);
    let default = &targets[0];
    assert_eq!(default["name"], "default");
    assert_eq!(default["swarmManager"], true, "{default}");
    assert_eq!(default["lastError"], Value::Null);
    let version = docker(["version", "--format", "{{.Server.Version}}"])?;
    assert_eq!(default["engineVersion"], version.trim());
    assert!(
        default["host"].as_str().unwrap().starts_with("unix://"),
        "{default}"
    );
    assert!(
        default["lastReadAt"].as_str().unwrap().ends_with('Z'),
        "{default}"
    );
    Ok(())
}

#[test]
fn an_unreachable_target_is_shown_with_its_error_and_its_stacks_unknown() -> Result<()> {
    require_engine();
    // Git puts a stack on target `down`, where nothing listens.
    let name = unique_name("live-down");
    let dir = tempfile::tempdir()?;
    let settings = json!({"target": "down", "resolveImage": "never"}).to_string();
    let repo = bare_repo_with(
        dir.path(),
        &[
            (&format!("docker-compose-{name}.yml"), &compose()),
            (&format!("stack-{name}.json"), &settings),
        ],
    )?;
    let server = VocServer::start(ServerOptions {
        config: format!(
            "{}[targets.down]\nhost = \"tcp://127.0.0.1:{}\"\n[repo]\nurl = {:?}\n",
            fast_config("30s"),
            free_port(),
            repo.to_string_lossy()
        ),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let query = "{ targets { name reachable swarmManager lastError lastReadAt } }";
    let down = wait_for("the down target's error", Duration::from_secs(30), || {
        let targets = admin.data(query, json!({}))?["targets"].clone();
        let down = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == "down").cloned());
        Ok(down.filter(|d| d["lastError"].is_string()))
    })?;
    assert_eq!(down["reachable"], false, "{down}");
    assert_eq!(down["lastReadAt"], Value::Null);
    assert!(!down["lastError"].as_str().unwrap().is_empty(), "{down}");
    assert_eq!(down["swarmManager"], false);

    let stack = wait_for_stack(
        &admin,
        &name,
        "the stack on the down target",
        Duration::from_secs(30),
        |s| {
            s["syncReason"]
                .as_str()
                .is_some_and(|r| r.starts_with("target down cannot be reached: "))
        },
    )?;
    assert_eq!(stack["target"], "down");
    assert_eq!(stack["syncStatus"], "UNKNOWN");
    assert_eq!(stack["health"], "MISSING");
    assert_eq!(stack["services"], json!([]));
    Ok(())
}

#[test]
fn scaling_a_service_shows_in_task_events() -> Result<()> {
    require_engine();
    let name = unique_name("live-scale");
    let guard = cli_stack_deploy(&name, &compose())?;
    let server = VocServer::start(ServerOptions {
        config: fast_config("30s"),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    wait_for_stack(
        &admin,
        &name,
        "every task running",
        Duration::from_secs(60),
        all_running,
    )?;

    let mut events = admin.subscribe(TASK_EVENTS, json!({"s": name}))?;
    let worker = format!("{name}_worker");
    docker(["service", "scale", "--detach", &format!("{worker}=3")])?;
    let mut new_tasks = std::collections::BTreeSet::new();
    let mut running = std::collections::BTreeSet::new();
    events.until(Duration::from_secs(60), |event| {
        let event = &event["taskEvents"];
        assert_eq!(
            event["stack"],
            name.as_str(),
            "only the stack's events: {event}"
        );
        assert_eq!(event["target"], "default");
        if event["service"] == worker.as_str() {
            let id = event["taskId"].as_str().unwrap_or_default().to_owned();
            if event["previousState"].is_null() {
                new_tasks.insert(id.clone());
            }
            if event["state"] == "running" && new_tasks.contains(&id) {
                running.insert(id);
            }
        }
        running.len() == 2
    })?;
    let stack = wait_for_stack(
        &admin,
        &name,
        "the new replicas counted",
        Duration::from_secs(30),
        |s| s["runningTasks"] == 5,
    )?;
    let worker_service = stack["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "worker")
        .cloned()
        .unwrap();
    assert_eq!(worker_service["replicas"], 3);
    drop(events);
    drop(server);
    guard.remove()
}

/// A conf repo holding stack `name` (from `compose`), deployed by voc.
fn conf_repo(dir: &std::path::Path, name: &str, compose: &str, self_heal: bool) -> Result<String> {
    let settings = json!({
        "resolveImage": "never",
        "withRegistryAuth": false,
        "selfHeal": self_heal,
    })
    .to_string();
    let compose_file = format!("docker-compose-{name}.yml");
    let stack_file = format!("stack-{name}.json");
    let bare = bare_repo_with(dir, &[(&compose_file, compose), (&stack_file, &settings)])?;
    Ok(bare.to_string_lossy().into_owned())
}

/// The `Env` of service `service`'s spec.
fn service_env(service: &str) -> Result<Vec<String>> {
    let env = docker([
        "service",
        "inspect",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
        service,
    ])?;
    Ok(serde_json::from_str::<Option<Vec<String>>>(env.trim())?.unwrap_or_default())
}

#[test]
fn a_hand_change_to_a_stack_voc_deployed_makes_it_out_of_sync_with_the_reason() -> Result<()> {
    require_engine();
    let name = unique_name("live-drift");
    let guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let repo = conf_repo(dir.path(), &name, &compose(), false)?;
    // The intervals come before the `[repo]` table, so they stay top-level.
    let server = VocServer::start(ServerOptions {
        config: format!("{}[repo]\nurl = {:?}\n", fast_config("1s"), repo),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;

    let synced = wait_for_stack(
        &admin,
        &name,
        "voc's deploy synced and running",
        Duration::from_secs(120),
        |s| {
            s["syncStatus"] == "SYNCED"
                && all_running(s)
                && s["lastDeploy"]["status"] == "succeeded"
        },
    )?;
    assert!(
        synced["syncReason"]
            .as_str()
            .unwrap()
            .starts_with("every service runs what git has at "),
        "{synced}"
    );
    assert_eq!(synced["composeFile"], format!("docker-compose-{name}.yml"));
    let desired = synced["desiredCommit"].as_str().unwrap().to_owned();
    assert_eq!(desired.len(), 40);
    assert_eq!(synced["deployedCommit"], desired.as_str());
    assert_eq!(synced["lastDeploy"]["status"], "succeeded", "{synced}");

    let mut changes = admin.subscribe(
        "subscription($s: String) { stackStatusChanged(stack: $s) { name syncStatus syncReason } }",
        json!({"s": name}),
    )?;
    let web = format!("{name}_web");
    docker(["service", "update", "--detach", "--env-add", "X=1", &web])?;
    let reason =
        format!("service {web} was changed by hand: its spec differs from what voc deployed");
    let event = changes.until(Duration::from_secs(30), |event| {
        event["stackStatusChanged"]["syncStatus"] == "OUT_OF_SYNC"
    })?;
    assert_eq!(event["stackStatusChanged"]["syncReason"], reason.as_str());
    let drifted = stack(&admin, &name)?;
    assert_eq!(drifted["syncStatus"], "OUT_OF_SYNC");
    assert_eq!(drifted["syncReason"], reason.as_str());
    assert_eq!(drifted["selfHeal"], false);

    // Without selfHeal voc leaves the change alone, drift checks or not.
    std::thread::sleep(Duration::from_secs(3));
    assert!(service_env(&web)?.contains(&"X=1".to_owned()));
    assert_eq!(stack(&admin, &name)?["syncStatus"], "OUT_OF_SYNC");

    drop(changes);
    drop(server);
    guard.remove()
}

#[test]
fn a_drifted_stack_with_self_heal_is_redeployed_from_git() -> Result<()> {
    require_engine();
    let name = unique_name("live-heal");
    let guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let repo = conf_repo(dir.path(), &name, &compose(), true)?;
    // The intervals come before the `[repo]` table, so they stay top-level.
    let server = VocServer::start(ServerOptions {
        config: format!("{}[repo]\nurl = {:?}\n", fast_config("1s"), repo),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let synced = wait_for_stack(
        &admin,
        &name,
        "voc's deploy synced",
        Duration::from_secs(120),
        |s| s["syncStatus"] == "SYNCED" && all_running(s),
    )?;
    let first_deploy = synced["lastDeploy"]["id"].as_i64().unwrap();

    let web = format!("{name}_web");
    docker(["service", "update", "--detach", "--env-add", "X=1", &web])?;
    wait_for(
        "voc to put git's spec back",
        Duration::from_secs(90),
        || Ok((!service_env(&web)?.contains(&"X=1".to_owned())).then_some(())),
    )?;
    let healed = wait_for_stack(
        &admin,
        &name,
        "the healed stack synced",
        Duration::from_secs(60),
        |s| s["syncStatus"] == "SYNCED",
    )?;
    let heal_job = healed["lastDeploy"]["id"].as_i64().unwrap();
    assert!(
        heal_job > first_deploy,
        "a new deploy job healed it: {healed}"
    );
    assert!(
        server.log_text().contains("self-healing a drifted stack"),
        "{}",
        server.log_text()
    );
    assert_eq!(service_env(&web)?, ["ROLE=web"]);

    drop(server);
    guard.remove()
}

#[test]
fn images_show_git_settings_the_engine_image_and_the_last_build() -> Result<()> {
    require_engine();
    let name = unique_name("live-img");
    let tag = format!("voc-test/{name}:1");
    let dir = tempfile::tempdir()?;
    let settings = json!({
        "tag": tag,
        "buildArgs": {"VERSION": "1.2.3"},
        "labels": {"team": "live"},
    })
    .to_string();
    let repo = bare_repo_with(
        dir.path(),
        &[
            (
                &format!("Dockerfile-{name}"),
                &format!("FROM {BASE_IMAGE}\nARG VERSION\nLABEL version=$VERSION\n"),
            ),
            (&format!("image-{name}.json"), &settings),
        ],
    )?;
    let server = VocServer::start(ServerOptions {
        config: format!("{}[repo]\nurl = {:?}\n", fast_config("30s"), repo),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let query = "query($n: String!) { image(name: $n) { name tag push context dockerfile \
         buildArgs target labels present imageId created size lastBuild { id status error } } }";
    let built = wait_for(
        "the first reconcile to build the image",
        Duration::from_secs(120),
        || {
            let (body, _) = admin.post(query, json!({"n": name}))?;
            let image = body["data"]["image"].clone();
            Ok(
                (image["present"] == true && image["lastBuild"]["status"] == "succeeded")
                    .then_some(image),
            )
        },
    );
    // The image goes whatever happened.
    let removed = docker(["rmi", "-f", &tag]);
    let image = built?;
    removed?;
    assert_eq!(image["name"], name.as_str());
    assert_eq!(image["tag"], tag.as_str());
    assert_eq!(image["push"], json!([]));
    assert_eq!(image["dockerfile"], format!("Dockerfile-{name}"));
    assert_eq!(
        image["buildArgs"],
        json!(["VERSION"]),
        "names only, never values"
    );
    assert_eq!(image["labels"], json!({"team": "live"}));
    assert!(
        image["imageId"].as_str().unwrap().starts_with("sha256:"),
        "{image}"
    );
    assert!(image["size"].as_i64().unwrap() > 0, "{image}");
    assert!(image["created"].as_str().unwrap().ends_with('Z'), "{image}");
    assert!(
        !image.to_string().contains("1.2.3"),
        "a build arg's value leaked: {image}"
    );

    let listed = admin.data("{ images { name } }", json!({}))?;
    assert!(
        listed["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == name.as_str())
    );
    let (code, _) = admin.error_code(query, json!({"n": "no-such-image"}))?;
    assert_eq!(code, "NOT_FOUND");
    Ok(())
}

#[test]
fn a_local_socket_missing_at_start_is_a_target_down_until_it_appears() -> Result<()> {
    require_engine();
    // dockerd started after voc (as under systemd without ordering): its
    // socket does not exist yet when voc starts.
    let name = unique_name("live-late");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("docker.sock");
    let repo = bare_repo_with(
        dir.path(),
        &[
            (&format!("docker-compose-{name}.yml"), &compose()),
            (
                &format!("stack-{name}.json"),
                "{\"resolveImage\": \"never\"}\n",
            ),
        ],
    )?;
    let server = VocServer::start(ServerOptions {
        config: format!(
            "{}[targets.default]\nhost = \"unix://{}\"\n[repo]\nurl = {:?}\npoll_interval = \"1s\"\n",
            fast_config("30s"),
            socket.display(),
            repo.to_string_lossy()
        ),
        ..ServerOptions::default()
    })?;
    let admin = server.admin()?;
    let default_target = |admin: &GraphqlClient| -> Result<Value> {
        let targets = admin.data("{ targets { name reachable lastError } }", json!({}))?;
        targets["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == "default").cloned())
            .ok_or_else(|| anyhow::anyhow!("no target default in {targets}"))
    };
    let down = wait_for(
        "the missing socket's error",
        Duration::from_secs(30),
        || Ok(Some(default_target(&admin)?).filter(|d| d["lastError"].is_string())),
    )?;
    assert_eq!(down["reachable"], false, "{down}");
    let error = down["lastError"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("cannot connect to {}", socket.display())),
        "{error}"
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut ready = agent.get(format!("{}/readyz", server.url)).call()?;
    let status = ready.status().as_u16();
    let body = ready.body_mut().read_to_string()?;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("engine:default"), "{body}");

    // The engine appears: voc uses it with no restart, and deploys.
    std::os::unix::fs::symlink("/var/run/docker.sock", &socket)?;
    wait_for(
        "the target to be reachable",
        Duration::from_secs(60),
        || Ok(Some(default_target(&admin)?).filter(|d| d["reachable"] == true)),
    )?;
    wait_for_stack(
        &admin,
        &name,
        "the stack deployed once the engine is there",
        Duration::from_secs(90),
        all_running,
    )?;
    Ok(())
}
