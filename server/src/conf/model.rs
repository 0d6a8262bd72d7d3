//! The conf repo as voc understands it: its stacks, images and stack
//! definitions, each paired with its JSON file and validated.
//!
//! A [`Conf`] is what the repo walker makes of one checkout (one commit).
//! Paths are relative to the repo root, with `/` separators, as git names
//! them, so a [`Conf`] can be compared with a git diff directly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::image::ImageConfig;

/// A path relative to the repo root, `/`-separated (`shop/docker-compose-shop.yml`).
pub type RepoPath = String;

/// The whole conf repo at one commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conf {
    /// Stacks by name.
    pub stacks: BTreeMap<String, StackEntry>,
    /// Images by name.
    pub images: BTreeMap<String, ImageEntry>,
    /// Stack definitions by name.
    pub definitions: BTreeMap<String, DefinitionEntry>,
    /// Stacks that the repo has files for but that are not valid (their
    /// problems have `subject: Stack(name)`): not in [`Conf::stacks`], but
    /// known, so a plan skips them with a reason instead of removing them.
    pub invalid_stacks: BTreeSet<String>,
    /// Images that the repo has files for but that are not valid.
    pub invalid_images: BTreeSet<String>,
    /// Definition folders that are not valid.
    pub invalid_definitions: BTreeSet<String>,
}

/// One stack: `docker-compose-<name>.yml` and its optional `stack-<name>.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct StackEntry {
    /// The stack's name (the file names' suffix).
    pub name: String,
    /// The Compose file.
    pub compose_file: RepoPath,
    /// The `stack-<name>.json`, if there is one.
    pub config_file: Option<RepoPath>,
    /// The settings (defaults when there is no JSON file).
    pub config: StackConfig,
    /// Every file the stack's deploy depends on besides the two above:
    /// `env_file`s, secret and config files, relative bind-mount sources
    /// under the repo. A change to any of them redeploys the stack.
    pub reads: BTreeSet<RepoPath>,
    /// The images its services use, exactly as written after interpolation
    /// (to find the ones built from this repo).
    pub images: BTreeSet<String>,
}

/// `stack-<name>.json`. Every field is optional; unknown fields are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct StackConfig {
    /// `false` removes the stack from the swarm and keeps its files.
    pub enabled: bool,
    /// The Docker target, by name from the server configuration.
    pub target: String,
    /// Values for `${VAR}` interpolation in the Compose file.
    pub variables: BTreeMap<String, String>,
    /// The stack definition this stack was rendered from.
    pub definition: Option<String>,
    /// The options it was rendered with.
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its `writeOnly` options' values, encrypted to voc's key (see
    /// `crate::secret`), by interpolation variable
    /// (`VOC_SECRET_DB_PASSWORD`); decrypted into the variables at deploy.
    pub secrets: BTreeMap<String, String>,
    /// Stacks (on the same target) that must be deployed and healthy first.
    pub depends_on: Vec<String>,
    /// Remove services the Compose file no longer declares.
    pub prune: bool,
    /// When to pin images to digests.
    pub resolve_image: ResolveImageSetting,
    /// Send registry credentials with the deploy.
    pub with_registry_auth: bool,
    /// Redeploy when the live stack drifts from git.
    pub self_heal: bool,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            enabled: true,
            target: DEFAULT_TARGET.to_owned(),
            variables: BTreeMap::new(),
            definition: None,
            options: None,
            secrets: BTreeMap::new(),
            depends_on: Vec::new(),
            prune: true,
            resolve_image: ResolveImageSetting::Always,
            with_registry_auth: true,
            self_heal: false,
        }
    }
}

/// The name of the target a stack deploys to when it names none.
pub const DEFAULT_TARGET: &str = "default";

/// `resolveImage` in `stack-<name>.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolveImageSetting {
    /// Always ask the registry and pin digests.
    #[default]
    Always,
    /// Only when the image changed.
    Changed,
    /// Never.
    Never,
}

/// One image: `Dockerfile-<name>` and its required `image-<name>.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    /// The image's name (the file names' suffix).
    pub name: String,
    /// The Dockerfile.
    pub dockerfile: RepoPath,
    /// The `image-<name>.json`.
    pub config_file: RepoPath,
    /// The parsed JSON file.
    pub config: ImageConfig,
    /// The build context, relative to the repo root (`""` is the root).
    pub context: RepoPath,
}

/// One stack definition: the folder `definitions/<name>/`.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionEntry {
    /// The definition's name (its folder's name).
    pub name: String,
    /// The folder, relative to the repo root.
    pub folder: RepoPath,
    /// `definition.json`.
    pub meta: DefinitionMeta,
    /// `docker-compose.yml.tera`, the template's text.
    pub template: String,
    /// `README.md`, if any.
    pub readme: Option<String>,
}

/// `definition.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DefinitionMeta {
    /// A short title for people.
    pub title: String,
    /// What it deploys.
    #[serde(default)]
    pub description: String,
    /// Its version (stacks record which version rendered them).
    pub version: String,
    /// The options, as a JSON Schema of `"type": "object"`.
    pub options: serde_json::Value,
}

/// One thing wrong in the conf repo, for `voc validate` and for plans that
/// refuse to touch what a broken file describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfProblem {
    /// The file, relative to the repo root.
    pub file: RepoPath,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, as a sentence (`stack name "Shop" must be lowercase`).
    pub message: String,
    /// What to do about it, when there is something more to say.
    pub hint: Option<String>,
    /// The stack, image or definition it concerns, if one.
    pub subject: Option<Subject>,
}

/// What a problem or an action is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Subject {
    /// A stack, by name.
    Stack(String),
    /// An image, by name.
    Image(String),
    /// A stack definition, by name.
    Definition(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Stack(name) => write!(f, "stack {name}"),
            Subject::Image(name) => write!(f, "image {name}"),
            Subject::Definition(name) => write!(f, "definition {name}"),
        }
    }
}

impl ConfProblem {
    /// A problem with `file`, on no particular line, about nothing in
    /// particular; the methods below add the rest.
    pub fn new(file: impl Into<RepoPath>, message: impl Into<String>) -> Self {
        ConfProblem {
            file: file.into(),
            line: None,
            message: message.into(),
            hint: None,
            subject: None,
        }
    }

    /// The same problem, at `line` (when known).
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    /// The same problem, with what to do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem, about `subject`.
    pub fn about(mut self, subject: Subject) -> Self {
        self.subject = Some(subject);
        self
    }
}

impl fmt::Display for ConfProblem {
    /// `shop/stack-shop.json:3: unknown field "enabeld" (did you mean "enabled"?)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// A conf repo read from a folder: what is valid, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct ConfReport {
    /// The stacks, images and definitions that are valid.
    pub conf: Conf,
    /// Every problem, sorted by file then line.
    pub problems: Vec<ConfProblem>,
    /// What is not wrong but worth saying (what `docker stack deploy`
    /// would warn about: ignored keys, unset variables), sorted like
    /// `problems`. Warnings never make a stack invalid.
    pub warnings: Vec<ConfProblem>,
    /// The folder that was read.
    pub root: PathBuf,
}

impl ConfReport {
    /// True if no problem was found.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// True if `subject` has a problem (a plan skips it, with the reason).
    pub fn has_problem(&self, subject: &Subject) -> bool {
        self.problems
            .iter()
            .any(|p| p.subject.as_ref() == Some(subject))
    }
}
