//! `voc stack deploy|rm|ls|ps|services`: the `docker stack` commands, done
//! natively through the Engine API, with pruning, no-op detection and
//! honest convergence reports.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::output::{Progress, age, print_json, print_table};
use super::{duration, variables};
use crate::compose;
use crate::engine::credentials;
use crate::engine::{DeployOptions, Engine, RemoveEvent, ResolveImage, ServiceAction};

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Deploy a new stack or update an existing one.
    Deploy(DeployArgs),
    /// Remove one or more stacks (waits for their tasks before removing networks).
    #[command(alias = "remove")]
    Rm(RemoveArgs),
    /// List stacks.
    #[command(alias = "list")]
    Ls(ListArgs),
    /// List the tasks of a stack.
    Ps(StackArgs),
    /// List the services of a stack.
    Services(StackArgs),
    /// Load, interpolate and validate Compose files and print the result,
    /// without deploying (like `docker stack config`).
    Config(ConfigArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ResolveImageArg {
    Always,
    Changed,
    Never,
}

/// Where `${VAR}` values come from.
#[derive(Debug, Args)]
pub struct VariableArgs {
    /// An interpolation variable, `KEY=VALUE` (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = variables::parse_assignment)]
    vars: Vec<(String, String)>,
    /// A file of `KEY=VALUE` lines for interpolation (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Also take interpolation variables from voc's own environment (off by
    /// default, so a file renders the same wherever it is deployed).
    #[arg(long)]
    env: bool,
}

impl VariableArgs {
    fn collect(&self) -> anyhow::Result<compose::load::Variables> {
        variables::collect(&self.vars, &self.var_files, self.env)
    }
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Compose file(s); several are merged in order.
    #[arg(
        short = 'c',
        long = "compose-file",
        required = true,
        value_name = "FILE"
    )]
    compose_files: Vec<PathBuf>,
    #[command(flatten)]
    variables: VariableArgs,
    /// Query the registry to pin image digests.
    #[arg(long, value_enum, default_value = "always")]
    resolve_image: ResolveImageArg,
    /// Keep services that the Compose file no longer declares.
    #[arg(long)]
    no_prune: bool,
    /// Send registry credentials (from the docker CLI's config.json) to the
    /// swarm, for nodes to pull private images.
    #[arg(long)]
    with_registry_auth: bool,
    /// Return once everything is sent, without waiting for the services to run.
    #[arg(short, long)]
    detach: bool,
    /// How long to wait for the services to converge, e.g. `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = duration::parse)]
    timeout: Duration,
    /// How long a converged service must stay so before the deploy succeeds
    /// (default: each service's `update_config.monitor`, 5 s).
    #[arg(long, value_parser = duration::parse)]
    stability: Option<Duration>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The stack's name.
    name: String,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The stacks to remove.
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct StackArgs {
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The stack's name.
    name: String,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Compose file(s); several are merged in order.
    #[arg(
        short = 'c',
        long = "compose-file",
        required = true,
        value_name = "FILE"
    )]
    compose_files: Vec<PathBuf>,
    #[command(flatten)]
    variables: VariableArgs,
    /// Print the swarm specs voc would send for this stack name instead of
    /// the loaded Compose model.
    #[arg(long, value_name = "STACK")]
    specs: Option<String>,
}

pub async fn run(command: StackCommand) -> anyhow::Result<()> {
    match command {
        StackCommand::Deploy(args) => deploy(args).await,
        StackCommand::Rm(args) => remove(args).await,
        StackCommand::Ls(args) => list(args).await,
        StackCommand::Ps(args) => tasks(args).await,
        StackCommand::Services(args) => services(args).await,
        StackCommand::Config(args) => config(args),
    }
}

/// Loads, validates and converts the Compose files; prints the warnings.
/// Nothing is sent to Docker before this succeeds.
fn load_stack(
    name: &str,
    files: &[PathBuf],
    variables: &compose::load::Variables,
    progress: &Progress,
) -> anyhow::Result<compose::StackSpec> {
    let loaded = compose::load::load_files(files, variables).map_err(|error| {
        anyhow::anyhow!("the Compose file is invalid, nothing was deployed:\n{error}")
    })?;
    for warning in &loaded.warnings {
        progress.line(format_args!("warning: {warning}"));
    }
    compose::convert(name, &loaded.file).map_err(|error| {
        anyhow::anyhow!("the stack cannot be converted, nothing was deployed:\n{error}")
    })
}

async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let variables = args.variables.collect()?;
    let spec = load_stack(&args.name, &args.compose_files, &variables, &progress)?;
    progress.line(format_args!(
        "stack {}: {} service(s), {} network(s), {} secret(s), {} config(s) loaded",
        spec.name,
        spec.services.len(),
        spec.networks.len(),
        spec.secrets.len(),
        spec.configs.len()
    ));

    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let registry_auth = if args.with_registry_auth {
        credentials::for_images(spec.services.iter().map(|s| s.image.as_str()))?
    } else {
        None
    };
    let options = DeployOptions {
        resolve_image: match args.resolve_image {
            ResolveImageArg::Always => ResolveImage::Always,
            ResolveImageArg::Changed => ResolveImage::Changed,
            ResolveImageArg::Never => ResolveImage::Never,
        },
        prune: !args.no_prune,
        registry_auth,
        wait: (!args.detach).then_some(args.timeout),
        stability: args.stability,
        ..DeployOptions::default()
    };
    let result = engine
        .deploy_stack(&spec, &options, &|event| progress.line(event))
        .await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            if args.json {
                print_json(
                    &json!({ "stack": spec.name, "ok": false, "error": format!("{error:#}") }),
                );
            }
            return Err(anyhow::Error::new(error).context(format!("deploying stack {}", spec.name)));
        }
    };

    let count = |action: ServiceAction| {
        report
            .services
            .iter()
            .filter(|s| s.action == action)
            .count()
    };
    let summary = format!(
        "stack {}: {} created, {} updated, {} unchanged, {} removed{} in {:.1}s",
        report.stack,
        count(ServiceAction::Created),
        count(ServiceAction::Updated),
        count(ServiceAction::Unchanged),
        count(ServiceAction::Removed),
        if report.is_noop() {
            " (nothing to do)"
        } else {
            ""
        },
        progress.elapsed_secs()
    );
    if args.json {
        print_json(&json!({
            "stack": report.stack,
            "ok": true,
            "noop": report.is_noop(),
            "converged": report.converged,
            "services": report.services.iter().map(|s| json!({
                "name": s.name, "id": s.id, "action": s.action.to_string(), "image": s.image,
            })).collect::<Vec<_>>(),
            "created": report.created.iter().map(|(k, n)| json!({"kind": k.to_string(), "name": n})).collect::<Vec<_>>(),
            "removed": report.removed.iter().map(|(k, n)| json!({"kind": k.to_string(), "name": n})).collect::<Vec<_>>(),
            "warnings": report.warnings,
        }));
        progress.line(summary);
    } else {
        println!("{summary}");
    }
    Ok(())
}

async fn remove(args: RemoveArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for name in &args.names {
        let outcome = engine
            .remove_stack(name, &|event| match event {
                RemoveEvent::NothingFound => {
                    progress.line(format_args!("nothing found in stack: {name}"))
                }
                event => progress.line(event),
            })
            .await;
        match outcome {
            Ok(report) => {
                results.push(json!({
                    "stack": name, "ok": true, "found": report.found,
                    "removed": report.removed.iter().map(|(k, n)| json!({"kind": k.to_string(), "name": n})).collect::<Vec<_>>(),
                }));
                if !args.json {
                    println!("stack {name}: {} object(s) removed", report.removed.len());
                }
            }
            Err(error) => {
                progress.line(format_args!("error: removing stack {name}: {error:#}"));
                results.push(json!({ "stack": name, "ok": false, "error": format!("{error:#}") }));
                failed.push(name.clone());
            }
        }
    }
    if args.json {
        print_json(&serde_json::Value::Array(results));
    }
    if !failed.is_empty() {
        bail!("failed to remove stack(s): {}", failed.join(", "));
    }
    Ok(())
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let stacks = engine.list_stacks().await?;
    if args.json {
        print_json(&json!(
            stacks
                .iter()
                .map(|s| json!({"name": s.name, "services": s.services}))
                .collect::<Vec<_>>()
        ));
    } else {
        let rows: Vec<Vec<String>> = stacks
            .iter()
            .map(|s| vec![s.name.clone(), s.services.to_string()])
            .collect();
        print_table(&["NAME", "SERVICES"], &rows);
    }
    Ok(())
}

async fn tasks(args: StackArgs) -> anyhow::Result<()> {
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let tasks = engine.stack_tasks(&args.name).await?;
    if args.json {
        print_json(&json!(tasks.iter().map(|t| json!({
            "id": t.id, "name": t.name, "service": t.service, "image": t.image, "node": t.node,
            "desiredState": t.desired_state, "state": t.state, "since": t.since, "error": t.error,
        })).collect::<Vec<_>>()));
    } else {
        let now = std::time::SystemTime::now();
        let rows: Vec<Vec<String>> = tasks
            .iter()
            .map(|t| {
                let name = if t.is_history {
                    format!(" \\_ {}", t.name)
                } else {
                    t.name.clone()
                };
                vec![
                    short_id(&t.id),
                    name,
                    t.image.clone(),
                    t.node.clone(),
                    t.desired_state.clone(),
                    format!("{} {}", capitalized(&t.state), age(&t.since, now)),
                    t.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(
            &[
                "ID",
                "NAME",
                "IMAGE",
                "NODE",
                "DESIRED STATE",
                "CURRENT STATE",
                "ERROR",
            ],
            &rows,
        );
    }
    Ok(())
}

async fn services(args: StackArgs) -> anyhow::Result<()> {
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let services = engine.stack_services(&args.name).await?;
    if services.is_empty() {
        bail!("nothing found in stack: {}", args.name);
    }
    if args.json {
        print_json(&json!(
            services
                .iter()
                .map(|s| json!({
                    "id": s.id, "name": s.name, "mode": s.mode.to_string(), "running": s.running,
                    "desired": s.desired, "image": s.image, "ports": s.ports,
                }))
                .collect::<Vec<_>>()
        ));
    } else {
        let rows: Vec<Vec<String>> = services
            .iter()
            .map(|s| {
                vec![
                    short_id(&s.id),
                    s.name.clone(),
                    s.mode.to_string(),
                    format!("{}/{}", s.running, s.desired),
                    s.compose_image.clone().unwrap_or_else(|| s.image.clone()),
                    s.ports.join(", "),
                ]
            })
            .collect();
        print_table(&["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"], &rows);
    }
    Ok(())
}

fn config(args: ConfigArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let variables = args.variables.collect()?;
    match &args.specs {
        Some(name) => {
            let spec = load_stack(name, &args.compose_files, &variables, &progress)?;
            let services: Vec<_> = spec
                .services
                .iter()
                .map(|s| json!({"name": s.name, "spec": s.spec}))
                .collect();
            let networks: Vec<_> = spec
                .networks
                .iter()
                .map(|n| json!({"name": n.name, "external": n.external, "create": n.create}))
                .collect();
            print_json(&json!({ "stack": spec.name, "services": services, "networks": networks }));
        }
        None => {
            let loaded = compose::load::load_files(&args.compose_files, &variables)
                .map_err(|error| anyhow::anyhow!("the Compose file is invalid:\n{error}"))?;
            for warning in &loaded.warnings {
                progress.line(format_args!("warning: {warning}"));
            }
            let text =
                yaml_serde::to_string(&loaded.file).context("printing the loaded Compose model")?;
            print!("{text}");
        }
    }
    Ok(())
}

/// `running` as the docker CLI prints it: `Running`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}
