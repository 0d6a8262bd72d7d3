//! `voc serve`: the server (GraphQL API, webhooks, following the conf repo).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::prelude::*;

use crate::config::ServerConfig;
use crate::serve::announce;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (TOML). Without it voc serves with its
    /// defaults: a local conf repo in the data folder and the local engine.
    #[arg(long, short, env = "VOC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// How voc writes its log (stderr) and the lines for whoever started
    /// it (stdout): `text` for people, `json` for log collectors (one object
    /// per line).
    #[arg(long, env = "VOC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How voc writes its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Time, level, the job's span (`job{id=42 kind=deploy ...}`), the
    /// message; in colour on a terminal.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields` (the
    /// `message` and the event's other fields), `target` (where in voc),
    /// and the job's `span` (`id`, `kind`, `subject`, `target`).
    Json,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format);
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = ServerConfig::load(args.config.as_deref(), &env)?;
    crate::serve::run(config).await?;
    tracing::info!("voc stopped");
    // Exit here rather than drop the runtime: dropping it cancels the
    // HTTP clients' connection tasks before the jobs using them, so a job
    // running at the stop would record a failure of its own ("dispatch
    // task is gone") and a worker could panic on the dying runtime. Its
    // row stays RUNNING and the next start ends it with the reason; the
    // store's transactions are atomic, so nothing is half written.
    std::process::exit(0)
}

type BoxedLayer = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// The log on stderr, filtered by `RUST_LOG` (`info` when it is unset or
/// invalid; e.g. `RUST_LOG=voc=debug,info`), and the lines for whoever
/// started voc on stdout (`serve::announce`), never filtered out; both in
/// `format`.
fn init_logs(format: LogFormat) {
    use tracing_subscriber::fmt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (log, lines): (BoxedLayer, BoxedLayer) = match format {
        LogFormat::Text => (
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .boxed(),
            // The bare line: scripts read it.
            fmt::layer()
                .with_writer(std::io::stdout)
                .with_ansi(false)
                .without_time()
                .with_level(false)
                .with_target(false)
                .boxed(),
        ),
        LogFormat::Json => (
            // Not flattened: voc's events have a `target` field (the
            // Docker target), which would collide with the log target.
            fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_current_span(true)
                .with_span_list(false)
                .boxed(),
            fmt::layer()
                .json()
                .with_writer(std::io::stdout)
                .with_current_span(false)
                .with_span_list(false)
                .boxed(),
        ),
    };
    let is_announcement = || filter_fn(|meta| meta.target() == announce::TARGET);
    // A second initialisation (never in the binary) is harmless: the first
    // subscriber stays.
    let _ = tracing_subscriber::registry()
        .with(vec![
            log.with_filter(filter.and(is_announcement().not())).boxed(),
            lines.with_filter(is_announcement()).boxed(),
        ])
        .try_init();
}
