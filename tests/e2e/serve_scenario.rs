//! The scenario of issue 4, section 8, end to end with a real GraphQL
//! client over HTTP and WebSocket: sign in, create a stack from a
//! definition, find its commit in the remote, follow the deploy job's
//! events until the stack runs in Docker, update an option (the service
//! changes), roll back (the service is as before), delete (the stack is
//! gone).

use std::time::Duration;

use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{StackGuard, require_engine, running_env, unique_name, wait_for};

use crate::serve_edits::{CREATE, git_in, sleeper_repo_files};

const JOB_EVENTS: &str = "subscription($id: ID) { jobEvents(id: $id) { jobId status error line } }";
const UPDATE: &str = "mutation($n: String!, $i: UpdateStackInput!) { updateStack(name: $n, input: $i) { commit jobId warnings } }";
const ROLLBACK: &str = "mutation($n: String!, $c: String!) { rollbackStack(name: $n, commit: $c, message: \"back to the first\") { commit jobId warnings } }";
const DELETE: &str = "mutation($n: String!) { deleteStack(name: $n) { commit jobId warnings } }";

/// A job's final status, followed over the WebSocket from its id; the
/// log lines seen on the way come with it for failure messages.
fn follow_job(client: &GraphqlClient, change: &Value) -> (String, Vec<String>) {
    let id = change["jobId"]
        .as_str()
        .unwrap_or_else(|| panic!("the change has a job: {change}"));
    let mut events = client
        .subscribe(JOB_EVENTS, json!({"id": id}))
        .expect("jobEvents subscription");
    let mut lines = Vec::new();
    let last = events
        .until(Duration::from_secs(180), |event| {
            let event = &event["jobEvents"];
            if let Some(line) = event["line"].as_str() {
                lines.push(line.to_owned());
            }
            matches!(
                event["status"].as_str(),
                Some("SUCCEEDED" | "FAILED" | "SKIPPED")
            )
        })
        .expect("the job finishes");
    let status = last["jobEvents"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, lines)
}

#[test]
fn sign_in_create_follow_update_roll_back_and_delete() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let bare = bare_repo_with(dir.path(), &sleeper_repo_files()).unwrap();
    let server = VocServer::start(ServerOptions {
        repo_url: Some(bare.to_string_lossy().into_owned()),
        ..ServerOptions::default()
    })
    .expect("voc serve");
    let name = unique_name("scn");
    let _guard = StackGuard::new(&name);
    let service = format!("{name}_app");
    let log = |what: &str| format!("{what}\nserver log:\n{}", server.log_text());

    // Sign in (the `login` mutation; the session cookie from then on).
    let client = server.admin().expect("login");

    // Create a stack from a definition.
    let created = client
        .data(
            CREATE,
            json!({"i": {"name": name, "definition": "sleeper", "options": {"password": "pw", "greeting": "first"}, "message": "the scenario"}}),
        )
        .expect("createStack")["createStack"]
        .clone();
    let commit = created["commit"].as_str().unwrap().to_owned();

    // The commit is in the remote, on the branch.
    assert_eq!(
        git_in(&bare, &["cat-file", "-t", &commit]).unwrap().trim(),
        "commit"
    );
    git_in(&bare, &["merge-base", "--is-ancestor", &commit, "main"]).expect("on main");
    let subject = git_in(&bare, &["log", "-1", "--format=%s", &commit]).unwrap();
    assert_eq!(
        subject.trim(),
        format!("voc: create stack {name} from definition sleeper@1.0.0")
    );

    // Follow the deploy job until it ends, then the service runs.
    let (status, lines) = follow_job(&client, &created);
    assert_eq!(status, "SUCCEEDED", "{}", log(&lines.join("\n")));
    let greeting = wait_for("the service running", Duration::from_secs(120), || {
        running_env(&service, "GREETING")
    })
    .unwrap_or_else(|e| panic!("{}", log(&format!("{e:#}"))));
    assert_eq!(greeting, "first");

    // Update an option: the service changes.
    let updated = client
        .data(
            UPDATE,
            json!({"n": name, "i": {"options": {"greeting": "second", "password": {"$secret": "VOC_SECRET_PASSWORD"}}}}),
        )
        .expect("updateStack")["updateStack"]
        .clone();
    let (status, lines) = follow_job(&client, &updated);
    assert_eq!(status, "SUCCEEDED", "{}", log(&lines.join("\n")));
    wait_for("the updated service", Duration::from_secs(120), || {
        Ok(running_env(&service, "GREETING")?.filter(|g| g == "second"))
    })
    .unwrap_or_else(|e| panic!("{}", log(&format!("{e:#}"))));

    // Roll back to the creation: the service is as it was.
    let rolled = client
        .data(ROLLBACK, json!({"n": name, "c": commit}))
        .expect("rollbackStack")["rollbackStack"]
        .clone();
    let (status, lines) = follow_job(&client, &rolled);
    assert_eq!(status, "SUCCEEDED", "{}", log(&lines.join("\n")));
    wait_for("the rolled back service", Duration::from_secs(120), || {
        Ok(running_env(&service, "GREETING")?.filter(|g| g == "first"))
    })
    .unwrap_or_else(|e| panic!("{}", log(&format!("{e:#}"))));

    // Delete: the stack is gone from git and from the swarm.
    let deleted = client
        .data(DELETE, json!({"n": name}))
        .expect("deleteStack")["deleteStack"]
        .clone();
    let (status, lines) = follow_job(&client, &deleted);
    assert_eq!(status, "SUCCEEDED", "{}", log(&lines.join("\n")));
    let tree = git_in(&bare, &["ls-tree", "--name-only", "main"]).unwrap();
    assert!(!tree.contains(&name), "{tree}");
    wait_for("the stack gone", Duration::from_secs(60), || {
        let left = voc_tests::stack_leftovers(&name)?;
        Ok(left.is_empty().then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", log(&format!("{e:#}"))));
}
