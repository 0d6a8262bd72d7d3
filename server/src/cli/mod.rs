//! The `voc` command line: parses arguments with clap, runs one command, and
//! turns its outcome into an exit code.
//!
//! Every command prints progress to stderr as the work happens and its result
//! to stdout; with `--json` the result is one JSON document on stdout, so
//! scripts can read it while people still see the progress. The exit code is
//! 0 on success, 1 when the command failed, 2 for a usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod credentials;
mod image;
mod output;
mod stack;
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
}

/// Parses the arguments, runs the command, and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Stack(command) => stack::run(command).await,
        Command::Image(command) => image::run(command).await,
    }
}
