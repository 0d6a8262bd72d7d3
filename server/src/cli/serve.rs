//! `voc serve`: the server (GraphQL API, webhooks, following the conf repo).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use crate::config::ServerConfig;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (TOML). Without it voc serves with its
    /// defaults: a local conf repo in the data folder and the local engine.
    #[arg(long, short, env = "VOC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = ServerConfig::load(args.config.as_deref(), &env)?;
    crate::serve::run(config).await
}
