//! Deploy benchmark: voc beside the docker CLI, on the same engine, in one run.
//!
//! Run with `cargo bench -p voc-tests --bench deploy` (after
//! `scripts/engine-up.sh`). It generates `STACKS` stacks of three services
//! and measures, for the docker CLI and for voc:
//!
//! 1. deploying them all as new stacks (detached: neither waits for tasks);
//! 2. redeploying them all unchanged.
//!
//! voc is measured two ways: in one process through the library (the way
//! `voc apply` and `voc serve` deploy a conf repo), and as one `voc stack
//! deploy` process per stack (the way a shell loop over the CLI works). The
//! CLI runs with `--resolve-image never`, as does voc, since no registry is
//! reachable for the test image. Every stack is removed at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use voc::compose;
use voc::engine::{DeployOptions, Engine, ResolveImage};

const STACKS: usize = 20;
const SERVICES: usize = 3;

fn main() -> anyhow::Result<()> {
    voc_tests::require_engine();
    let workdir = tempfile::tempdir()?;
    let run_id = voc_tests::unique_name("b");
    let files = write_stacks(workdir.path())?;
    let voc_binary = build_voc_binary()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let engine = runtime.block_on(Engine::connect())?;

    let cli_names: Vec<String> = (0..STACKS).map(|i| format!("{run_id}c{i}")).collect();
    let lib_names: Vec<String> = (0..STACKS).map(|i| format!("{run_id}l{i}")).collect();
    let bin_names: Vec<String> = (0..STACKS).map(|i| format!("{run_id}p{i}")).collect();
    let _guards: Vec<voc_tests::StackGuard> = cli_names
        .iter()
        .chain(&lib_names)
        .chain(&bin_names)
        .map(|name| voc_tests::StackGuard::new(name))
        .collect();

    eprintln!("deploying {STACKS} new stacks of {SERVICES} services, each way");
    let cli_new = time(|| deploy_with_cli(&files, &cli_names))?;
    let lib_new = time(|| runtime.block_on(deploy_with_library(&engine, &files, &lib_names)))?;
    let bin_new = time(|| deploy_with_binary(&voc_binary, &files, &bin_names))?;

    eprintln!("redeploying the same {STACKS} stacks unchanged, each way");
    let cli_again = time(|| deploy_with_cli(&files, &cli_names))?;
    let lib_again = time(|| runtime.block_on(deploy_with_library(&engine, &files, &lib_names)))?;
    let bin_again = time(|| deploy_with_binary(&voc_binary, &files, &bin_names))?;

    println!();
    println!("{STACKS} stacks x {SERVICES} services            docker CLI    voc (library)  voc (process per stack)");
    println!(
        "new stacks                          {:>8.2} s    {:>8.2} s       {:>8.2} s",
        cli_new.as_secs_f64(),
        lib_new.as_secs_f64(),
        bin_new.as_secs_f64()
    );
    println!(
        "unchanged redeploy                  {:>8.2} s    {:>8.2} s       {:>8.2} s",
        cli_again.as_secs_f64(),
        lib_again.as_secs_f64(),
        bin_again.as_secs_f64()
    );
    println!();
    println!(
        "unchanged redeploy: voc is {:.1}x faster than the CLI in one process (target >= 20x), {:.1}x as one process per stack",
        ratio(cli_again, lib_again),
        ratio(cli_again, bin_again)
    );
    println!(
        "new stacks: voc is {:.2}x the CLI's speed in one process (target >= 1x), {:.2}x as one process per stack",
        ratio(cli_new, lib_new),
        ratio(cli_new, bin_new)
    );
    println!(
        "per stack, unchanged: CLI {:.0} ms, voc {:.1} ms (library), {:.0} ms (process)",
        per_stack_ms(cli_again),
        per_stack_ms(lib_again),
        per_stack_ms(bin_again)
    );
    Ok(())
}

fn ratio(slow: Duration, fast: Duration) -> f64 {
    slow.as_secs_f64() / fast.as_secs_f64().max(1e-9)
}

fn per_stack_ms(total: Duration) -> f64 {
    total.as_secs_f64() * 1000.0 / STACKS as f64
}

fn time(work: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    work()?;
    Ok(started.elapsed())
}

/// One Compose file per stack, each with its own content so no two stacks
/// share a spec.
fn write_stacks(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    (0..STACKS)
        .map(|stack| {
            let mut text = String::from("version: \"3.8\"\nservices:\n");
            for service in 0..SERVICES {
                text.push_str(&format!(
                    "  s{service}:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    environment:\n      STACK: \"{stack}\"\n    deploy:\n      replicas: 1\n",
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
            .args(["stack", "deploy", "--resolve-image", "never", "--detach=true", "-c"])
            .arg(file)
            .arg(name)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "docker stack deploy {name} failed");
    }
    Ok(())
}

async fn deploy_with_library(engine: &Engine, files: &[PathBuf], names: &[String]) -> anyhow::Result<()> {
    let options = DeployOptions { resolve_image: ResolveImage::Never, wait: None, ..DeployOptions::default() };
    for (file, name) in files.iter().zip(names) {
        let loaded = compose::load::load_files(std::slice::from_ref(file), &compose::load::Variables::new())?;
        let spec = compose::convert(name, &loaded.file)?;
        engine.deploy_stack(&spec, &options, &|_| {}).await?;
    }
    Ok(())
}

fn deploy_with_binary(voc: &Path, files: &[PathBuf], names: &[String]) -> anyhow::Result<()> {
    for (file, name) in files.iter().zip(names) {
        let status = Command::new(voc)
            .args(["stack", "deploy", "--resolve-image", "never", "--detach", "-c"])
            .arg(file)
            .arg(name)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "voc stack deploy {name} failed");
    }
    Ok(())
}

/// The release `voc` binary beside this benchmark's own build.
fn build_voc_binary() -> anyhow::Result<PathBuf> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "voc", "--bin", "voc"])
        .status()?;
    anyhow::ensure!(status.success(), "building voc failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    Ok(target.join("release/voc"))
}
