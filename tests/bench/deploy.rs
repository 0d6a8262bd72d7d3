//! Deploy benchmark: voc beside the docker CLI, on the same engine, in one
//! run.
//!
//! Run with `cargo bench -p voc-tests --bench deploy` (after
//! `scripts/engine-up.sh`; it builds `target/release/voc` itself). It
//! generates [`STACKS`] Compose files of [`SERVICES`] services each
//! (`voc_tests::BASE_IMAGE` running `sleep 3600`, each stack with its own
//! environment, so no two stacks share a spec) and measures:
//!
//! 1. **New stacks**: a shell-style loop of `docker stack deploy
//!    --detach=true` against voc deploying the same files as one batch
//!    (`Engine::deploy_stacks`, detached), on separate stack names. After
//!    each side, the benchmark waits until every replica of that side runs
//!    and then lets the engine settle, so one side's container starts do not
//!    slow the other's timing.
//! 2. **Unchanged redeploy**: [`ROUNDS`] rounds, each running the CLI loop,
//!    then voc's batch, then one `voc stack deploy --detach` process per
//!    stack (the way a shell loop over voc would work), with a settle between
//!    sides. Each side's median is reported. voc's runs are checked to be
//!    no-ops (a benchmark of deploys that did something would be wrong).
//!
//! voc's batch timings cover loading and converting the Compose files and
//! `deploy_stacks` on a connected engine, which is what a redeploy costs
//! `voc serve` (connected once) and `voc apply` (connected once per run,
//! whatever the number of stacks). Connecting (`Engine::connect`, which asks
//! the daemon's `/version`) is timed apart and printed beside, with the
//! ratio it would give if counted. Everything runs with
//! `--resolve-image never` / `ResolveImage::Never`: no registry is reachable
//! for the test image. The targets (from the issue): unchanged, voc's batch
//! at least 20 times faster than the CLI loop; new stacks, voc no slower
//! than the CLI. Every stack is removed at the end, and the benchmark fails
//! if any is left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use voc::engine::{DeployOptions, Engine, ResolveImage};
use voc_tests::{StackGuard, docker};

/// Stacks deployed by each side.
const STACKS: usize = 20;
/// Services per stack.
const SERVICES: usize = 3;
/// Rounds of unchanged redeploys; each side's median is reported.
const ROUNDS: usize = 5;
/// Unchanged redeploys: the CLI loop's time over voc's batch, at least.
const TARGET_UNCHANGED: f64 = 20.0;
/// New stacks: the CLI loop's time over voc's batch, at least.
const TARGET_NEW: f64 = 1.0;
/// How long new stacks may take to have every replica running.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(300);
/// Quiet time after a side's tasks run, before the other side is timed.
const SETTLE: Duration = Duration::from_secs(3);
/// Quiet time between the sides of an unchanged round (nothing starts).
const ROUND_SETTLE: Duration = Duration::from_secs(1);

fn main() -> anyhow::Result<()> {
    voc_tests::require_engine();
    let load_at_start = load_average();
    let voc_binary = build_voc_binary()?;
    let load_after_build = load_average();
    let workdir = tempfile::tempdir()?;
    let files = write_stacks(workdir.path())?;
    let run_id = voc_tests::unique_name("bench");
    let cli_names: Vec<String> = (0..STACKS).map(|i| format!("{run_id}c{i}")).collect();
    let voc_names: Vec<String> = (0..STACKS).map(|i| format!("{run_id}v{i}")).collect();
    // Made before anything is deployed, so a failed run cleans up too.
    let guards: Vec<StackGuard> = cli_names
        .iter()
        .chain(&voc_names)
        .map(StackGuard::new)
        .collect();
    let runtime = tokio::runtime::Runtime::new()?;

    eprintln!("new stacks: {STACKS} stacks x {SERVICES} services with the docker CLI");
    let cli_new = time(|| deploy_with_cli(&files, &cli_names))?;
    wait_until_running(&cli_names)?;
    eprintln!("new stacks: the same with voc, one batch");
    let voc_new_parts = runtime.block_on(deploy_with_voc(&files, &voc_names, false))?;
    let voc_new = voc_new_parts.batch();
    wait_until_running(&voc_names)?;

    let mut cli_again = Vec::with_capacity(ROUNDS);
    let mut voc_again = Vec::with_capacity(ROUNDS);
    let mut voc_again_parts = Vec::with_capacity(ROUNDS);
    let mut process_again = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        eprintln!("unchanged redeploy, round {round}/{ROUNDS}: CLI, voc batch, voc per stack");
        cli_again.push(time(|| deploy_with_cli(&files, &cli_names))?);
        std::thread::sleep(ROUND_SETTLE);
        let parts = runtime.block_on(deploy_with_voc(&files, &voc_names, true))?;
        voc_again.push(parts.batch());
        voc_again_parts.push(parts);
        std::thread::sleep(ROUND_SETTLE);
        process_again.push(time(|| {
            deploy_with_voc_processes(&voc_binary, &files, &voc_names)
        })?);
        std::thread::sleep(ROUND_SETTLE);
    }
    let load_at_end = load_average();

    let voc_median = median_index(&voc_again);
    let results = Results {
        cli_new,
        voc_new,
        cli_again: cli_again[median_index(&cli_again)],
        voc_again: voc_again[voc_median],
        voc_again_connect: voc_again_parts[voc_median].connect,
        process_again: process_again[median_index(&process_again)],
    };
    println!();
    println!(
        "deploy benchmark, {STACKS} stacks x {SERVICES} services, docker CLI {} against engine {}, {} CPUs",
        docker(["version", "--format", "{{.Client.Version}}"])?.trim(),
        docker(["version", "--format", "{{.Server.Version}}"])?.trim(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!(
        "load average: {load_at_start} at start, {load_after_build} after building voc, {load_at_end} at the end"
    );
    println!();
    results.print_table();
    println!();
    println!(
        "unchanged rounds (s): CLI {}; voc batch {}; voc per stack {}",
        seconds(&cli_again),
        seconds(&voc_again),
        seconds(&process_again)
    );
    println!(
        "voc batch, where the time goes: new stacks {}; unchanged (median round) {}",
        voc_new_parts, voc_again_parts[voc_median]
    );
    println!();
    results.print_ratios();

    eprintln!("removing the {} stacks", guards.len());
    remove_all(&run_id, &guards)?;
    drop(guards);
    let listed = docker(["stack", "ls", "--format", "{{.Name}}"])?;
    let left: Vec<&str> = listed
        .lines()
        .filter(|name| name.starts_with(&run_id))
        .collect();
    ensure!(left.is_empty(), "stacks left behind: {}", left.join(", "));
    println!();
    println!("cleanup: all {} stacks removed, none left", 2 * STACKS);
    Ok(())
}

/// The measured times (medians for unchanged redeploys).
struct Results {
    cli_new: Duration,
    voc_new: Duration,
    cli_again: Duration,
    voc_again: Duration,
    /// Connecting, in the round of `voc_again`.
    voc_again_connect: Duration,
    process_again: Duration,
}

impl Results {
    fn print_table(&self) {
        let cell = |d: Duration| {
            format!(
                "{:>8.3} s {:>9}",
                d.as_secs_f64(),
                format!("({:.1} ms)", per_stack_ms(d))
            )
        };
        println!(
            "{:<28} {:<22} {:<22} {:<22}",
            "total (per stack)", "docker CLI loop", "voc batch", "voc process per stack"
        );
        println!(
            "{:<28} {:<22} {:<22} {:<22}",
            "new stacks",
            cell(self.cli_new),
            cell(self.voc_new),
            "not measured"
        );
        println!(
            "{:<28} {:<22} {:<22} {:<22}",
            format!("unchanged, median of {ROUNDS}"),
            cell(self.cli_again),
            cell(self.voc_again),
            cell(self.process_again)
        );
    }

    fn print_ratios(&self) {
        let verdict = |ratio: f64, target: f64| {
            if ratio >= target {
                format!("target >= {target}x: met")
            } else {
                format!("target >= {target}x: MISSED")
            }
        };
        let unchanged = ratio(self.cli_again, self.voc_again);
        let new = ratio(self.cli_new, self.voc_new);
        println!("ratios, docker CLI time / voc time:");
        println!(
            "  unchanged redeploy, voc batch:            {unchanged:>8.1}x  {}",
            verdict(unchanged, TARGET_UNCHANGED)
        );
        println!(
            "  unchanged redeploy, voc batch + connecting: {:>6.1}x  (no target)",
            ratio(self.cli_again, self.voc_again + self.voc_again_connect)
        );
        println!(
            "  unchanged redeploy, voc process per stack: {:>7.1}x  (no target)",
            ratio(self.cli_again, self.process_again)
        );
        println!(
            "  new stacks, voc batch:                    {new:>8.2}x  {}",
            verdict(new, TARGET_NEW)
        );
    }
}

fn ratio(slow: Duration, fast: Duration) -> f64 {
    slow.as_secs_f64() / fast.as_secs_f64().max(1e-9)
}

fn per_stack_ms(total: Duration) -> f64 {
    total.as_secs_f64() * 1000.0 / STACKS as f64
}

/// The index of the median of `times` (the upper one of an even count).
fn median_index(times: &[Duration]) -> usize {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| times[i]);
    order[order.len() / 2]
}

fn seconds(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.3}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn time(work: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    work()?;
    Ok(started.elapsed())
}

/// The 1, 5 and 15 minute load averages.
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

/// One Compose file per stack, each with its own content.
fn write_stacks(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    (0..STACKS)
        .map(|stack| {
            let mut text = String::from("version: \"3.8\"\nservices:\n");
            for service in 0..SERVICES {
                text.push_str(&format!(
                    "  s{service}:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    \
                     environment:\n      STACK: \"{stack}\"\n    deploy:\n      replicas: 1\n",
                    image = voc_tests::BASE_IMAGE
                ));
            }
            let path = folder.join(format!("docker-compose-{stack}.yml"));
            std::fs::write(&path, text)?;
            Ok(path)
        })
        .collect()
}

fn deploy_with_cli(files: &[PathBuf], names: &[String]) -> anyhow::Result<()> {
    for (file, name) in files.iter().zip(names) {
        let status = Command::new("docker")
            .args([
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "--detach=true",
                "-c",
            ])
            .arg(file)
            .arg(name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        ensure!(status.success(), "docker stack deploy {name} failed");
    }
    Ok(())
}

/// Where the time of a voc batch goes.
#[derive(Debug, Clone, Copy, Default)]
struct Breakdown {
    /// `Engine::connect` (which asks `/version`).
    connect: Duration,
    /// Loading and converting the Compose files.
    load: Duration,
    /// `Engine::deploy_stacks`.
    deploy: Duration,
}

impl Breakdown {
    /// What the benchmark counts as voc's batch: loading and deploying,
    /// without connecting.
    fn batch(&self) -> Duration {
        self.load + self.deploy
    }
}

impl std::fmt::Display for Breakdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "connect {:.1} ms + load and convert {:.1} ms + deploy_stacks {:.1} ms",
            ms(self.connect),
            ms(self.load),
            ms(self.deploy)
        )
    }
}

/// Connects, loads and converts every file, and deploys them as one batch;
/// with `unchanged`, fails unless every stack was a no-op.
async fn deploy_with_voc(
    files: &[PathBuf],
    names: &[String],
    unchanged: bool,
) -> anyhow::Result<Breakdown> {
    let started = Instant::now();
    let engine = Engine::connect().await?;
    let connected = Instant::now();
    let options = DeployOptions {
        resolve_image: ResolveImage::Never,
        wait: None,
        ..DeployOptions::default()
    };
    let specs = voc_tests::stack_specs(files, names)?;
    let loaded = Instant::now();
    let results = engine.deploy_stacks(&specs, &options, &|_, _| {}).await?;
    let deployed = Instant::now();
    for (name, result) in names.iter().zip(results) {
        let report = result.with_context(|| format!("voc deploying {name}"))?;
        ensure!(
            !unchanged || report.is_noop(),
            "voc changed {name}: {report:?}"
        );
    }
    Ok(Breakdown {
        connect: connected - started,
        load: loaded - connected,
        deploy: deployed - loaded,
    })
}

/// Runs `voc stack deploy --detach` once per stack; each must be a no-op.
fn deploy_with_voc_processes(
    voc: &Path,
    files: &[PathBuf],
    names: &[String],
) -> anyhow::Result<()> {
    for (file, name) in files.iter().zip(names) {
        let output = Command::new(voc)
            .args([
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "--detach",
                "--json",
                "-c",
            ])
            .arg(file)
            .arg(name)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()?;
        ensure!(output.status.success(), "voc stack deploy {name} failed");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("voc stack deploy {name}: output is not JSON"))?;
        ensure!(
            report["noop"] == true,
            "voc stack deploy changed {name}: {report}"
        );
    }
    Ok(())
}

/// Waits until every service of `stacks` has all its replicas running, then
/// for [`SETTLE`].
fn wait_until_running(stacks: &[String]) -> anyhow::Result<()> {
    let took =
        voc_tests::wait_until_services_run(stacks, stacks.len() * SERVICES, RUNNING_TIMEOUT)?;
    eprintln!(
        "  every replica runs after {:.1} s; settling",
        took.as_secs_f64()
    );
    std::thread::sleep(SETTLE);
    Ok(())
}

/// Removes every stack at once (dropping the guards then checks, one by
/// one, that nothing is left): `docker stack rm` with all the names, and the
/// task containers force-removed, since busybox `sleep` ignores SIGTERM.
fn remove_all(run_id: &str, guards: &[StackGuard]) -> anyhow::Result<()> {
    let names = guards.iter().map(|g| g.name.as_str());
    // The CLI removes networks without waiting for the tasks to go, so it
    // may report networks still in use: the guards finish the job.
    let _ = docker(["stack", "rm"].into_iter().chain(names));
    let containers = docker(["ps", "-aq", "--filter", &format!("name={run_id}")])?;
    let ids: Vec<&str> = containers.split_whitespace().collect();
    if !ids.is_empty() {
        // A container swarm removed meanwhile is no error.
        let _ = docker(["rm", "-f"].into_iter().chain(ids));
    }
    Ok(())
}

/// Builds the release `voc` binary and returns its path.
fn build_voc_binary() -> anyhow::Result<PathBuf> {
    eprintln!("building target/release/voc");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "voc", "--bin", "voc"])
        .status()?;
    ensure!(status.success(), "building voc failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    Ok(target.join("release/voc"))
}
