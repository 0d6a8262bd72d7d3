//! Backing up and restoring voc's data folder, following `docs/backup.md`
//! step by step: stop voc (SIGTERM), archive the whole folder with `tar`,
//! restore the archive into another folder (the original deleted), start
//! voc on it (it follows its conf repo to the new folder).
//!
//! The voc backed up keeps its conf repo in its data folder (no
//! `repo.url`), so the archive holds everything: users, an API token, the
//! job history, the conf repo with a stack made through the API, and the
//! key of that stack's `writeOnly` option. The restored voc must answer
//! the token, sign the user in, list the job and the stack, and decrypt the
//! secret again (a forced redeploy succeeds). A copy restored without
//! `secrets.key` must fail that redeploy with the sentence the
//! troubleshooting page quotes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer};
use voc_tests::{StackGuard, require_engine, running_env, unique_name, wait_for};

use crate::serve_edits::{CREATE, SLEEPER_META, SLEEPER_TEMPLATE};

const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { name role } }";
const CREATE_TOKEN: &str = "mutation($n: String!) { createApiToken(name: $n) { token } }";
const JOB: &str = "query($id: ID!) { job(id: $id) { id status error log { line } } }";
const REDEPLOY: &str = "mutation($n: String!) { redeployStack(name: $n, force: true) { id } }";
const SECRET_PASSWORD: &str = "backed-up secret";

/// Runs `program` with `args`; its stdout, or an error with its stderr.
fn run(program: &str, args: &[&str], cwd: &Path) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Adds the sleeper definition to voc's own conf repo (`conf.git` in its
/// data folder) and drops the starter image, which cannot be built
/// without the internet, as a user pushing to it would.
fn push_sleeper_definition(conf_git: &Path) -> Result<()> {
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let git = |args: &[&str]| {
        let mut all = vec!["-c", "user.name=ops", "-c", "user.email=ops@example.org"];
        all.extend_from_slice(args);
        run("git", &all, dir)
    };
    git(&[
        "clone",
        "-q",
        "-b",
        "main",
        &conf_git.to_string_lossy(),
        ".",
    ])?;
    std::fs::create_dir_all(dir.join("definitions/sleeper"))?;
    std::fs::write(
        dir.join("definitions/sleeper/definition.json"),
        SLEEPER_META,
    )?;
    std::fs::write(
        dir.join("definitions/sleeper/docker-compose.yml.tera"),
        SLEEPER_TEMPLATE,
    )?;
    git(&[
        "rm",
        "-q",
        "Dockerfile-static-site",
        "image-static-site.json",
    ])?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "a definition that runs offline"])?;
    git(&["push", "-q", "origin", "main"])?;
    Ok(())
}

/// Waits until job `id` has ended; the job.
fn finished_job(client: &GraphqlClient, id: &str) -> Result<Value> {
    wait_for(
        &format!("job {id} to end"),
        Duration::from_secs(180),
        || {
            let job = client.data(JOB, json!({"id": id}))?["job"].clone();
            Ok(matches!(
                job["status"].as_str(),
                Some("SUCCEEDED" | "FAILED" | "SKIPPED")
            )
            .then_some(job))
        },
    )
}

/// `voc serve` on the data folder `data` (through `VOC_DATA_DIR`, which
/// the harness's own folder gives way to).
fn serve_on(data: &Path) -> Result<VocServer> {
    VocServer::start(ServerOptions {
        env: vec![
            (
                "VOC_DATA_DIR".to_owned(),
                data.to_string_lossy().into_owned(),
            ),
            ("VOC_LIVE_INTERVAL".to_owned(), "500ms".to_owned()),
        ],
        ..ServerOptions::default()
    })
}

#[test]
fn a_data_folder_backed_up_and_restored_as_documented_keeps_users_tokens_jobs_stacks_and_secrets() {
    require_engine();
    let name = unique_name("bkp");
    let _guard = StackGuard::new(&name);
    let service = format!("{name}_app");

    // A voc with its conf repo in its data folder, and things that live
    // only there: a user, an API token, a stack with a secret, its job.
    let mut original = VocServer::start(ServerOptions {
        env: vec![("VOC_LIVE_INTERVAL".to_owned(), "500ms".to_owned())],
        ..ServerOptions::default()
    })
    .expect("voc serve");
    let log =
        |server: &VocServer, what: String| format!("{what}\nserver log:\n{}", server.log_text());
    let admin = original.admin().expect("admin");
    push_sleeper_definition(&original.data_dir().join("conf.git")).expect("push the definition");
    admin
        .data("mutation { syncNow }", json!({}))
        .expect("syncNow");
    wait_for("the sleeper definition", Duration::from_secs(60), || {
        let body = admin.query("{ stackDefinition(name: \"sleeper\") { name } }", json!({}))?;
        Ok((body["data"]["stackDefinition"]["name"] == "sleeper").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", log(&original, format!("{e:#}"))));
    admin
        .data(
            CREATE_USER,
            json!({"i": {"name": "ops", "email": "ops@example.org", "password": "ops-password-1", "role": "OPERATOR"}}),
        )
        .expect("createUser");
    let token = admin
        .data(CREATE_TOKEN, json!({"n": "backup-check"}))
        .expect("createApiToken")["createApiToken"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let created = admin
        .data(
            CREATE,
            json!({"i": {"name": name, "definition": "sleeper", "options": {"password": SECRET_PASSWORD}}}),
        )
        .expect("createStack")["createStack"]
        .clone();
    let job_id = created["jobId"].as_str().expect("a deploy job").to_owned();
    let job = finished_job(&admin, &job_id)
        .unwrap_or_else(|e| panic!("{}", log(&original, format!("{e:#}"))));
    assert_eq!(
        job["status"],
        "SUCCEEDED",
        "{}",
        log(&original, job.to_string())
    );
    let password = wait_for("the service running", Duration::from_secs(120), || {
        running_env(&service, "PASSWORD")
    })
    .unwrap_or_else(|e| panic!("{}", log(&original, format!("{e:#}"))));
    assert_eq!(password, SECRET_PASSWORD);

    // Back up: stop voc, archive the whole data folder, (start voc again).
    let status = original
        .stop(Duration::from_secs(30))
        .expect("voc stops on SIGTERM");
    assert!(status.success(), "voc serve exits 0 on SIGTERM: {status}");
    // voc stopped; the stack did not.
    assert_eq!(
        running_env(&service, "PASSWORD").unwrap().as_deref(),
        Some(SECRET_PASSWORD)
    );
    let backups = tempfile::tempdir().unwrap();
    let archive = backups.path().join("voc-backup.tar.gz");
    let original_parent = original.data_dir().parent().unwrap().to_owned();
    run(
        "tar",
        &[
            "-C",
            &original_parent.to_string_lossy(),
            "-czf",
            &archive.to_string_lossy(),
            "data",
        ],
        backups.path(),
    )
    .expect("tar -czf");
    // The machine is lost: the original folder goes.
    drop(original);
    assert!(!original_parent.exists());

    // Restore into another folder.
    let restore = |into: &Path| {
        run(
            "tar",
            &[
                "-C",
                &into.to_string_lossy(),
                "-xzf",
                &archive.to_string_lossy(),
            ],
            into,
        )
        .expect("tar -xzf");
        into.join("data")
    };
    let new_home = tempfile::tempdir().unwrap();
    let data = restore(new_home.path());

    // The clone still names the old folder's conf repo: voc follows the
    // moved one (a data folder restored elsewhere needs no hand work).
    let mut restored = serve_on(&data).expect("voc serve on the restored folder");

    // The token and the user.
    let by_token = restored.with_token(&token);
    let me = by_token
        .data("{ me { name role } }", json!({}))
        .expect("the token authenticates");
    assert_eq!(me["me"]["name"], "admin");
    let ops = restored
        .login("ops", "ops-password-1")
        .expect("the user signs in");
    assert_eq!(
        ops.data("{ me { role } }", json!({})).unwrap()["me"]["role"],
        "OPERATOR"
    );

    // The job history, with its log.
    let job = by_token.data(JOB, json!({"id": job_id})).expect("job")["job"].clone();
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert!(
        job["log"].as_array().is_some_and(|log| !log.is_empty()),
        "{job}"
    );
    let history = by_token
        .data(
            "query($s: String!) { jobs(stack: $s) { nodes { id } } }",
            json!({"s": name}),
        )
        .expect("jobs")["jobs"]["nodes"]
        .clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == job_id.as_str()),
        "{history}"
    );

    // The stack, from the restored conf repo, still running as git says.
    wait_for("the stack synced", Duration::from_secs(60), || {
        let stacks = by_token.data("{ stacks { name syncStatus } }", json!({}))?["stacks"].clone();
        Ok(stacks
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["name"] == name.as_str() && s["syncStatus"] == "SYNCED")
            .then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", log(&restored, format!("{e:#}"))));

    // Started again, voc reconciles from the commit it last applied: the
    // same as git's head, so the stack was not deployed again.
    let history = by_token
        .data(
            "query($s: String!) { jobs(stack: $s) { nodes { id } } }",
            json!({"s": name}),
        )
        .expect("jobs")["jobs"]["nodes"]
        .clone();
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    let plan = by_token
        .data("{ plan { scope actions { subject } } }", json!({}))
        .expect("plan")["plan"]
        .clone();
    assert_eq!(plan["actions"], json!([]), "{plan}");

    // The secret still decrypts: a forced redeploy renders it again.
    let redeploy = by_token
        .data(REDEPLOY, json!({"n": name}))
        .expect("redeployStack")["redeployStack"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = finished_job(&by_token, &redeploy)
        .unwrap_or_else(|e| panic!("{}", log(&restored, format!("{e:#}"))));
    assert_eq!(
        job["status"],
        "SUCCEEDED",
        "{}",
        log(&restored, job.to_string())
    );
    assert_eq!(
        running_env(&service, "PASSWORD").unwrap().as_deref(),
        Some(SECRET_PASSWORD)
    );
    restored
        .stop(Duration::from_secs(30))
        .expect("the restored voc stops");
    drop(restored);

    // Without secrets.key the same backup cannot decrypt the secret.
    let keyless_home = tempfile::tempdir().unwrap();
    let data = restore(keyless_home.path());
    std::fs::remove_file(data.join("secrets.key")).unwrap();
    let mut keyless = serve_on(&data).expect("voc serve without the key");
    let client = keyless.with_token(&token);
    wait_for("the conf repo read", Duration::from_secs(60), || {
        let stacks = client.data("{ stacks { name } }", json!({}))?["stacks"].clone();
        Ok(stacks
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["name"] == name.as_str())
            .then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", log(&keyless, format!("{e:#}"))));
    let redeploy = client
        .data(REDEPLOY, json!({"n": name}))
        .expect("redeployStack")["redeployStack"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = finished_job(&client, &redeploy)
        .unwrap_or_else(|e| panic!("{}", log(&keyless, format!("{e:#}"))));
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "the secret VOC_SECRET_PASSWORD of stack {name} cannot be decrypted with voc's key"
        )),
        "{error}"
    );
    keyless
        .stop(Duration::from_secs(30))
        .expect("the keyless voc stops");
    // The failed redeploy wrote nothing: the service still has its secret.
    assert_eq!(
        running_env(&service, "PASSWORD").unwrap().as_deref(),
        Some(SECRET_PASSWORD)
    );
}
