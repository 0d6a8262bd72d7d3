//! Reading a conf repo from a folder: [`read_conf`] walks the whole tree,
//! pairs the files that name a stack, an image or a definition, checks
//! each one and the references between them, and returns the valid
//! [`Conf`](super::Conf) with every problem found, all at once.
//!
//! Files are recognised by their names, in any folder: `docker-compose-<s>.yml`
//! (or `.yaml`) and `stack-<s>.json` for stacks, `Dockerfile-<i>` and
//! `image-<i>.json` for images; definitions are the folders of
//! `definitions/` at the root. A name must be unique in the repo. `.git`
//! is skipped; symbolic links to folders are not followed (git stores the
//! link, and what it points to inside the repo is walked anyway), and a
//! conf file that links out of the repo is a problem.
//!
//! A stack, image or definition with any problem is left out of the
//! [`Conf`](super::Conf) and listed in its `invalid_*` set instead, so that a plan can
//! skip it with a reason rather than remove it: a broken file never makes
//! voc tear down what is running.
//!
//! Synchronous and pure apart from reading files: the Compose loader runs
//! here, but nothing talks to Docker, git or the network.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::definition::{DEFINITIONS_FOLDER, read_definition};
use super::dependency::{DependencyNode, check_dependencies};
use super::error::Error;
use super::image::{BuildArg, ImageConfig};
use super::json::{JsonDocument, child, expected_names};
use super::model::{
    ConfProblem, ConfReport, ImageEntry, RepoPath, StackConfig, StackEntry, Subject,
};
use super::name::{check_name, suggest_name};
use super::repo_path::{escapes_repo, read_repo_file};
use super::stack::{ComposeCheck, StackSettings, check_compose, read_settings};
use super::suggest::did_you_mean;
use crate::compose;

/// What the caller knows beyond the repo (from the server configuration);
/// what is `None` is not checked.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The Docker targets a stack may name in `target`.
    pub targets: Option<BTreeSet<String>>,
    /// The secret variables a build arg may take as `$NAME`.
    pub secrets: Option<BTreeSet<String>>,
    /// Interpolation variables the server configuration provides to every
    /// stack (the environment variables it allows); a stack's own
    /// `variables` take precedence over them.
    pub variables: compose::Variables,
}

/// Reads the conf repo in `root` with nothing known beyond it (what
/// `voc validate` does): see [`read_conf_with`].
pub fn read_conf(root: &Path) -> ConfReport {
    read_conf_with(root, &ReadOptions::default())
}

/// Reads the conf repo in `root`: the valid stacks, images and definitions,
/// and every problem, sorted by file then line.
pub fn read_conf_with(root: &Path, options: &ReadOptions) -> ConfReport {
    let root = match root.canonicalize() {
        Ok(root) if root.is_dir() => root,
        Ok(root) => {
            return failed(
                &root,
                ConfProblem::new(root.display().to_string(), "is not a folder"),
            );
        }
        Err(error) => {
            let problem = ConfProblem::new(
                root.display().to_string(),
                format!("cannot be read: {error}"),
            );
            return failed(root, problem);
        }
    };
    let mut found = Found::default();
    found.walk(&root, "");

    let mut report = ConfReport {
        root: root.clone(),
        problems: std::mem::take(&mut found.problems),
        ..ConfReport::default()
    };
    read_definitions(&root, &found, &mut report);
    read_stacks(&root, &found, options, &mut report);
    read_images(&root, &found, options, &mut report);
    let by_place = |a: &ConfProblem, b: &ConfProblem| (&a.file, a.line).cmp(&(&b.file, b.line));
    report.problems.sort_by(by_place);
    report.warnings.sort_by(by_place);
    report
}

/// A report with one problem and nothing else.
fn failed(root: &Path, problem: ConfProblem) -> ConfReport {
    ConfReport {
        root: root.to_path_buf(),
        problems: vec![problem],
        ..ConfReport::default()
    }
}

/// The conf files of the repo, by the name they claim; each list keeps
/// every file that claims the name, in walk order, so duplicates can be
/// reported with both paths.
#[derive(Debug, Default)]
struct Found {
    compose_files: BTreeMap<String, Vec<RepoPath>>,
    stack_settings: BTreeMap<String, Vec<RepoPath>>,
    dockerfiles: BTreeMap<String, Vec<RepoPath>>,
    image_configs: BTreeMap<String, Vec<RepoPath>>,
    /// The folders of `definitions/`.
    definitions: BTreeSet<String>,
    /// Folders that cannot be read.
    problems: Vec<ConfProblem>,
}

/// What a file's name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ComposeFile,
    StackSettings,
    Dockerfile,
    ImageConfig,
}

/// The role and the claimed name of a file, from its name.
fn classify(file_name: &str) -> Option<(Role, &str)> {
    if let Some(rest) = file_name.strip_prefix("docker-compose-") {
        let name = rest
            .strip_suffix(".yml")
            .or_else(|| rest.strip_suffix(".yaml"))?;
        return Some((Role::ComposeFile, name));
    }
    if let Some(rest) = file_name.strip_prefix("stack-") {
        return Some((Role::StackSettings, rest.strip_suffix(".json")?));
    }
    if let Some(name) = file_name.strip_prefix("Dockerfile-") {
        // `Dockerfile-api.dockerignore` is the ignore file BuildKit reads
        // for `Dockerfile-api`, not another image.
        if name.ends_with(".dockerignore") {
            return None;
        }
        return Some((Role::Dockerfile, name));
    }
    if let Some(rest) = file_name.strip_prefix("image-") {
        return Some((Role::ImageConfig, rest.strip_suffix(".json")?));
    }
    None
}

impl Found {
    /// Walks the folder `folder` (a [`RepoPath`]) under `root`, in name
    /// order so that the report is the same on every machine.
    fn walk(&mut self, root: &Path, folder: &str) {
        let entries = match std::fs::read_dir(root.join(folder)) {
            Ok(entries) => entries,
            Err(error) => {
                self.problems.push(ConfProblem::new(
                    if folder.is_empty() { "." } else { folder },
                    format!("cannot be read: {error}"),
                ));
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            // Names that are not UTF-8 cannot name a stack or an image.
            let Ok(file_name) = entry.file_name().into_string() else {
                continue;
            };
            if file_name == ".git" {
                continue;
            }
            let path = if folder.is_empty() {
                file_name.clone()
            } else {
                format!("{folder}/{file_name}")
            };
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                if folder == DEFINITIONS_FOLDER {
                    self.definitions.insert(file_name);
                }
                self.walk(root, &path);
                continue;
            }
            if file_type.is_symlink() && entry.path().is_dir() {
                continue;
            }
            let Some((role, name)) = classify(&file_name) else {
                continue;
            };
            let files = match role {
                Role::ComposeFile => &mut self.compose_files,
                Role::StackSettings => &mut self.stack_settings,
                Role::Dockerfile => &mut self.dockerfiles,
                Role::ImageConfig => &mut self.image_configs,
            };
            files.entry(name.to_owned()).or_default().push(path);
        }
    }
}

fn read_definitions(root: &Path, found: &Found, report: &mut ConfReport) {
    for name in &found.definitions {
        let (entry, problems) = read_definition(root, name);
        report.problems.extend(problems);
        match entry {
            Some(entry) => {
                report.conf.definitions.insert(name.clone(), entry);
            }
            None => {
                report.conf.invalid_definitions.insert(name.clone());
            }
        }
    }
}

/// Problems about a name's files that do not depend on their content:
/// the naming rule (with a rename hint for each file) and files that claim
/// the same name.
fn name_problems(kind: &str, name: &str, file_groups: &[(&str, &[RepoPath])]) -> Vec<ConfProblem> {
    let mut problems = Vec::new();
    if let Err(why) = check_name(name) {
        for (_, files) in file_groups {
            for file in *files {
                let problem = ConfProblem::new(file, format!("{kind} name \"{name}\" {why}"));
                let file_name = file.rsplit('/').next().unwrap_or(file);
                let renamed = suggest_name(name).and_then(|fixed| {
                    let (prefix, suffix) = file_name.split_once(name)?;
                    Some(format!("rename it to {prefix}{fixed}{suffix}"))
                });
                problems.push(match renamed {
                    Some(hint) => problem.with_hint(hint),
                    None => problem.with_hint(format!(
                        "the name in the file name must be 1 to {} lowercase letters, digits, `_` or `-`, starting with a letter or a digit",
                        super::name::MAX_NAME_LEN
                    )),
                });
            }
        }
    }
    for (what, files) in file_groups {
        if let [first, others @ ..] = files {
            for other in others {
                problems.push(
                    ConfProblem::new(
                        other,
                        format!("{kind} \"{name}\" has two {what}: {first} and {other}"),
                    )
                    .with_hint("a name must be unique in the repo: rename or remove one of them"),
                );
            }
        }
    }
    problems
}

/// One stack, read as far as it goes.
struct StackFiles<'a> {
    compose_files: &'a [RepoPath],
    settings_file: Option<&'a RepoPath>,
    settings: Option<StackSettings>,
    compose: Option<ComposeCheck>,
}

fn read_stacks(root: &Path, found: &Found, options: &ReadOptions, report: &mut ConfReport) {
    let names: BTreeSet<&String> = found
        .compose_files
        .keys()
        .chain(found.stack_settings.keys())
        .collect();
    let none: Vec<RepoPath> = Vec::new();
    let mut stacks: BTreeMap<String, StackFiles<'_>> = BTreeMap::new();
    let mut problems = Vec::new();
    for name in names {
        let subject = Subject::Stack(name.clone());
        let mut stack_problems = Vec::new();
        let compose_files = found.compose_files.get(name).unwrap_or(&none);
        let settings_files = found.stack_settings.get(name).unwrap_or(&none);
        stack_problems.extend(name_problems(
            "stack",
            name,
            &[
                ("Compose files", compose_files),
                ("settings files", settings_files),
            ],
        ));
        let settings_file = settings_files.first();
        let settings = settings_file.and_then(|file| match read_repo_file(root, file) {
            Ok(text) => Some(read_settings(&text, file, name)),
            Err(problem) => {
                stack_problems.push(problem);
                None
            }
        });
        let config = settings
            .as_ref()
            .map(|s| s.config.clone())
            .unwrap_or_default();
        if let Some(settings) = &settings {
            stack_problems.extend(settings.problems.iter().cloned());
            if let Some(file) = settings_file {
                stack_problems.extend(check_references(file, settings, found, options));
            }
        }
        if compose_files.is_empty()
            && let Some(file) = settings_file
        {
            let folder = file.rsplit_once('/').map_or("", |(folder, _)| folder);
            let compose = if folder.is_empty() {
                format!("docker-compose-{name}.yml")
            } else {
                format!("{folder}/docker-compose-{name}.yml")
            };
            stack_problems.push(
                ConfProblem::new(
                    file,
                    format!("stack \"{name}\" has settings but no Compose file"),
                )
                .with_hint(format!("add {compose}, or remove {file}")),
            );
        }
        let mut variables = options.variables.clone();
        variables.extend(config.variables.clone());
        let mut compose = None;
        for file in compose_files {
            let check = match read_repo_file(root, file) {
                Ok(_) => check_compose(root, file, &variables),
                Err(problem) => ComposeCheck {
                    problems: vec![problem],
                    ..ComposeCheck::default()
                },
            };
            stack_problems.extend(check.problems.iter().cloned());
            report.warnings.extend(
                check
                    .warnings
                    .iter()
                    .map(|w| w.clone().about(subject.clone())),
            );
            compose.get_or_insert(check);
        }
        problems.extend(stack_problems.into_iter().map(|p| p.about(subject.clone())));
        stacks.insert(
            name.clone(),
            StackFiles {
                compose_files,
                settings_file,
                settings,
                compose,
            },
        );
    }

    let default_config = StackConfig::default();
    let nodes: BTreeMap<String, DependencyNode<'_>> = stacks
        .iter()
        .filter(|(_, stack)| !stack.compose_files.is_empty())
        .map(|(name, stack)| {
            let node = DependencyNode {
                settings: stack
                    .settings_file
                    .zip(stack.settings.as_ref())
                    .and_then(|(file, s)| Some((file.as_str(), s.document.as_ref()?))),
                config: stack
                    .settings
                    .as_ref()
                    .map_or(&default_config, |s| &s.config),
            };
            (name.clone(), node)
        })
        .collect();
    problems.extend(check_dependencies(&nodes));

    for (name, stack) in stacks {
        let subject = Subject::Stack(name.clone());
        let (Some(compose_file), Some(compose)) = (stack.compose_files.first(), stack.compose)
        else {
            report.conf.invalid_stacks.insert(name);
            continue;
        };
        if problems
            .iter()
            .any(|p| p.subject.as_ref() == Some(&subject))
        {
            report.conf.invalid_stacks.insert(name);
            continue;
        }
        let entry = StackEntry {
            name: name.clone(),
            compose_file: compose_file.clone(),
            config_file: stack.settings_file.cloned(),
            config: stack.settings.map(|s| s.config).unwrap_or_default(),
            reads: compose.reads,
            images: compose.images,
        };
        report.conf.stacks.insert(name, entry);
    }
    report.problems.extend(problems);
}

/// What a stack's settings name beyond the stacks: its definition and its
/// target.
fn check_references(
    file: &str,
    settings: &StackSettings,
    found: &Found,
    options: &ReadOptions,
) -> Vec<ConfProblem> {
    let mut problems = Vec::new();
    let line = |pointer: &str| settings.document.as_ref().and_then(|d| d.line(pointer));
    let config = &settings.config;
    if let Some(definition) = &config.definition
        && check_name(definition).is_ok()
        && !found.definitions.contains(definition)
    {
        let hint = did_you_mean(definition, found.definitions.iter().map(String::as_str))
            .unwrap_or_else(|| {
                format!(
                    "add the folder {DEFINITIONS_FOLDER}/{definition}/, or remove \"definition\""
                )
            });
        problems.push(
            ConfProblem::new(
                file,
                format!("definition \"{definition}\" does not exist in {DEFINITIONS_FOLDER}/"),
            )
            .at_line(line("/definition"))
            .with_hint(hint),
        );
    }
    if let Some(targets) = &options.targets
        && check_name(&config.target).is_ok()
        && !targets.contains(&config.target)
    {
        let hint =
            did_you_mean(&config.target, targets.iter().map(String::as_str)).unwrap_or_else(|| {
                let names: Vec<String> = targets.iter().cloned().collect();
                format!(
                    "the server's targets are {}",
                    super::json::quoted_list(&names)
                )
            });
        problems.push(
            ConfProblem::new(
                file,
                format!(
                    "target \"{}\" is not configured on the server",
                    config.target
                ),
            )
            .at_line(line("/target"))
            .with_hint(hint),
        );
    }
    problems
}

/// One image's JSON file, read as far as it goes.
struct ImageRead {
    config: Option<ImageConfig>,
    document: Option<JsonDocument>,
}

fn read_images(root: &Path, found: &Found, options: &ReadOptions, report: &mut ConfReport) {
    let names: BTreeSet<&String> = found
        .dockerfiles
        .keys()
        .chain(found.image_configs.keys())
        .collect();
    let none: Vec<RepoPath> = Vec::new();
    let mut problems = Vec::new();
    let mut candidates: BTreeMap<String, (ImageEntry, Option<JsonDocument>)> = BTreeMap::new();
    for name in names {
        let dockerfiles = found.dockerfiles.get(name).unwrap_or(&none);
        let config_files = found.image_configs.get(name).unwrap_or(&none);
        let mut image_problems = name_problems(
            "image",
            name,
            &[("Dockerfiles", dockerfiles), ("image files", config_files)],
        );
        let dockerfile = dockerfiles.first();
        let config_file = config_files.first();
        match (dockerfile, config_file) {
            (Some(dockerfile), None) => image_problems.push(
                ConfProblem::new(dockerfile, format!("image \"{name}\" has no image-{name}.json"))
                    .with_hint(format!(
                        "add image-{name}.json beside Dockerfile-{name} with at least a \"tag\" (how the image is named and where it is pushed)"
                    )),
            ),
            (None, Some(config_file)) => image_problems.push(
                ConfProblem::new(config_file, format!("image \"{name}\" has no Dockerfile-{name}"))
                    .with_hint(format!("add Dockerfile-{name} beside image-{name}.json, or remove image-{name}.json")),
            ),
            _ => {}
        }
        if let Some(dockerfile) = dockerfile
            && let Err(problem) = read_repo_file(root, dockerfile)
        {
            image_problems.push(problem);
        }
        let read = config_file.map(|file| read_image_config(root, file, &mut image_problems));
        if let (
            Some(dockerfile),
            Some(file),
            Some(ImageRead {
                config: Some(config),
                document,
            }),
        ) = (dockerfile, config_file, read)
        {
            let line = |pointer: &str| document.as_ref().and_then(|d| d.line(pointer));
            let context = match &config.context {
                Some(context) => context
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
                None => dockerfile
                    .rsplit_once('/')
                    .map_or("", |(folder, _)| folder)
                    .to_owned(),
            };
            let context_dir = root.join(&context);
            let shown = if context.is_empty() {
                "."
            } else {
                context.as_str()
            };
            if !context_dir.is_dir() {
                let why = if context_dir.exists() {
                    "is not a folder"
                } else {
                    "does not exist"
                };
                image_problems.push(
                    ConfProblem::new(file, format!("the build context \"{shown}\" {why}"))
                        .at_line(line("/context"))
                        .with_hint("\"context\" is a folder relative to the repo root"),
                );
            } else if escapes_repo(root, &context_dir) {
                image_problems.push(
                    ConfProblem::new(file, format!("the build context \"{shown}\" is a symbolic link that leads out of the repo"))
                        .at_line(line("/context")),
                );
            }
            if let Some(secrets) = &options.secrets {
                for (arg, value) in &config.build_args {
                    if let BuildArg::Secret(secret) = value
                        && !secrets.contains(secret)
                    {
                        image_problems.push(
                            ConfProblem::new(
                                file,
                                format!("build arg \"{arg}\" takes its value from secret \"{secret}\", which is not configured"),
                            )
                            .at_line(line(&child("/buildArgs", arg)))
                            .with_hint(format!("configure the secret variable {secret} on the server")),
                        );
                    }
                }
            }
            let entry = ImageEntry {
                name: name.clone(),
                dockerfile: dockerfile.clone(),
                config_file: file.clone(),
                config,
                context,
            };
            candidates.insert(name.clone(), (entry, document));
        }
        let subject = Subject::Image(name.clone());
        problems.extend(image_problems.into_iter().map(|p| p.about(subject.clone())));
        if !candidates.contains_key(name) {
            report.conf.invalid_images.insert(name.clone());
        }
    }

    // Two images built as the same tag would overwrite each other.
    let mut by_tag: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, (entry, _)) in &candidates {
        by_tag
            .entry(entry.config.tag.as_str())
            .or_default()
            .push(name);
    }
    for (tag, names) in by_tag.iter().filter(|(_, names)| names.len() > 1) {
        let others: Vec<String> = names.iter().map(|n| format!("image \"{n}\"")).collect();
        for name in names {
            let (entry, document) = &candidates[*name];
            problems.push(
                ConfProblem::new(
                    &entry.config_file,
                    format!("{} all build the tag {tag}", others.join(", ")),
                )
                .at_line(document.as_ref().and_then(|d| d.line("/tag")))
                .with_hint("give each image its own tag")
                .about(Subject::Image((*name).to_owned())),
            );
        }
    }

    for (name, (entry, _)) in candidates {
        if problems
            .iter()
            .any(|p| p.subject == Some(Subject::Image(name.clone())))
        {
            report.conf.invalid_images.insert(name);
        } else {
            report.conf.images.insert(name, entry);
        }
    }
    report.problems.extend(problems);
}

/// Reads and parses `image-<name>.json`, turning the parser's error into
/// problems with lines: every unknown field (with a "did you mean"), not
/// only the first.
fn read_image_config(root: &Path, file: &str, problems: &mut Vec<ConfProblem>) -> ImageRead {
    let text = match read_repo_file(root, file) {
        Ok(text) => text,
        Err(problem) => {
            problems.push(problem);
            return ImageRead {
                config: None,
                document: None,
            };
        }
    };
    let document = JsonDocument::parse(&text).ok();
    if let Some(document) = &document {
        problems.extend(document.duplicate_problems(file));
    }
    let config = match ImageConfig::parse(&text, file) {
        Ok(config) => Some(config),
        Err(Error::Syntax { line, message, .. }) => {
            problems.extend(image_syntax_problems(
                file,
                line,
                &message,
                document.as_ref(),
            ));
            None
        }
        Err(Error::Invalid { field, message, .. }) => {
            let pointer = field_pointer(&field);
            problems.push(
                ConfProblem::new(file, format!("\"{field}\" {message}"))
                    .at_line(document.as_ref().and_then(|d| d.line(&pointer))),
            );
            None
        }
        Err(error) => {
            problems.push(ConfProblem::new(file, error.to_string()));
            None
        }
    };
    ImageRead { config, document }
}

/// The problems behind a serde error of `image-<name>.json`.
fn image_syntax_problems(
    file: &str,
    line: usize,
    message: &str,
    document: Option<&JsonDocument>,
) -> Vec<ConfProblem> {
    let Some(document) = document else {
        return vec![
            ConfProblem::new(file, format!("is not valid JSON: {message}")).at_line(Some(line)),
        ];
    };
    if message.starts_with("unknown field")
        && let Some(object) = document.value.as_object()
    {
        // serde stops at the first unknown field, but lists the known ones:
        // enough to report them all.
        let known = expected_names(message);
        return object
            .keys()
            .filter(|key| !known.contains(key))
            .map(|key| {
                let hint =
                    did_you_mean(key, known.iter().map(String::as_str)).unwrap_or_else(|| {
                        format!("the known fields are {}", super::json::quoted_list(&known))
                    });
                ConfProblem::new(file, format!("unknown field \"{key}\""))
                    .at_line(document.line(&child("", key)))
                    .with_hint(hint)
            })
            .collect();
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return vec![
            ConfProblem::new(file, format!("field \"{field}\" is missing"))
                .at_line(Some(line))
                .with_hint(format!("add \"{field}\"")),
        ];
    }
    vec![ConfProblem::new(file, message.to_owned()).at_line(Some(line))]
}

/// `push[1]` → `/push/1`, `buildArgs.TOKEN` → `/buildArgs/TOKEN`: the
/// fields [`ImageConfig::parse`] names, as JSON pointers.
fn field_pointer(field: &str) -> String {
    let (head, key) = match field.split_once('.') {
        Some((head, key)) => (head, Some(key)),
        None => (field, None),
    };
    let mut pointer = match head.split_once('[') {
        Some((name, index)) => child(&child("", name), index.trim_end_matches(']')),
        None => child("", head),
    };
    if let Some(key) = key {
        pointer = child(&pointer, key);
    }
    pointer
}

#[cfg(test)]
mod tests;
