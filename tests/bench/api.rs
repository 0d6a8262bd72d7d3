//! API benchmark: `voc serve` answering `stacks { services { tasks } }`
//! beside what the original design did with the docker CLI, and voc
//! serve's memory, on the same engine in one run.
//!
//! Run with `cargo bench -p voc-tests --bench api` (after
//! `scripts/engine-up.sh`). It uses the `voc` binary of the tests
//! (`VOC_BIN`, else the one `voc_tests::voc_binary` builds) and:
//!
//! 1. starts a fresh `voc serve` and reads its resident size (`VmRSS` in
//!    `/proc/<pid>/status`) once its live loop has read the engine: idle;
//! 2. deploys [`SIZES`]`[0]` stacks of [`SERVICES`] services (busybox
//!    `sleep`, one replica, `stop_grace_period: 1s`) as one batch with
//!    voc's engine API, waits until every replica runs, starts a server,
//!    waits until its live state shows them all running, then times the
//!    GraphQL query [`QUERY`] ([`VOC_RUNS`] runs, median) against the
//!    docker CLI: `docker stack ls`, then `docker stack services <s>` and
//!    `docker stack ps <s>` for every stack listed ([`CLI_RUNS`] runs,
//!    median);
//! 3. does the same with [`SIZES`]`[1]` stacks, and reads the server's
//!    resident size with them.
//!
//! It prints the table, the ratios and whether the targets are met (voc at
//! least [`TARGET_RATIO`] times faster; resident size under
//! [`TARGET_IDLE_MB`] MB idle and [`TARGET_LOADED_MB`] MB with the most
//! stacks). Every stack it made is removed at the end, even when it fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use voc::engine::{DeployOptions, Engine, ResolveImage};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer};
use voc_tests::{StackGuard, docker};

/// The numbers of stacks measured, in order (the second includes the
/// first).
const SIZES: [usize; 2] = [20, 100];
/// Services per stack.
const SERVICES: usize = 3;
/// Runs of the GraphQL query per size; the median is reported.
const VOC_RUNS: usize = 20;
/// Runs of the CLI sequence per size; the median is reported.
const CLI_RUNS: usize = 3;
/// The query timed.
const QUERY: &str = "{ stacks { name services { name tasks { id state } } } }";
/// voc's time must be at least this many times smaller than the CLI's.
const TARGET_RATIO: f64 = 25.0;
/// Resident size of an idle server, at most (MB).
const TARGET_IDLE_MB: f64 = 50.0;
/// Resident size with the most stacks, at most (MB).
const TARGET_LOADED_MB: f64 = 100.0;
/// How long deployed stacks may take to have every replica running.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(600);

fn main() -> anyhow::Result<()> {
    voc_tests::require_engine();
    let load_at_start = load_average();
    let run_id = voc_tests::unique_name("bapi");
    let most = SIZES[SIZES.len() - 1];
    let names: Vec<String> = (0..most).map(|i| format!("{run_id}s{i}")).collect();
    // Made before anything is deployed, so a failed run cleans up too.
    let guards: Vec<StackGuard> = names.iter().map(StackGuard::new).collect();
    let result = run(&names);
    eprintln!("removing the {} stacks", names.len());
    remove_all(&run_id, &guards);
    drop(guards);
    let report = result?;
    report.print(&load_at_start, &load_average());
    Ok(())
}

/// What one run measured.
struct Report {
    idle_rss_mb: f64,
    sizes: Vec<SizeResult>,
    stacks_elsewhere: usize,
    voc_binary: PathBuf,
}

/// The measures for one number of stacks.
struct SizeResult {
    stacks: usize,
    listed: usize,
    voc: Vec<Duration>,
    cli: Vec<Duration>,
    rss_mb: f64,
}

fn run(names: &[String]) -> anyhow::Result<Report> {
    let voc_binary = voc_tests::voc_binary()?;
    eprintln!("voc serve: {}", voc_binary.display());
    let stacks_elsewhere = docker(["stack", "ls", "--format", "{{.Name}}"])?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();

    eprintln!("idle: a fresh voc serve");
    let idle_rss_mb = {
        let server = start_server()?;
        let admin = server.admin()?;
        // Once the live loop has read the engine (the target shows read).
        voc_tests::wait_for("the first live read", Duration::from_secs(60), || {
            let targets = admin.data("{ targets { lastReadAt } }", json!({}))?;
            Ok(targets["targets"][0]["lastReadAt"]
                .is_string()
                .then_some(()))
        })?;
        std::thread::sleep(Duration::from_secs(3));
        rss_mb(server.pid())?
    };

    let workdir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut sizes = Vec::new();
    let mut deployed = 0;
    for size in SIZES {
        eprintln!("{size} stacks: deploying {} more", size - deployed);
        let batch = &names[deployed..size];
        let files = write_stacks(workdir.path(), batch)?;
        runtime.block_on(deploy(&files, batch))?;
        deployed = size;
        wait_until_running(&names[..size])?;

        let server = start_server()?;
        let admin = server.admin()?;
        wait_until_live(&admin, &names[..size])?;
        let listed = admin.data(QUERY, json!({}))?["stacks"]
            .as_array()
            .map_or(0, Vec::len);

        eprintln!("{size} stacks: timing the GraphQL query ({VOC_RUNS} runs)");
        let mut voc = Vec::with_capacity(VOC_RUNS);
        for _ in 0..VOC_RUNS {
            let started = Instant::now();
            let data = admin.data(QUERY, json!({}))?;
            voc.push(started.elapsed());
            ensure!(
                data["stacks"].as_array().map_or(0, Vec::len) >= size,
                "the query lost stacks"
            );
        }
        eprintln!("{size} stacks: timing the docker CLI ({CLI_RUNS} runs)");
        let mut cli = Vec::with_capacity(CLI_RUNS);
        for _ in 0..CLI_RUNS {
            let started = Instant::now();
            let count = read_with_cli()?;
            cli.push(started.elapsed());
            ensure!(
                count >= size,
                "the CLI listed {count} stacks, fewer than {size}"
            );
        }
        let rss_mb = rss_mb(server.pid())?;
        sizes.push(SizeResult {
            stacks: size,
            listed,
            voc,
            cli,
            rss_mb,
        });
    }
    Ok(Report {
        idle_rss_mb,
        sizes,
        stacks_elsewhere,
        voc_binary,
    })
}

impl Report {
    fn print(&self, load_at_start: &str, load_at_end: &str) {
        println!();
        println!(
            "voc serve: {} (load average {load_at_start} at the start, {load_at_end} at the end)",
            self.voc_binary.display()
        );
        if self.stacks_elsewhere > 0 {
            println!(
                "{} other stack(s) were on the engine at the start; both sides list them too",
                self.stacks_elsewhere
            );
        }
        println!();
        println!(
            "| stacks x {SERVICES} services (listed) | voc `stacks {{ services {{ tasks }} }}`, median of {VOC_RUNS} (min–max) | docker CLI ls + services + ps, median of {CLI_RUNS} (min–max) | ratio | voc serve RSS |"
        );
        println!("|---|---|---|---|---|");
        for size in &self.sizes {
            println!(
                "| {} ({}) | {:.1} ms ({:.1}–{:.1}) | {:.0} ms ({:.0}–{:.0}) | {:.0}x | {:.1} MB |",
                size.stacks,
                size.listed,
                ms(median(&size.voc)),
                ms(min(&size.voc)),
                ms(max(&size.voc)),
                ms(median(&size.cli)),
                ms(min(&size.cli)),
                ms(max(&size.cli)),
                ratio(&size.cli, &size.voc),
                size.rss_mb
            );
        }
        println!(
            "| idle (no stack of its own) | | | | {:.1} MB |",
            self.idle_rss_mb
        );
        println!();
        for size in &self.sizes {
            let r = ratio(&size.cli, &size.voc);
            println!(
                "{} stacks: voc is {r:.0} times faster than the CLI (target {TARGET_RATIO}): {}",
                size.stacks,
                verdict(r >= TARGET_RATIO)
            );
        }
        println!(
            "resident size idle: {:.1} MB (target under {TARGET_IDLE_MB} MB): {}",
            self.idle_rss_mb,
            verdict(self.idle_rss_mb < TARGET_IDLE_MB)
        );
        if let Some(most) = self.sizes.last() {
            println!(
                "resident size with {} stacks: {:.1} MB (target under {TARGET_LOADED_MB} MB): {}",
                most.stacks,
                most.rss_mb,
                verdict(most.rss_mb < TARGET_LOADED_MB)
            );
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn min(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn ratio(slow: &[Duration], fast: &[Duration]) -> f64 {
    median(slow).as_secs_f64() / median(fast).as_secs_f64().max(1e-9)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A server reading its target every 2 s (the default).
fn start_server() -> anyhow::Result<VocServer> {
    VocServer::start(ServerOptions::default())
}

/// `VmRSS` of process `pid`, in MB.
fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .context("no VmRSS in /proc/<pid>/status")?;
    Ok(kb / 1024.0)
}

fn write_stacks(folder: &Path, names: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    names
        .iter()
        .map(|name| {
            let mut text = String::from("version: \"3.8\"\nservices:\n");
            for service in 0..SERVICES {
                text.push_str(&format!(
                    "  s{service}:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    \
                     stop_grace_period: 1s\n    deploy:\n      replicas: 1\n",
                    image = voc_tests::BASE_IMAGE
                ));
            }
            let path = folder.join(format!("docker-compose-{name}.yml"));
            std::fs::write(&path, text)?;
            Ok(path)
        })
        .collect()
}

/// Deploys `names` from `files` as one batch, detached.
async fn deploy(files: &[PathBuf], names: &[String]) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let options = DeployOptions {
        resolve_image: ResolveImage::Never,
        wait: None,
        ..DeployOptions::default()
    };
    let specs = voc_tests::stack_specs(files, names)?;
    let results = engine.deploy_stacks(&specs, &options, &|_, _| {}).await?;
    for (name, result) in names.iter().zip(results) {
        result.with_context(|| format!("deploying {name}"))?;
    }
    Ok(())
}

/// Waits until every service of `stacks` has its replica running.
fn wait_until_running(stacks: &[String]) -> anyhow::Result<()> {
    let took =
        voc_tests::wait_until_services_run(stacks, stacks.len() * SERVICES, RUNNING_TIMEOUT)?;
    eprintln!("  every replica runs after {:.1} s", took.as_secs_f64());
    Ok(())
}

/// Waits until the server's live state shows every service of `stacks`
/// with its task running.
fn wait_until_live(admin: &GraphqlClient, stacks: &[String]) -> anyhow::Result<()> {
    voc_tests::wait_for(
        "voc serve's live state to show every stack running",
        Duration::from_secs(120),
        || {
            let data: Value = admin.data(QUERY, json!({}))?;
            let listed = data["stacks"].as_array().cloned().unwrap_or_default();
            let all_running = stacks.iter().all(|name| {
                listed.iter().any(|stack| {
                    stack["name"] == name.as_str()
                        && stack["services"].as_array().is_some_and(|services| {
                            services.len() == SERVICES
                                && services.iter().all(|service| {
                                    service["tasks"].as_array().is_some_and(|tasks| {
                                        tasks.iter().any(|t| t["state"] == "running")
                                    })
                                })
                        })
                })
            });
            Ok(all_running.then_some(()))
        },
    )
}

/// What the original design did for the same answer: `docker stack ls`,
/// then `docker stack services` and `docker stack ps` per stack. Returns
/// how many stacks it listed.
fn read_with_cli() -> anyhow::Result<usize> {
    let stacks = docker(["stack", "ls", "--format", "{{.Name}}"])?;
    let stacks: Vec<&str> = stacks.lines().filter(|l| !l.trim().is_empty()).collect();
    for stack in &stacks {
        docker(["stack", "services", stack])?;
        docker(["stack", "ps", stack])?;
    }
    Ok(stacks.len())
}

/// Removes every stack at once (the guards then check, one by one, that
/// nothing is left), the task containers force-removed since busybox
/// `sleep` ignores SIGTERM.
fn remove_all(run_id: &str, guards: &[StackGuard]) {
    let names = guards.iter().map(|g| g.name.as_str());
    let _ = docker(["stack", "rm"].into_iter().chain(names));
    if let Ok(containers) = docker(["ps", "-aq", "--filter", &format!("name={run_id}")]) {
        let ids: Vec<&str> = containers.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = docker(["rm", "-f"].into_iter().chain(ids));
        }
    }
}
