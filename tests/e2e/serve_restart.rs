//! `voc serve` stopped and started again on the same data folder: the job
//! it was running when it stopped does not stay `RUNNING` for ever beside
//! the reconcile that retries it; it ends as failed, saying why.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{StackGuard, require_engine, unique_name, wait_for};

use crate::serve_follow::{Author, compose_with_monitor as compose};

const JOBS: &str =
    "query($s: String) { jobs(stack: $s, first: 100) { nodes { id commit status error } } }";

/// A server following `bare` on the data folder `data`.
fn serve_on(bare: &Path, data: &Path) -> Result<VocServer> {
    VocServer::start(ServerOptions {
        repo_url: Some(bare.to_string_lossy().into_owned()),
        env: vec![
            (
                "VOC_DATA_DIR".to_owned(),
                data.to_string_lossy().into_owned(),
            ),
            ("VOC_POLL_INTERVAL".to_owned(), "1s".to_owned()),
        ],
        ..ServerOptions::default()
    })
}

fn jobs_of(client: &GraphqlClient, stack: &str) -> Result<Vec<Value>> {
    Ok(client.data(JOBS, json!({"s": stack}))?["jobs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

#[test]
fn a_job_running_when_voc_stops_ends_as_failed_saying_why_at_the_next_start() -> Result<()> {
    require_engine();
    let name = unique_name("restart");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write(&format!("docker-compose-{name}.yml"), &compose("one", "1s"))?;
    author.write(
        &format!("stack-{name}.json"),
        "{\"resolveImage\": \"never\"}\n",
    )?;
    author.push(&format!("Add stack {name}"))?;
    let mut first = serve_on(&bare, &data)?;
    let admin = first.admin()?;
    wait_for("the first deploy to end", Duration::from_secs(90), || {
        Ok(jobs_of(&admin, &name)?
            .first()
            .filter(|job| job["status"] == "SUCCEEDED")
            .map(|_| ()))
    })
    .with_context(|| format!("voc's log:\n{}", first.log_text()))?;

    // Stopped while the update waits for the service to be stable.
    author.write(
        &format!("docker-compose-{name}.yml"),
        &compose("two", "60s"),
    )?;
    let commit = author.push("A slow update")?;
    let running = wait_for("the update to run", Duration::from_secs(60), || {
        Ok(jobs_of(&admin, &name)?
            .into_iter()
            .find(|job| job["status"] == "RUNNING" && job["commit"] == commit.as_str()))
    })
    .with_context(|| format!("voc's log:\n{}", first.log_text()))?;
    first.stop(Duration::from_secs(30))?;
    let first_log = first.log_text();

    let second = serve_on(&bare, &data)?;
    let admin = second.admin()?;
    // The reconcile after the start (from the commit the store recorded
    // applied) deploys the update again, in a job of its own.
    let jobs = wait_for("the retried update", Duration::from_secs(60), || {
        let jobs = jobs_of(&admin, &name)?;
        Ok((jobs.len() == 3).then_some(jobs))
    })
    .with_context(|| {
        format!(
            "the first voc's log:\n{first_log}\nthe second's:\n{}",
            second.log_text()
        )
    })?;
    // Newest first: the retry, the interrupted update, the first deploy.
    assert_eq!(jobs[0]["commit"], commit.as_str(), "{jobs:?}");
    assert!(
        matches!(
            jobs[0]["status"].as_str(),
            Some("QUEUED" | "RUNNING" | "SUCCEEDED")
        ),
        "{jobs:?}"
    );
    assert_eq!(jobs[2]["status"], "SUCCEEDED", "{jobs:?}");
    let old = &jobs[1];
    assert_eq!(old["id"], running["id"]);
    assert_eq!(old["status"], "FAILED", "{old}");
    let error = old["error"].as_str().unwrap_or("");
    assert!(
        error.starts_with(
            "voc stopped while this job was running (found unfinished when voc started again at "
        ) && error.ends_with(
            "the reconcile after the start compares the target with the conf repo again and does what is left"
        ),
        "{old}"
    );
    assert!(
        second
            .log_text()
            .contains("ended 1 running and 0 queued jobs as failed"),
        "{}",
        second.log_text()
    );
    Ok(())
}

#[test]
fn a_second_voc_on_the_same_data_folder_is_refused_naming_the_first() -> Result<()> {
    require_engine();
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let mut first = serve_on(&bare, &data)?;
    let refused = match serve_on(&bare, &data) {
        Ok(_) => anyhow::bail!("a second voc started on {}", data.display()),
        Err(error) => format!("{error:#}"),
    };
    let expected = format!(
        "another voc serve (pid {}) is using the data folder {}",
        first.pid(),
        data.display()
    );
    assert!(refused.contains(&expected), "{refused}");
    // The lock goes with the process.
    first.stop(Duration::from_secs(30))?;
    drop(first);
    let second = serve_on(&bare, &data)?;
    second.admin()?;
    Ok(())
}
