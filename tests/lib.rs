//! Harness for voc's end-to-end tests against a real Docker engine.
//!
//! The engine, the single-node swarm, the base image [`BASE_IMAGE`] and the two
//! local registries ([`OPEN_REGISTRY`], [`AUTH_REGISTRY`]) are set up by
//! `scripts/engine-up.sh`; `scripts/test.sh` runs it before the tests. Tests
//! call [`require_engine`] first, so a missing engine fails loudly instead of
//! skipping.
//!
//! Tests run in parallel (nextest: one process per test) against one shared
//! engine, which other people may use at the same time. So every test names
//! its stacks with [`unique_name`], removes them with a [`StackGuard`] (also
//! when it panics), and never touches what it did not create.
//!
//! Facts about this engine worth knowing when writing a test:
//! - No image can be pulled. Use [`BASE_IMAGE`] (busybox: `sleep 3600`,
//!   `httpd -f -p 8080`, `wget`, ...), or build/tag/push your own to the local
//!   registries. Deploy with `--resolve-image never` when using the CLI.
//! - The routing mesh does not answer on published ingress ports, and the
//!   kernel has no IPVS, so a service's virtual IP does not route either.
//!   Publish with `mode: host` to reach a service from the test, and reach
//!   another service over an overlay network as `tasks.<service>` (or give it
//!   `endpoint_mode: dnsrr`).
//! - busybox `sleep` as PID 1 ignores SIGTERM, so a task stops only after its
//!   stop grace period (10 s by default). [`StackGuard`] force-removes the
//!   stack's containers so cleanup stays quick.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};

mod conf_repo;
mod git_daemon;
pub mod second_engine;
pub mod server;
pub mod tls_files;
pub mod webhook_receiver;

pub use conf_repo::{CiCheckout, ConfRepo, git, init_bare};
pub use git_daemon::GitDaemon;

/// The base image for test services: busybox-static imported as an image by
/// `scripts/engine-up.sh` (`CMD ["sh"]`, applets on `PATH`). It exists only
/// locally: it is never pulled.
pub const BASE_IMAGE: &str = "voc-test/busybox:latest";

/// Address of the local registry without authentication (plain HTTP).
pub const OPEN_REGISTRY: &str = "127.0.0.1:5000";

/// Address of the local registry with htpasswd authentication (plain HTTP);
/// log in with [`AUTH_REGISTRY_USER`] and [`AUTH_REGISTRY_PASSWORD`].
pub const AUTH_REGISTRY: &str = "127.0.0.1:5001";

/// User name accepted by [`AUTH_REGISTRY`].
pub const AUTH_REGISTRY_USER: &str = "voc";

/// Password of [`AUTH_REGISTRY_USER`] on [`AUTH_REGISTRY`].
pub const AUTH_REGISTRY_PASSWORD: &str = "voc-secret";

/// The label Docker puts on every object of a stack, with the stack's name as
/// value (services, networks, secrets, configs, task containers).
pub const STACK_NAMESPACE_LABEL: &str = "com.docker.stack.namespace";

/// Longest prefix kept by [`unique_name`].
const MAX_PREFIX: usize = 8;

/// Returns a name that no other test, in this process or another, gets: the
/// `prefix` (lowercased, reduced to `[a-z0-9_-]`, cut to 8 characters) then
/// `-` and a suffix made of the process id, a per-process counter and a few
/// time-derived characters, all base 36. At most 20 characters, so it is a
/// valid stack name and leaves room for service names.
///
/// ```
/// let name = voc_tests::unique_name("web");
/// assert!(name.starts_with("web-") && name.len() <= 20);
/// ```
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut clean: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .take(MAX_PREFIX)
        .collect();
    if clean.is_empty() {
        clean.push('t');
    }
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // pid (<= 2^22, 5 chars), counter (1-2 chars), 2 chars of time: unique
    // among live processes, and unlikely to meet a leftover of an older run.
    let name = format!(
        "{clean}-{}{}{}",
        base36(u64::from(std::process::id())),
        base36(u64::from(count)),
        pad2(base36(u64::from(nanos / 1000) % (36 * 36)))
    );
    debug_assert!(name.len() <= 20, "{name}");
    name
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

fn pad2(s: String) -> String {
    format!("{s:0>2}")
}

/// Runs the docker CLI (the first `docker` on `PATH`) with separate
/// arguments, never through a shell.
///
/// A `DockerCli` may carry its own client configuration folder
/// ([`DockerCli::with_config_dir`]) so that a test can `docker login` without
/// touching the shared `/root/.docker/config.json`.
#[derive(Debug, Clone, Default)]
pub struct DockerCli {
    config_dir: Option<PathBuf>,
}

impl DockerCli {
    /// A CLI with the default client configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A CLI that uses `dir` as its client configuration folder
    /// (`DOCKER_CONFIG`), e.g. a `tempfile::TempDir` for a private login.
    pub fn with_config_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            config_dir: Some(dir.into()),
        }
    }

    /// Runs `docker ARGS...` and returns its standard output; fails with the
    /// command line, exit status and standard error when it exits non-zero.
    pub fn docker<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run(args, None)
    }

    /// Like [`DockerCli::docker`], writing `input` to the command's standard
    /// input (e.g. `login --password-stdin`).
    pub fn docker_with_stdin<I, S>(&self, args: I, input: &str) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run(args, Some(input))
    }

    /// Runs `docker ARGS...` and parses its standard output as JSON, as printed
    /// by `docker inspect`, `docker service inspect` and the like (an array).
    pub fn docker_json<I, S>(&self, args: I) -> Result<serde_json::Value>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.run(&args, None)?;
        serde_json::from_str(&out)
            .with_context(|| format!("docker {}: output is not JSON: {out}", display_args(&args)))
    }

    fn run<I, S>(&self, args: I, input: Option<&str>) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = display_args(&args);
        let mut cmd = Command::new("docker");
        cmd.args(&args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.config_dir {
            cmd.env("DOCKER_CONFIG", dir);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot run docker {shown}"))?;
        if let Some(input) = input {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin
                .write_all(input.as_bytes())
                .with_context(|| format!("docker {shown}: writing stdin"))?;
        }
        let out = child
            .wait_with_output()
            .with_context(|| format!("docker {shown}"))?;
        if !out.status.success() {
            bail!(
                "docker {shown} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout)
            .with_context(|| format!("docker {shown}: output is not UTF-8"))
    }
}

fn display_args(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shorthand for `DockerCli::new().docker(args)`.
pub fn docker<I, S>(args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    DockerCli::new().docker(args)
}

/// Shorthand for `DockerCli::new().docker_json(args)`.
pub fn docker_json<I, S>(args: I) -> Result<serde_json::Value>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    DockerCli::new().docker_json(args)
}

/// Panics with a clear message unless the Docker engine answers and is an
/// active swarm manager. Call it first in every end-to-end test: tests must
/// never skip silently.
pub fn require_engine() {
    let state = docker([
        "info",
        "--format",
        "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
    ]);
    match state {
        Ok(s) if s.trim() == "active true" => {}
        Ok(s) => panic!(
            "the Docker engine answers but is not an active swarm manager (swarm state: {}); \
             run scripts/engine-up.sh first",
            s.trim()
        ),
        Err(e) => panic!("no Docker engine: run scripts/engine-up.sh first ({e:#})"),
    }
}

/// Polls `probe` every 200 ms until it returns `Some`, or fails after
/// `timeout` naming `what` and the last error the probe returned.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match probe() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() >= timeout {
            return Err(match last_err {
                Some(e) => e.context(format!("timed out after {timeout:?} waiting for {what}")),
                None => anyhow!("timed out after {timeout:?} waiting for {what}"),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Status code of a plain HTTP/1.0 `GET path` on `addr` (`host:port`),
/// optionally with basic auth `(user, password)`. Enough to probe the local
/// registries' `/v2/` without an HTTP client crate.
pub fn http_status(addr: &str, path: &str, basic_auth: Option<(&str, &str)>) -> Result<u16> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = match basic_auth {
        Some((user, password)) => {
            format!(
                "Authorization: Basic {}\r\n",
                base64_encode(format!("{user}:{password}").as_bytes())
            )
        }
        None => String::new(),
    };
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{auth}\r\n")?;
    let mut head = Vec::new();
    stream
        .read_to_end(&mut head)
        .with_context(|| format!("read from {addr}"))?;
    let head = String::from_utf8_lossy(&head);
    let status = head
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow!("{addr}: empty reply"))?;
    status
        .parse()
        .with_context(|| format!("{addr}: bad status line in {head:?}"))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What is left of stack `name`: one `kind name` entry (kind one of
/// `service`, `network`, `secret`, `config`) per object that still carries
/// the label `com.docker.stack.namespace=NAME`. Empty once the stack is gone.
pub fn stack_leftovers(name: &str) -> Result<Vec<String>> {
    let filter = format!("label={STACK_NAMESPACE_LABEL}={name}");
    let mut left = Vec::new();
    for kind in ["service", "network", "secret", "config"] {
        let out = docker([kind, "ls", "--filter", &filter, "--format", "{{.Name}}"])?;
        left.extend(
            out.lines()
                .filter(|l| !l.is_empty())
                .map(|l| format!("{kind} {l}")),
        );
    }
    Ok(left)
}

/// Deploys `compose` (Compose file text) as stack `name` with the docker CLI
/// (`docker stack deploy --resolve-image never`), e.g. to compare with what
/// voc deploys. The guard is made before deploying, so even a failed or
/// partial deploy is cleaned up.
pub fn cli_stack_deploy(name: &str, compose: &str) -> Result<StackGuard> {
    let guard = StackGuard::new(name);
    let mut file = tempfile::Builder::new()
        .prefix("voc-e2e-")
        .suffix(".yml")
        .tempfile()?;
    file.write_all(compose.as_bytes())?;
    file.flush()?;
    let path = file
        .path()
        .to_str()
        .context("temp path is not UTF-8")?
        .to_owned();
    docker([
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "--detach=true",
        "-c",
        &path,
        name,
    ])?;
    Ok(guard)
}

/// Removes stack `name` when dropped, so a test leaves nothing behind even when
/// it panics: runs `docker stack rm NAME`, force-removes the stack's task
/// containers (so they need not wait out their stop grace period), and waits,
/// at most 30 s, until no service, network, secret or config labelled
/// `com.docker.stack.namespace=NAME` remains. If something remains, drop
/// panics (or only prints, when the test is already panicking).
///
/// Works for stacks deployed by voc or by the docker CLI alike, since both
/// label their objects the same way.
#[derive(Debug)]
pub struct StackGuard {
    /// The stack's name.
    pub name: String,
}

impl StackGuard {
    /// Guards stack `name` (which need not exist yet).
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    /// Removes the stack now and waits until it is gone (what drop does),
    /// returning an error naming whatever is left after 90 s. (A network
    /// goes only after the last task's container stopped: 30 s was not
    /// enough on a loaded 2-core machine.)
    pub fn remove(&self) -> Result<()> {
        remove_stack(&self.name, Duration::from_secs(90))
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            if std::thread::panicking() {
                eprintln!("StackGuard: {e:#}");
            } else {
                panic!("StackGuard: {e:#}");
            }
        }
    }
}

fn remove_stack(name: &str, timeout: Duration) -> Result<()> {
    let filter = format!("label={STACK_NAMESPACE_LABEL}={name}");
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        // Every 5 s, say again what should go: `stack rm` is idempotent, and
        // removing a network can fail while a task container still uses it.
        if attempt.is_multiple_of(25) {
            let _ = docker(["stack", "rm", name]);
            if let Ok(ids) = docker(["ps", "-aq", "--filter", &filter]) {
                let ids: Vec<&str> = ids.split_whitespace().collect();
                if !ids.is_empty() {
                    let _ = docker(["rm", "-f"].into_iter().chain(ids));
                }
            }
            if attempt > 0 {
                for kind in ["network", "secret", "config"] {
                    if let Ok(names) = docker([kind, "ls", "-q", "--filter", &filter]) {
                        for id in names.split_whitespace() {
                            let _ = docker([kind, "rm", id]);
                        }
                    }
                }
            }
        }
        let left = stack_leftovers(name)?;
        if left.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            bail!(
                "stack {name} not fully removed after {timeout:?}: {}",
                left.join(", ")
            );
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `voc` binary of this workspace, for tests that run the command line.
///
/// Cargo builds another package's binaries only for that package's own
/// tests (`CARGO_BIN_EXE_voc` does not exist here), so the first call in a
/// test process runs `cargo build -p voc --bin voc` into the target folder
/// of the running test (a no-op when it is up to date): a test never runs
/// a stale binary. Later calls return the same path, or the same error.
///
/// `scripts/test.sh` builds the binary before the tests start and names it
/// in `VOC_BIN`, so that parallel test processes do not queue on cargo's
/// build lock: then that path is used as is.
pub fn voc_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("VOC_BIN").map(PathBuf::from)
        && path.is_file()
    {
        return Ok(path);
    }
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_voc().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn build_voc() -> Result<PathBuf> {
    // The test executable is `<target>/<profile folder>/deps/<test>-<hash>`.
    let exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{} is not in a cargo target folder", exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .with_context(|| format!("{} is not in a cargo target folder", exe.display()))?;
    let profile = profile_dir
        .file_name()
        .and_then(OsStr::to_str)
        .context("the profile folder's name is not UTF-8")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the tests crate is not in the workspace")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "-p",
            "voc",
            "--bin",
            "voc",
            "--target-dir",
        ])
        .arg(target_dir);
    // The `dev` profile builds into `debug`; every other into its own name.
    if profile != "debug" {
        command.args(["--profile", profile]);
    }
    let out = command.output().context("running cargo build -p voc")?;
    if !out.status.success() {
        bail!(
            "cargo build -p voc failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(profile_dir.join(format!("voc{}", std::env::consts::EXE_SUFFIX)))
}

/// How a run of the `voc` binary ended: its exit code and what it printed.
#[derive(Debug, Clone)]
pub struct VocOutput {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Standard output: the result.
    pub stdout: String,
    /// Standard error: progress and errors.
    pub stderr: String,
}

impl VocOutput {
    /// Panics, showing both outputs, unless voc exited with `code`.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "voc exited with {:?}, not {code}\n{self}",
            self.code
        );
        self
    }

    /// Panics, showing both outputs, unless standard output contains `text`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "voc's output lacks {text:?}\n{self}"
        );
        self
    }

    /// Panics, showing both outputs, unless standard error contains `text`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "voc's progress lacks {text:?}\n{self}"
        );
        self
    }
}

impl std::fmt::Display for VocOutput {
    /// Both outputs, labelled, for assertion messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- voc stdout ---\n{}\n--- voc stderr ---\n{}",
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Runs the workspace's `voc` binary ([`voc_binary`]) with `args` in `dir`,
/// without inheriting `VOC_DATA_DIR`, and returns how it ended.
pub fn run_voc<I, S>(dir: &Path, args: I) -> Result<VocOutput>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let voc = voc_binary()?;
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(&voc)
        .args(&args)
        .current_dir(dir)
        .env_remove("VOC_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running voc {}", display_args(&args)))?;
    Ok(VocOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// `docker service inspect NAME` (the one object), or `None` when there is
/// no such service.
pub fn inspect_service(name: &str) -> Result<Option<serde_json::Value>> {
    // `service ls --filter name=` matches prefixes: look for the exact name.
    let names = docker([
        "service",
        "ls",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Name}}",
    ])?;
    if !names.lines().any(|line| line == name) {
        return Ok(None);
    }
    let mut all = docker_json(["service", "inspect", name])?;
    Ok(all.get_mut(0).map(serde_json::Value::take))
}

/// Waits until `expected` services of `stacks` (found by their names'
/// `<stack>_` prefix in `docker service ls`) each run all their replicas
/// (at least one), for at most `timeout`; returns how long it took. For the
/// benchmarks, which deploy many stacks at once.
pub fn wait_until_services_run(
    stacks: &[String],
    expected: usize,
    timeout: Duration,
) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let listed = docker([
            "service",
            "ls",
            "--filter",
            "label=com.docker.stack.namespace",
            "--format",
            "{{.Name}} {{.Replicas}}",
        ])?;
        let running = listed
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(name, _)| stacks.iter().any(|s| name.starts_with(&format!("{s}_"))))
            .filter(|(_, replicas)| {
                let counts = replicas.split_whitespace().next().unwrap_or_default();
                counts
                    .split_once('/')
                    .is_some_and(|(running, desired)| running == desired && running != "0")
            })
            .count();
        if running == expected {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= timeout {
            bail!("after {timeout:?}, only {running} of {expected} services run");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The swarm specs of stacks `names` from Compose `files` (one file each,
/// no variables), as `voc stack deploy` makes them. For the benchmarks.
pub fn stack_specs(files: &[PathBuf], names: &[String]) -> Result<Vec<voc::compose::StackSpec>> {
    let variables = voc::compose::load::Variables::new();
    files
        .iter()
        .zip(names)
        .map(|(file, name)| {
            let loaded = voc::compose::load::load_files(std::slice::from_ref(file), &variables)?;
            Ok(voc::compose::convert(name, &loaded.file)?)
        })
        .collect()
}

/// The value of environment variable `name` in the spec of `service`, once
/// that service (of one replica) runs 1/1; `None` before.
pub fn running_env(service: &str, name: &str) -> Result<Option<String>> {
    let replicas = docker([
        "service",
        "ls",
        "--filter",
        &format!("name={service}"),
        "--format",
        "{{.Name}} {{.Replicas}}",
    ])?;
    if !replicas
        .lines()
        .any(|line| line.trim() == format!("{service} 1/1"))
    {
        return Ok(None);
    }
    let env = docker([
        "service",
        "inspect",
        service,
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
    ])?;
    let env: Vec<String> = serde_json::from_str(env.trim())?;
    let prefix = format!("{name}=");
    Ok(env
        .iter()
        .find_map(|e| e.strip_prefix(&prefix))
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_short_valid_and_distinct() {
        let names: Vec<String> = (0..2000)
            .map(|_| unique_name("Some Long_Prefix!"))
            .collect();
        for n in &names {
            assert!(n.len() <= 20, "{n}");
            assert!(n.starts_with("somelong-"), "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            );
        }
        let set: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(set.len(), names.len());
        assert!(unique_name("").starts_with("t-"));
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"voc:voc-secret"), "dm9jOnZvYy1zZWNyZXQ=");
    }
}
