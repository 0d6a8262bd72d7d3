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
//! here, but nothing talks to Docker, git or the network. Stacks are read
//! on a few threads (loading Compose files is most of the work, and each
//! stack's is independent); [`read_conf_cached`] also reuses the loads of
//! an earlier read whose inputs did not change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::compose_cache::ComposeCache;
use super::definition::{DEFINITIONS_FOLDER, read_definition};
use super::dependency::{DependencyNode, check_dependencies};
use super::error::Error;
use super::image::{BuildArg, ImageConfig};
use super::json::{JsonDocument, child, expected_names, quoted_list};
use super::model::{
    ConfProblem, ConfReport, ImageEntry, RepoPath, StackConfig, StackEntry, Subject,
};
use super::name::{check_name, suggest_name};
use super::repo_path::{escapes_repo, read_repo_file, read_repo_file_among};
use super::stack::{ComposeCheck, StackSettings, check_compose_text, read_settings};
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
    read(root, options, None)
}

/// [`read_conf_with`], reusing what `cache` holds for the Compose files
/// whose inputs did not change, and adding the others to it (save it
/// afterwards with [`ComposeCache::save`]). The report is the same.
pub fn read_conf_cached(root: &Path, options: &ReadOptions, cache: &ComposeCache) -> ConfReport {
    read(root, options, Some(cache))
}

fn read(root: &Path, options: &ReadOptions, cache: Option<&ComposeCache>) -> ConfReport {
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
    read_stacks(&root, &found, options, cache, &mut report);
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
    /// Every symbolic link met (outside `.git`), so that checking whether a
    /// path leads out of the repo needs no system call (see
    /// [`escapes_repo_among`](super::repo_path::escapes_repo_among)).
    links: BTreeSet<RepoPath>,
    /// Something could not be walked (a folder or an entry that cannot be
    /// read, a name that is not UTF-8): `links` may then miss some.
    unseen: bool,
}

impl Found {
    /// The repo's links, when the walk saw everything.
    fn known_links(&self) -> Option<&BTreeSet<RepoPath>> {
        (!self.unseen).then_some(&self.links)
    }
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
                self.unseen = true;
                self.problems.push(ConfProblem::new(
                    if folder.is_empty() { "." } else { folder },
                    format!("cannot be read: {error}"),
                ));
                return;
            }
        };
        let mut entries: Vec<_> = entries
            .filter_map(|entry| {
                self.unseen |= entry.is_err();
                entry.ok()
            })
            .collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            // Names that are not UTF-8 cannot name a stack or an image.
            let Ok(file_name) = entry.file_name().into_string() else {
                self.unseen = true;
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
                self.unseen = true;
                continue;
            };
            if file_type.is_symlink() {
                self.links.insert(path.clone());
            }
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
    /// The first Compose file, checked.
    compose: Option<ComposeCheck>,
    /// Its own problems (not yet `dependsOn` across stacks).
    problems: Vec<ConfProblem>,
    warnings: Vec<ConfProblem>,
}

fn read_stacks(
    root: &Path,
    found: &Found,
    options: &ReadOptions,
    cache: Option<&ComposeCache>,
    report: &mut ConfReport,
) {
    let names: BTreeSet<&String> = found
        .compose_files
        .keys()
        .chain(found.stack_settings.keys())
        .collect();
    let names: Vec<&String> = names.into_iter().collect();
    let mut stacks: BTreeMap<String, StackFiles<'_>> = map_in_parallel(&names, |name| {
        (
            (*name).clone(),
            read_stack(root, name, found, options, cache),
        )
    })
    .into_iter()
    .collect();
    for stack in stacks.values_mut() {
        report.problems.append(&mut stack.problems);
        report.warnings.append(&mut stack.warnings);
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
    report.problems.extend(check_dependencies(&nodes));

    for (name, stack) in stacks {
        let subject = Subject::Stack(name.clone());
        let (Some(compose_file), Some(compose)) = (stack.compose_files.first(), stack.compose)
        else {
            report.conf.invalid_stacks.insert(name);
            continue;
        };
        if report.has_problem(&subject) {
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
}

/// Reads the files of stack `name`: its settings, then each Compose file
/// with the settings' variables. Every problem is about the stack.
fn read_stack<'a>(
    root: &Path,
    name: &str,
    found: &'a Found,
    options: &ReadOptions,
    cache: Option<&ComposeCache>,
) -> StackFiles<'a> {
    let subject = Subject::Stack(name.to_owned());
    let compose_files = found.compose_files.get(name).map_or(&[][..], Vec::as_slice);
    let settings_files = found
        .stack_settings
        .get(name)
        .map_or(&[][..], Vec::as_slice);
    let mut problems = name_problems(
        "stack",
        name,
        &[
            ("Compose files", compose_files),
            ("settings files", settings_files),
        ],
    );
    let settings_file = settings_files.first();
    let links = found.known_links();
    let settings = settings_file.and_then(|file| match read_repo_file_among(root, file, links) {
        Ok(text) => Some(read_settings(&text, file, name)),
        Err(problem) => {
            problems.push(problem);
            None
        }
    });
    if let (Some(settings), Some(file)) = (&settings, settings_file) {
        problems.extend(settings.problems.iter().cloned());
        problems.extend(check_references(file, settings, found, options));
    }
    if let (None, Some(file)) = (compose_files.first(), settings_file) {
        let compose = match file.rsplit_once('/') {
            Some((folder, _)) => format!("{folder}/docker-compose-{name}.yml"),
            None => format!("docker-compose-{name}.yml"),
        };
        problems.push(
            ConfProblem::new(
                file,
                format!("stack \"{name}\" has settings but no Compose file"),
            )
            .with_hint(format!("add {compose}, or remove {file}")),
        );
    }

    let mut variables = options.variables.clone();
    if let Some(settings) = &settings {
        variables.extend(settings.config.variables.clone());
        // Secrets are decrypted only at deploy (`crate::secret`): checking
        // the file needs a value for each, not the real one, and must not
        // depend on voc's key.
        for variable in settings.config.secrets.keys() {
            variables.insert(variable.clone(), "voc-secret".to_owned());
        }
    }
    let mut compose = None;
    let mut warnings = Vec::new();
    for file in compose_files {
        let check = match read_repo_file_among(root, file, links) {
            Ok(text) => match cache {
                Some(cache) => cache.check(root, file, text, &variables, links),
                None => check_compose_text(root, file, text, &variables, links),
            },
            Err(problem) => ComposeCheck {
                problems: vec![problem],
                ..ComposeCheck::default()
            },
        };
        problems.extend(check.problems.iter().cloned());
        warnings.extend(check.warnings.iter().cloned());
        compose.get_or_insert(check);
    }
    let about = |problems: Vec<ConfProblem>| -> Vec<ConfProblem> {
        problems
            .into_iter()
            .map(|p| p.about(subject.clone()))
            .collect()
    };
    StackFiles {
        compose_files,
        settings_file,
        settings,
        compose,
        problems: about(problems),
        warnings: about(warnings),
    }
}

/// Fewer items than this per thread are not worth a thread (a small repo,
/// or a test, is read on the calling thread alone).
const ITEMS_PER_THREAD: usize = 64;

/// At most this many threads, whatever the machine: reading is also disk
/// work, and a server has other things to do.
const MAX_THREADS: usize = 8;

/// `read` applied to every item, in order, on as many threads as the
/// machine has cores (up to [`MAX_THREADS`], and no more than the items
/// are worth).
fn map_in_parallel<T: Sync, R: Send>(items: &[T], read: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores
        .min(MAX_THREADS)
        .min(items.len() / ITEMS_PER_THREAD)
        .max(1);
    if threads == 1 {
        return items.iter().map(read).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let read = &read;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(read).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                // A panic in a reading thread is a bug: let it surface
                // as if the read had run on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
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
                format!("the server's targets are {}", quoted_list(&names))
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

/// One image, read as far as it goes.
struct ImageFiles {
    /// The entry, when both files are there and the JSON file parses.
    entry: Option<ImageEntry>,
    /// The JSON file, for the lines of problems found later.
    document: Option<JsonDocument>,
    problems: Vec<ConfProblem>,
}

fn read_images(root: &Path, found: &Found, options: &ReadOptions, report: &mut ConfReport) {
    let names: BTreeSet<&String> = found
        .dockerfiles
        .keys()
        .chain(found.image_configs.keys())
        .collect();
    let mut candidates = BTreeMap::new();
    for name in names {
        let image = read_image(root, name, found, options);
        report.problems.extend(image.problems);
        match image.entry {
            Some(entry) => {
                candidates.insert(name.clone(), (entry, image.document));
            }
            None => {
                report.conf.invalid_images.insert(name.clone());
            }
        }
    }
    report.problems.extend(shared_tag_problems(&candidates));
    for (name, (entry, _)) in candidates {
        if report.has_problem(&Subject::Image(name.clone())) {
            report.conf.invalid_images.insert(name);
        } else {
            report.conf.images.insert(name, entry);
        }
    }
}

/// Reads the files of image `name`: both must be there, the JSON file
/// must parse, its context must be a folder of the repo, and its secret
/// build args configured (when the server says which are). Every problem
/// is about the image.
fn read_image(root: &Path, name: &str, found: &Found, options: &ReadOptions) -> ImageFiles {
    let dockerfiles = found.dockerfiles.get(name).map_or(&[][..], Vec::as_slice);
    let config_files = found.image_configs.get(name).map_or(&[][..], Vec::as_slice);
    let mut problems = name_problems(
        "image",
        name,
        &[("Dockerfiles", dockerfiles), ("image files", config_files)],
    );
    let dockerfile = dockerfiles.first();
    let config_file = config_files.first();
    match (dockerfile, config_file) {
        (Some(dockerfile), None) => problems.push(
            ConfProblem::new(
                dockerfile,
                format!("image \"{name}\" has no image-{name}.json"),
            )
            .with_hint(format!(
                "add image-{name}.json beside Dockerfile-{name} with at least a \"tag\""
            )),
        ),
        (None, Some(config_file)) => problems.push(
            ConfProblem::new(
                config_file,
                format!("image \"{name}\" has no Dockerfile-{name}"),
            )
            .with_hint(format!(
                "add Dockerfile-{name} beside image-{name}.json, or remove image-{name}.json"
            )),
        ),
        _ => {}
    }
    if let Some(dockerfile) = dockerfile
        && let Err(problem) = read_repo_file(root, dockerfile)
    {
        problems.push(problem);
    }
    let read = config_file.map(|file| read_image_config(root, file, &mut problems));
    let (entry, document) = match (dockerfile, config_file, read) {
        (
            Some(dockerfile),
            Some(file),
            Some(ImageRead {
                config: Some(config),
                document,
            }),
        ) => {
            let line = |pointer: &str| document.as_ref().and_then(|d| d.line(pointer));
            let context = context_folder(&config, dockerfile);
            if let Some(problem) = check_context(root, &context, file) {
                problems.push(problem.at_line(line("/context")));
            }
            for (arg, secret) in missing_secrets(&config, options) {
                problems.push(
                    ConfProblem::new(
                        file,
                        format!("build arg \"{arg}\" takes its value from secret \"{secret}\", which is not configured"),
                    )
                    .at_line(line(&child("/buildArgs", arg)))
                    .with_hint(format!("configure the secret variable {secret} on the server")),
                );
            }
            let entry = ImageEntry {
                name: name.to_owned(),
                dockerfile: dockerfile.clone(),
                config_file: file.clone(),
                config,
                context,
            };
            (Some(entry), document)
        }
        _ => (None, None),
    };
    let subject = Subject::Image(name.to_owned());
    ImageFiles {
        entry,
        document,
        problems: problems
            .into_iter()
            .map(|p| p.about(subject.clone()))
            .collect(),
    }
}

/// The build context as a [`RepoPath`]: the config's `context`, else the
/// Dockerfile's folder.
fn context_folder(config: &ImageConfig, dockerfile: &str) -> RepoPath {
    match &config.context {
        Some(context) => context
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        None => dockerfile
            .rsplit_once('/')
            .map_or("", |(folder, _)| folder)
            .to_owned(),
    }
}

/// The problem with the build context `context`, if it is not a folder of
/// the repo; about the image file `file`.
fn check_context(root: &Path, context: &str, file: &str) -> Option<ConfProblem> {
    let folder = root.join(context);
    let shown = if context.is_empty() { "." } else { context };
    if !folder.is_dir() {
        let why = if folder.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        return Some(
            ConfProblem::new(file, format!("the build context \"{shown}\" {why}"))
                .with_hint("\"context\" is a folder relative to the repo root"),
        );
    }
    escapes_repo(root, &folder).then(|| {
        ConfProblem::new(
            file,
            format!("the build context \"{shown}\" is a symbolic link that leads out of the repo"),
        )
    })
}

/// The build args (name, secret) whose secret the server does not have.
fn missing_secrets<'a>(config: &'a ImageConfig, options: &ReadOptions) -> Vec<(&'a str, &'a str)> {
    let Some(secrets) = &options.secrets else {
        return Vec::new();
    };
    config
        .build_args
        .iter()
        .filter_map(|(arg, value)| match value {
            BuildArg::Secret(secret) if !secrets.contains(secret) => {
                Some((arg.as_str(), secret.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// Images built as the same tag would overwrite each other: a problem on
/// each of them.
fn shared_tag_problems(
    candidates: &BTreeMap<String, (ImageEntry, Option<JsonDocument>)>,
) -> Vec<ConfProblem> {
    let mut by_tag: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, (entry, _)) in candidates {
        by_tag
            .entry(entry.config.tag.as_str())
            .or_default()
            .push(name.clone());
    }
    let mut problems = Vec::new();
    for (tag, names) in by_tag.iter().filter(|(_, names)| names.len() > 1) {
        for name in names {
            let Some((entry, document)) = candidates.get(name) else {
                continue;
            };
            problems.push(
                ConfProblem::new(
                    &entry.config_file,
                    format!(
                        "images {} are built as the same tag {tag}",
                        quoted_list(names)
                    ),
                )
                .at_line(document.as_ref().and_then(|d| d.line("/tag")))
                .with_hint("give each image its own tag")
                .about(Subject::Image(name.clone())),
            );
        }
    }
    problems
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
                let hint = did_you_mean(key, known.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("the known fields are {}", quoted_list(&known)));
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
