//! `voc serve`: the server (GraphQL API, webhooks, following the conf repo).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use tracing_subscriber::EnvFilter;

use crate::config::ServerConfig;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (TOML). Without it voc serves with its
    /// defaults: a local conf repo in the data folder and the local engine.
    #[arg(long, short, env = "VOC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = ServerConfig::load(args.config.as_deref(), &env)?;
    crate::serve::run(config).await
}

/// Human-readable logs on stderr, filtered by `RUST_LOG` (`info` when it
/// is unset or invalid; e.g. `RUST_LOG=voc=debug,info`). Stdout stays for
/// the lines scripts read (the listen address, the first admin's password).
fn init_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second initialisation (never in the binary) is harmless: the first
    // subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
