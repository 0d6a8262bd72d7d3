//! `voc image build`: build an image from a Dockerfile through the Docker
//! API, optionally described by an `image-<name>.json` file of the conf repo,
//! and push it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{Progress, print_json};
use super::variables;
use crate::conf::image::ImageConfig;
use crate::engine::credentials;
use crate::engine::image::ImageBuild;
use crate::engine::{Engine, RegistryAuth};

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image (and push it with `--push`).
    Build(BuildArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The Dockerfile.
    #[arg(short = 'f', long = "file", value_name = "DOCKERFILE")]
    dockerfile: PathBuf,
    /// The image's `image-<name>.json`: tag, push destinations, context,
    /// build args, target and labels. Flags given here override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The conf repo's root, against which the config's `context` is
    /// resolved (default: the current folder).
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo_root: PathBuf,
    /// The build context (default: the config's `context`, else the
    /// Dockerfile's folder).
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,
    /// The tag to give the image (required without `--config`).
    #[arg(short = 't', long)]
    tag: Option<String>,
    /// A build arg, `KEY=VALUE` (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = variables::parse_assignment)]
    build_args: Vec<(String, String)>,
    /// The stage to build.
    #[arg(long)]
    target: Option<String>,
    /// An image label, `KEY=VALUE` (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = variables::parse_assignment)]
    labels: Vec<(String, String)>,
    /// Push to the config's `push` destinations (or to the tag without a
    /// config). Credentials come from the docker CLI's config.json, or from
    /// `VOC_REGISTRY_USER` and `VOC_REGISTRY_PASSWORD`.
    #[arg(long)]
    push: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: ImageCommand) -> anyhow::Result<()> {
    match command {
        ImageCommand::Build(args) => build(args).await,
    }
}

/// The build, with the push destinations, from the flags and the config.
fn plan_build(args: &BuildArgs) -> anyhow::Result<(ImageBuild, Vec<String>)> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(ImageConfig::parse(&text, path)?)
        }
        None => None,
    };
    let tag = match (&args.tag, &config) {
        (Some(tag), _) => tag.clone(),
        (None, Some(config)) => config.tag.clone(),
        (None, None) => {
            bail!("give the image a tag with --tag, or its image-<name>.json with --config")
        }
    };
    let context = match (&args.context, &config) {
        (Some(context), _) => context.clone(),
        (None, Some(config)) => config.context_dir(
            &args.repo_root,
            &relative_to(&args.dockerfile, &args.repo_root),
        ),
        (None, None) => args
            .dockerfile
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let context = if context.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        context
    };
    let mut build_args = match &config {
        // `$NAME` build args are secrets: in the CLI they come from voc's environment.
        Some(config) => config.resolve_build_args(&std::env::vars().collect())?,
        None => BTreeMap::new(),
    };
    build_args.extend(args.build_args.iter().cloned());
    let mut labels = config
        .as_ref()
        .map(|c| c.labels.clone())
        .unwrap_or_default();
    labels.extend(args.labels.iter().cloned());
    let target = args
        .target
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.target.clone()));
    let push = match &config {
        Some(config) if !config.push.is_empty() => config.push.clone(),
        _ => vec![tag.clone()],
    };
    let build = ImageBuild {
        dockerfile: args.dockerfile.clone(),
        context,
        tag,
        build_args,
        target,
        labels,
    };
    Ok((build, push))
}

fn relative_to(path: &Path, root: &Path) -> PathBuf {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    absolute(path)
        .strip_prefix(absolute(root))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

fn push_credentials(destination: &str) -> anyhow::Result<Option<RegistryAuth>> {
    let registry = credentials::registry_of(destination);
    if let (Ok(username), Ok(password)) = (
        std::env::var("VOC_REGISTRY_USER"),
        std::env::var("VOC_REGISTRY_PASSWORD"),
    ) {
        return Ok(Some(RegistryAuth {
            username,
            password,
            serveraddress: registry,
        }));
    }
    Ok(credentials::for_registry(&registry)?)
}

async fn build(args: BuildArgs) -> anyhow::Result<()> {
    let progress = Progress::start();
    let (build, destinations) = plan_build(&args)?;
    progress.line(format_args!(
        "building {} from {} (context {})",
        build.tag,
        build.dockerfile.display(),
        build.context.display()
    ));
    let engine = Engine::connect()
        .await
        .context("cannot reach the docker engine")?;
    let log = |line: &str| progress_line(line);
    let built = engine
        .build_image(&build, &log)
        .await
        .with_context(|| format!("building {}", build.tag))?;
    progress.line(format_args!("built {} ({})", built.tag, built.id));

    let mut pushed = Vec::new();
    if args.push {
        for destination in &destinations {
            progress.line(format_args!("pushing {destination}"));
            let auth = push_credentials(destination)?;
            let result = engine
                .push_image(&built.tag, destination, auth.as_ref(), &log)
                .await
                .with_context(|| format!("pushing {destination}"))?;
            progress.line(format_args!(
                "pushed {} ({})",
                result.destination, result.digest
            ));
            pushed.push(json!({ "destination": result.destination, "digest": result.digest }));
        }
    }
    if args.json {
        print_json(&json!({ "tag": built.tag, "id": built.id, "pushed": pushed }));
    } else {
        println!("{} {}", built.tag, built.id);
    }
    Ok(())
}

/// Build and push log lines go straight to stderr, indented under the step.
fn progress_line(line: &str) {
    let line = line.trim_end();
    if !line.is_empty() {
        eprintln!("         | {line}");
    }
}
