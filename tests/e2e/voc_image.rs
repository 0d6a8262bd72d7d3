//! voc on the swarm it manages: the `voc health` command the image checks
//! itself with, the admin password and the secrets key read from files
//! (swarm secrets), and the whole path of the README's "Run voc as a swarm
//! stack": the `Dockerfile` built, the secrets made, `docker-compose.yml`
//! deployed with the docker CLI, `/healthz` and a signed-in GraphQL query
//! answered through the published port.
//!
//! No image can be pulled here, so `scripts/base-images.sh` first makes the
//! base images the Dockerfile names (from Debian's archive with
//! debootstrap, and this machine's Node.js and Rust), and the build is given
//! them with `--build-arg`. The build takes most of the test's time. From
//! nothing (a fresh machine: no base image, no build cache), measured on
//! the 2-core machine with other work beside it: base images 51 s
//! (debootstrap 28 s), `docker build` 630 s, deploy to healthy 11 s; the
//! image is 125 MB. Once the base images and the build's cached layers
//! exist, a run after a change of voc's code only builds voc itself.
//! `.config/nextest.toml` lets the test run alone, for up to 40 minutes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{Auth, GraphqlClient, ServerOptions, VocServer};
use voc_tests::{StackGuard, docker, require_engine, run_voc, unique_name, wait_for};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { name role } } }";

/// The repository's root: the build context, and where the scripts are.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is in the workspace")
        .to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Signs in as `user` on the voc at `url` (session cookie).
fn login(url: &str, user: &str, password: &str) -> Result<GraphqlClient> {
    let anonymous = GraphqlClient {
        url: url.to_owned(),
        auth: Auth::None,
    };
    let (body, cookies) = anonymous.post(LOGIN, json!({"u": user, "p": password}))?;
    if body.get("errors").is_some() {
        bail!("login as {user} failed: {body}");
    }
    let session = cookies
        .iter()
        .find_map(|cookie| cookie.strip_prefix("voc_session="))
        .and_then(|cookie| cookie.split(';').next())
        .with_context(|| format!("login set no voc_session cookie: {cookies:?}"))?;
    Ok(GraphqlClient {
        url: url.to_owned(),
        auth: Auth::Cookie(session.to_owned()),
    })
}

#[test]
fn health_says_whether_the_server_at_the_listen_address_answers() {
    let server = VocServer::start(ServerOptions::default()).expect("voc serve starts");
    let dir = tempfile::tempdir().expect("temp folder");
    let config = dir.path().join("voc.toml");
    std::fs::write(&config, format!("listen = \"{}\"\n", server.addr)).expect("config");

    let healthy = run_voc(
        dir.path(),
        [
            OsStr::new("health"),
            "--config".as_ref(),
            config.as_os_str(),
        ],
    )
    .expect("voc health runs");
    healthy
        .assert_exit(0)
        .assert_stdout_contains(&format!("voc at http://{} is healthy", server.addr));

    // Listening on every address is checked on loopback.
    let port = server.addr.rsplit(':').next().expect("a port").to_owned();
    std::fs::write(&config, format!("listen = \"0.0.0.0:{port}\"\n")).expect("config");
    run_voc(
        dir.path(),
        [
            OsStr::new("health"),
            "--config".as_ref(),
            config.as_os_str(),
        ],
    )
    .expect("voc health runs")
    .assert_exit(0)
    .assert_stdout_contains(&format!("voc at http://127.0.0.1:{port} is healthy"));

    drop(server);
    let stopped = run_voc(
        dir.path(),
        [
            OsStr::new("health"),
            "--config".as_ref(),
            config.as_os_str(),
            "--timeout".as_ref(),
            "2s".as_ref(),
        ],
    )
    .expect("voc health runs");
    stopped
        .assert_exit(1)
        .assert_stderr_contains(&format!("voc at http://127.0.0.1:{port} is not healthy"))
        .assert_stderr_contains("is voc serve running");
    assert!(stopped.stdout.is_empty(), "{stopped}");
}

#[test]
fn serve_takes_the_admin_password_and_the_secrets_key_from_files() {
    let dir = tempfile::tempdir().expect("temp folder");
    let keygen = run_voc(dir.path(), ["keygen"]).expect("voc keygen runs");
    keygen
        .assert_exit(0)
        .assert_stdout_contains("AGE-SECRET-KEY-1")
        .assert_stderr_contains("its public key is age1");
    let key_file = dir.path().join("voc_secrets_key");
    std::fs::write(&key_file, &keygen.stdout).expect("key file");
    let password_file = dir.path().join("voc_admin_password");
    std::fs::write(&password_file, "password-from-a-file\n").expect("password file");

    let server = VocServer::start(ServerOptions {
        env: vec![
            // The harness's own password, unset (an empty variable is unset).
            ("VOC_ADMIN_PASSWORD".into(), String::new()),
            (
                "VOC_ADMIN_PASSWORD_FILE".into(),
                password_file.display().to_string(),
            ),
            (
                "VOC_SECRETS_KEY_FILE".into(),
                key_file.display().to_string(),
            ),
        ],
        ..ServerOptions::default()
    })
    .expect("voc serve starts");
    let admin = login(&server.url, "admin", "password-from-a-file").expect("signed in");
    let me = admin.data("{ me { name role } }", json!({})).expect("me");
    assert_eq!(me["me"], json!({"name": "admin", "role": "ADMIN"}));
    assert!(
        login(&server.url, "admin", "password-from-a-file\n").is_err(),
        "the file's line break is not part of the password"
    );
    assert!(server.data_dir().join("voc.db").is_file());
    assert!(
        !server.data_dir().join("secrets.key").exists(),
        "with a key file, voc makes no key of its own"
    );
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("key file"),
        keygen.stdout,
        "voc never writes the key file"
    );
}

#[test]
fn serve_refuses_a_missing_key_file_before_writing_anything() {
    let dir = tempfile::tempdir().expect("temp folder");
    let data = dir.path().join("data");
    let missing = dir.path().join("no-such-key");
    let config = dir.path().join("voc.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\nsecrets_key_file = {:?}\n",
            data.display().to_string(),
            missing.display().to_string()
        ),
    )
    .expect("config");
    let refused = run_voc(
        dir.path(),
        [OsStr::new("serve"), "--config".as_ref(), config.as_os_str()],
    )
    .expect("voc serve runs");
    refused
        .assert_exit(1)
        .assert_stderr_contains(&format!(
            "voc's secrets key {} does not exist",
            missing.display()
        ))
        .assert_stderr_contains("voc keygen");
    assert!(!data.join("voc.db").exists(), "no store was made");
    assert!(!data.join("secrets.key").exists(), "no key was made");
    assert!(!missing.exists());
}

/// The base images, the image, the secrets and the stack of one run of
/// [`voc_runs_as_a_swarm_stack_from_the_readme`].
struct Names {
    image: String,
    stack: String,
    password_secret: String,
    key_secret: String,
}

/// Removes what the stack test made outside the stack, after the stack
/// (declare it before the [`StackGuard`]): the secrets, the data volume
/// and the image. Each is retried for a while: they are freed as the
/// stack's containers go.
struct Leftovers<'a>(&'a Names);

impl Drop for Leftovers<'_> {
    fn drop(&mut self) {
        let names = self.0;
        let volume = format!("{}_data", names.stack);
        let removals: [(&str, Vec<&str>); 4] = [
            ("secret", vec!["secret", "rm", &names.password_secret]),
            ("secret", vec!["secret", "rm", &names.key_secret]),
            ("volume", vec!["volume", "rm", &volume]),
            ("image", vec!["image", "rm", &names.image]),
        ];
        for (kind, args) in removals {
            let name = args[2];
            let exists = |name: &str| docker([kind, "inspect", name]).is_ok();
            let removed = wait_for(
                &format!("{kind} {name} to be removed"),
                Duration::from_secs(60),
                || {
                    if !exists(name) {
                        return Ok(Some(()));
                    }
                    let _ = docker(&args);
                    Ok((!exists(name)).then_some(()))
                },
            );
            if let Err(error) = removed {
                eprintln!("voc_image: {error:#}");
            }
        }
    }
}

/// Runs `command` with its output in `log`; on failure, the error quotes
/// the end of the log.
fn run_logged(mut command: Command, log: &Path, what: &str) -> Result<()> {
    let file = std::fs::File::create(log)?;
    let status = command
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        bail!("{what} failed ({status}); the end of its output:\n{tail}");
    }
    Ok(())
}

/// The end of the service's logs and its tasks, for a failure message.
fn service_diagnostics(service: &str) -> String {
    let tasks =
        docker(["service", "ps", "--no-trunc", service]).unwrap_or_else(|e| format!("{e:#}"));
    let logs = Command::new("docker")
        .args(["service", "logs", "--raw", "--tail", "40", service])
        .output()
        .map(|out| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .unwrap_or_else(|e| e.to_string());
    format!("tasks:\n{tasks}\nlogs:\n{logs}")
}

#[test]
fn voc_runs_as_a_swarm_stack_from_the_readme() {
    require_engine();
    let root = repo_root();
    let work = tempfile::tempdir().expect("temp folder");

    // The base images (kept between runs: a second run takes a second).
    let started = Instant::now();
    let base = Command::new(root.join("scripts/base-images.sh"))
        .stdin(Stdio::null())
        .output()
        .expect("scripts/base-images.sh runs");
    let said = String::from_utf8_lossy(&base.stderr);
    eprint!("{said}");
    if base.status.code() == Some(3) {
        eprintln!(
            "SKIPPED voc_runs_as_a_swarm_stack_from_the_readme: no base image can be made \
             (Debian's archive cannot be reached from this machine), so voc's image cannot be built"
        );
        return;
    }
    assert!(
        base.status.success(),
        "scripts/base-images.sh failed: {said}"
    );
    let base_images_took = started.elapsed();

    let id = unique_name("vocimg");
    let names = Names {
        image: format!("voc-test/voc:{id}"),
        stack: id.clone(),
        password_secret: format!("{id}_admin_password"),
        key_secret: format!("{id}_secrets_key"),
    };
    let _leftovers = Leftovers(&names);

    // docker build, as the README says, with the stand-in base images.
    let started = Instant::now();
    let mut build = Command::new("docker");
    build
        .arg("build")
        .args(["--build-arg", "NODE_IMAGE=voc-test/node:20-bookworm-slim"])
        .args(["--build-arg", "RUST_IMAGE=voc-test/rust:1.95-slim-bookworm"])
        .args(["--build-arg", "RUNTIME_IMAGE=voc-test/debian:bookworm-slim"])
        .args(["-t", &names.image])
        .arg(&root);
    run_logged(build, &work.path().join("build.log"), "docker build").expect("the image builds");
    let build_took = started.elapsed();
    let size: u64 = docker(["image", "inspect", "--format", "{{.Size}}", &names.image])
        .expect("image inspect")
        .trim()
        .parse()
        .expect("a size");

    // The secrets, as the README makes them: the key by the image itself.
    let admin_password = format!("stack-admin-{id}");
    docker_with_stdin(
        &["secret", "create", &names.password_secret, "-"],
        &admin_password,
    )
    .expect("the password secret");
    let key = Command::new("docker")
        .args(["run", "--rm", &names.image, "keygen"])
        .output()
        .expect("docker run keygen");
    assert!(
        key.status.success(),
        "keygen: {}",
        String::from_utf8_lossy(&key.stderr)
    );
    let key = String::from_utf8(key.stdout).expect("the key is text");
    assert!(key.contains("AGE-SECRET-KEY-1"), "{key}");
    docker_with_stdin(&["secret", "create", &names.key_secret, "-"], &key).expect("the key secret");

    // docker stack deploy as the README says, with the Compose file's knobs
    // set: this image, a free port, this run's secrets.
    let port = free_port();
    let stack = StackGuard::new(&names.stack);
    let started = Instant::now();
    let deploy = Command::new("docker")
        .args(["stack", "deploy", "-c"])
        .arg(root.join("docker-compose.yml"))
        .arg(&stack.name)
        .env("VOC_IMAGE", &names.image)
        .env("VOC_PORT", port.to_string())
        .env("VOC_ADMIN_PASSWORD_SECRET", &names.password_secret)
        .env("VOC_SECRETS_KEY_SECRET", &names.key_secret)
        .output()
        .expect("docker stack deploy runs");
    assert!(
        deploy.status.success(),
        "docker stack deploy failed: {}",
        String::from_utf8_lossy(&deploy.stderr)
    );

    // Running, and healthy by its own health check (`voc health`).
    let service = format!("{}_voc", stack.name);
    let filter = format!("label=com.docker.swarm.service.name={service}");
    let container = wait_for("voc's task to be healthy", Duration::from_secs(240), || {
        let listed = docker(["ps", "--filter", &filter, "--format", "{{.ID}} {{.Status}}"])?;
        Ok(listed
            .lines()
            .find(|line| line.contains("(healthy)"))
            .and_then(|line| line.split_whitespace().next())
            .map(str::to_owned))
    })
    .unwrap_or_else(|error| panic!("{error:#}\n{}", service_diagnostics(&service)));
    let healthy_took = started.elapsed();

    // Through the published port: the health route, then signed in.
    let url = format!("http://127.0.0.1:{port}");
    let mut answer = ureq::get(format!("{url}/healthz"))
        .call()
        .expect("GET /healthz");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body_mut().read_to_string().expect("body"), "ok\n");

    let anonymous = GraphqlClient {
        url: url.clone(),
        auth: Auth::None,
    };
    let refused = anonymous
        .query("{ targets { name } }", json!({}))
        .expect("POST /graphql");
    assert!(
        refused.get("errors").is_some(),
        "targets needs a user: {refused}"
    );
    assert!(
        login(&url, "admin", "not-the-password").is_err(),
        "only the secret's password signs in"
    );
    let admin =
        login(&url, "admin", &admin_password).expect("signed in with the secret's password");
    // voc reaches the engine through the bound socket, as a manager.
    let targets = wait_for("voc to read its engine", Duration::from_secs(60), || {
        let data = admin.data(
            "{ targets { name reachable swarmManager lastError } }",
            json!({}),
        )?;
        Ok((data["targets"][0]["reachable"] == json!(true)).then_some(data))
    })
    .unwrap_or_else(|error| panic!("{error:#}\n{}", service_diagnostics(&service)));
    assert_eq!(
        targets["targets"],
        json!([{"name": "default", "reachable": true, "swarmManager": true, "lastError": null}])
    );
    // Its conf repo (seeded from templates/) is in the data volume.
    let definitions = admin
        .data("{ stackDefinitions { name } }", json!({}))
        .expect("definitions");
    let mut definitions: Vec<&str> = definitions["stackDefinitions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|definition| definition["name"].as_str())
        .collect();
    definitions.sort_unstable();
    assert_eq!(definitions, ["postgres", "redis", "static-site", "webapp"]);

    // The key came from the secret: voc made none in its data folder.
    docker([
        "exec",
        &container,
        "sh",
        "-c",
        "test -f /var/lib/voc/voc.db && test ! -e /var/lib/voc/secrets.key",
    ])
    .expect("the data volume has the store and no key of voc's own");

    eprintln!(
        "voc_image: base images {base_images_took:.0?}, image build {build_took:.0?}, \
         deploy to healthy {healthy_took:.0?}, image size {} MB",
        size / 1_000_000
    );
    stack.remove().expect("the stack is removed");
}

/// `docker ARGS...` with `input` on its standard input.
fn docker_with_stdin(args: &[&str], input: &str) -> Result<String> {
    voc_tests::DockerCli::new().docker_with_stdin(args, input)
}

#[test]
fn compose_file_loads_with_voc_and_the_docker_cli() {
    let root = repo_root();
    let compose = root.join("docker-compose.yml");
    // voc's own loader: valid, and the service as the README describes it.
    let dir = tempfile::tempdir().expect("temp folder");
    let specs = run_voc(
        dir.path(),
        [
            OsStr::new("stack"),
            "config".as_ref(),
            "-c".as_ref(),
            compose.as_os_str(),
            "--specs".as_ref(),
            "voc".as_ref(),
        ],
    )
    .expect("voc stack config runs");
    specs.assert_exit(0);
    let specs: Value = serde_json::from_str(&specs.stdout).expect("JSON specs");
    let service = &specs["services"][0]["spec"];
    assert_eq!(service["Name"], "voc_voc");
    let container = &service["TaskTemplate"]["ContainerSpec"];
    assert_eq!(container["Image"], "voc:latest");
    assert_eq!(
        container["HealthCheck"]["Test"],
        json!(["CMD", "voc", "health"])
    );
    let env: Vec<&str> = container["Env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        env.contains(&"VOC_ADMIN_PASSWORD_FILE=/run/secrets/voc_admin_password"),
        "{env:?}"
    );
    assert!(
        env.contains(&"VOC_SECRETS_KEY_FILE=/run/secrets/voc_secrets_key"),
        "{env:?}"
    );
    assert_eq!(
        service["TaskTemplate"]["Placement"]["Constraints"],
        json!(["node.role == manager"])
    );
    assert_eq!(service["EndpointSpec"]["Ports"][0]["PublishMode"], "host");
    assert_eq!(service["EndpointSpec"]["Ports"][0]["PublishedPort"], 8080);

    // The docker CLI's loader, with the knobs the README names.
    let loaded = Command::new("docker")
        .args(["stack", "config", "-c"])
        .arg(&compose)
        .env("VOC_IMAGE", "registry.example.org/voc:1.2")
        .env("VOC_PORT", "9090")
        .env("VOC_ADMIN_PASSWORD_SECRET", "voc_admin_password_2")
        .output()
        .expect("docker stack config runs");
    let text = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    for expected in [
        "image: registry.example.org/voc:1.2",
        "published: 9090",
        "name: voc_admin_password_2",
        "name: voc_secrets_key",
        "mode: host",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
}
