//! The `voc` command line: parses arguments with clap, runs one command, and
//! turns its outcome into an exit code.
//!
//! Every command prints progress to stderr as the work happens and its result
//! to stdout; with `--json` the result is one JSON document on stdout, so
//! scripts can read it while people still see the progress. The exit code is
//! 0 on success, 1 when the command failed, 2 for a usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::engine::error::ErrorChain;

mod apply;
mod duration;
mod health;
mod image;
mod jobs;
mod keygen;
mod output;
mod serve;
mod stack;
mod validate;
mod variables;

/// Conf as code for Docker Swarm.
#[derive(Debug, Parser)]
#[command(name = "voc", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Deploy, list, inspect and remove stacks (like `docker stack`).
    #[command(subcommand)]
    Stack(stack::StackCommand),
    /// Build and push images.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Check a conf repo and print every problem in it (exit code 1 if any).
    Validate(validate::ValidateArgs),
    /// Show what `apply` would do for a commit range, and why.
    Plan(apply::PlanArgs),
    /// Build, push, deploy and remove what a commit range changed, in order.
    Apply(apply::ApplyArgs),
    /// List the recent jobs of `apply`.
    Jobs(jobs::JobsArgs),
    /// Show one job and its log.
    Job(jobs::JobArgs),
    /// Run the server: GraphQL API, webhooks, and following the conf repo.
    Serve(serve::ServeArgs),
    /// Check that a running `voc serve` answers (exit code 1 if not): the
    /// image's health check.
    Health(health::HealthArgs),
    /// Print a new key for the conf repo's secrets, for `secrets_key_file`
    /// (e.g. `voc keygen | docker secret create voc_secrets_key -`).
    Keygen(keygen::KeygenArgs),
}

/// The error of a command that has already printed why it failed (`voc
/// validate` listing problems): `main` exits with 1 and adds nothing.
#[derive(Debug, thiserror::Error)]
#[error("the command failed")]
struct Reported;

/// Parses the arguments, runs the command, and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // SAFETY: no other thread exists yet (the runtime starts below), so
    // libgit2's globals are written before anything can read them.
    let timeouts = unsafe {
        crate::git::set_network_timeouts(
            std::time::Duration::from_secs(30),
            std::time::Duration::from_secs(120),
        )
    };
    if let Err(error) = timeouts {
        eprintln!("warning: git network timeouts could not be set: {error}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<Reported>() => ExitCode::FAILURE,
        Err(error) => {
            // The whole cause chain on one line, each cause once.
            eprintln!("error: {}", ErrorChain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Stack(command) => stack::run(command).await,
        Command::Image(command) => image::run(command).await,
        Command::Validate(args) => validate::run(args),
        Command::Plan(args) => apply::run_plan(args).await,
        Command::Apply(args) => apply::run_apply(args).await,
        Command::Jobs(args) => jobs::run_jobs(args),
        Command::Job(args) => jobs::run_job(args),
        Command::Serve(args) => serve::run(args).await,
        Command::Health(args) => health::run(args),
        Command::Keygen(args) => keygen::run(args),
    }
}
