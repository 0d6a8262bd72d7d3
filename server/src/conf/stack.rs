//! One stack's own files: `stack-<name>.json` read into a [`StackConfig`]
//! with every problem found in it, and `docker-compose-<name>.yml` loaded
//! as `docker stack deploy` would, into what the stack reads and the images
//! it runs.
//!
//! What needs the other stacks (`dependsOn`, see [`super::dependency`]) or
//! the other files of the repo (`definition`) is the walker's job.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Map;

use super::json::{JsonDocument, deserialize_fields};
use super::model::{ConfProblem, RepoPath, StackConfig};
use super::name::check_name;
use super::repo_path::{escapes_repo_among, to_repo_path};
use crate::compose;

/// `stack-<name>.json`, read as far as it goes.
#[derive(Debug)]
pub struct StackSettings {
    /// The settings made of the valid fields (defaults for the others), so
    /// that the Compose file can still be checked with the right variables.
    pub config: StackConfig,
    /// The parsed file, for the lines of problems found later.
    pub document: Option<JsonDocument>,
    /// What is wrong in the file itself.
    pub problems: Vec<ConfProblem>,
}

/// Reads `stack-<name>.json` (its text), checking what can be checked in
/// the file alone: shape and types, unknown fields, the `target` name,
/// `dependsOn` names, and `options` without a `definition`.
pub fn read_settings(text: &str, file: &str, stack: &str) -> StackSettings {
    let document = match JsonDocument::parse(text) {
        Ok(document) => document,
        Err(error) => {
            return StackSettings {
                config: StackConfig::default(),
                document: None,
                problems: vec![
                    ConfProblem::new(file, format!("is not valid JSON: {}", error.message))
                        .at_line(Some(error.line)),
                ],
            };
        }
    };
    let fields = deserialize_fields::<StackConfig>(
        &document,
        file,
        &Map::new(),
        "a JSON object of stack settings",
    );
    let mut problems = fields.problems;
    let config = fields.value.unwrap_or_default();
    let line = |pointer: &str| document.line(pointer);

    if let Err(why) = check_name(&config.target) {
        problems.push(
            ConfProblem::new(file, format!("target name \"{}\" {why}", config.target))
                .at_line(line("/target")),
        );
    }
    for (i, dependency) in config.depends_on.iter().enumerate() {
        let at = line(&format!("/dependsOn/{i}"));
        if let Err(why) = check_name(dependency) {
            problems.push(
                ConfProblem::new(
                    file,
                    format!("dependsOn names \"{dependency}\", which {why}"),
                )
                .at_line(at),
            );
        } else if dependency == stack {
            problems.push(
                ConfProblem::new(file, format!("stack \"{stack}\" depends on itself"))
                    .at_line(at)
                    .with_hint(format!("remove \"{stack}\" from dependsOn")),
            );
        } else if config.depends_on[..i].contains(dependency) {
            problems.push(
                ConfProblem::new(file, format!("dependsOn lists \"{dependency}\" twice"))
                    .at_line(at)
                    .with_hint("remove one of them"),
            );
        }
    }
    if let Some(definition) = &config.definition
        && let Err(why) = check_name(definition)
    {
        problems.push(
            ConfProblem::new(file, format!("definition name \"{definition}\" {why}"))
                .at_line(line("/definition")),
        );
    }
    for variable in config.secrets.keys() {
        if !is_secret_variable(variable) {
            problems.push(
                ConfProblem::new(
                    file,
                    format!("secrets has \"{variable}\", which is not a secret variable"),
                )
                .at_line(line(&format!("/secrets/{}", pointer_escape(variable))))
                .with_hint("voc writes secrets as VOC_SECRET_ and upper-case letters, digits and `_` (VOC_SECRET_DB_PASSWORD)"),
            );
        }
    }
    if config.options.is_some() && config.definition.is_none() {
        problems.push(
            ConfProblem::new(file, "\"options\" is given without a \"definition\"")
                .at_line(line("/options"))
                .with_hint("options are for the stack definition the stack was rendered from: add \"definition\" or remove \"options\""),
        );
    }
    StackSettings {
        config,
        document: Some(document),
        problems,
    }
}

/// True for `VOC_SECRET_` followed by upper-case letters, digits and `_`:
/// the names voc gives secret options' variables.
fn is_secret_variable(name: &str) -> bool {
    name.strip_prefix("VOC_SECRET_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// `name` as one JSON pointer token (`~` and `/` escaped).
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// What loading a stack's Compose file found.
#[derive(Debug, Default)]
pub struct ComposeCheck {
    /// The files in the repo that the deploy reads (see [`super::StackEntry::reads`]).
    pub reads: BTreeSet<RepoPath>,
    /// The images of its services.
    pub images: BTreeSet<String>,
    /// Why it cannot be deployed.
    pub problems: Vec<ConfProblem>,
    /// What `docker stack deploy` would warn about.
    pub warnings: Vec<ConfProblem>,
    /// The load succeeded and read no file outside the repo (an `env_file`
    /// or a secret file can be named by an absolute path or through `..`):
    /// the result depends only on the Compose file, the variables and the
    /// files in `reads`, so it can be cached (see
    /// [`super::compose_cache`]).
    pub from_repo_only: bool,
}

/// Loads the Compose file `file` (relative to `root`, which must be
/// canonical) with `variables`, as `docker stack deploy` would.
#[cfg(test)]
pub fn check_compose(root: &Path, file: &str, variables: &compose::Variables) -> ComposeCheck {
    let absolute = root.join(file);
    check_loaded(
        root,
        file,
        compose::load_files(std::slice::from_ref(&absolute), variables),
        None,
    )
}

/// [`check_compose`] on the file's text, already read (the walker reads it
/// to check it is UTF-8 in the repo, and need not read it twice), knowing
/// the repo's symbolic links when a walk found them all (see
/// [`escapes_repo_among`]).
pub fn check_compose_text(
    root: &Path,
    file: &str,
    text: String,
    variables: &compose::Variables,
    links: Option<&BTreeSet<RepoPath>>,
) -> ComposeCheck {
    let source = compose::ComposeSource {
        path: root.join(file),
        text,
    };
    check_loaded(
        root,
        file,
        compose::load_sources(std::slice::from_ref(&source), variables),
        links,
    )
}

fn check_loaded(
    root: &Path,
    file: &str,
    loaded: Result<compose::Loaded, compose::LoadError>,
    links: Option<&BTreeSet<RepoPath>>,
) -> ComposeCheck {
    let mut check = ComposeCheck::default();
    match loaded {
        Ok(loaded) => {
            check.from_repo_only = loaded
                .file
                .files_read
                .iter()
                .all(|read| to_repo_path(root, read).is_some());
            check.warnings = loaded
                .warnings
                .iter()
                .map(|w| to_problem(root, file, &w.location, &w.message))
                .collect();
            let binds = loaded.file.services.values().flat_map(|service| {
                service
                    .volumes
                    .iter()
                    .filter(|volume| volume.kind == "bind")
                    .filter_map(|volume| volume.source.as_deref().map(PathBuf::from))
            });
            for read in loaded.file.files_read.iter().cloned().chain(binds) {
                let Some(relative) = to_repo_path(root, &read) else {
                    continue;
                };
                if escapes_repo_among(root, &read, links) {
                    check.problems.push(
                        ConfProblem::new(
                            file,
                            format!("uses {relative}, a symbolic link that leads out of the repo"),
                        )
                        .with_hint("a conf repo must deploy the same wherever it is checked out: put the file itself in the repo"),
                    );
                }
                check.reads.insert(relative);
            }
            check.images = loaded
                .file
                .services
                .values()
                .filter_map(|service| service.image.clone())
                .collect();
        }
        Err(error) => {
            check.problems = error
                .problems
                .iter()
                .map(|p| to_problem(root, file, &p.location, &p.message))
                .collect();
        }
    }
    check
}

/// A loader problem or warning as a conf problem: its file relative to
/// the root, `"{field path} {message}"`, and the root taken out of the
/// paths the message names, so output reads the same on every machine.
fn to_problem(
    root: &Path,
    compose_file: &str,
    location: &compose::Location,
    message: &str,
) -> ConfProblem {
    let file = match to_repo_path(root, &location.file) {
        Some(relative) if !relative.is_empty() => relative,
        Some(_) => compose_file.to_owned(),
        None => location.file.display().to_string(),
    };
    let message = message.replace(&format!("{}/", root.display()), "");
    let message = if location.path.is_empty() {
        message
    } else {
        format!("{} {message}", location.path)
    };
    ConfProblem::new(file, message).at_line(location.line)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::conf::model::ResolveImageSetting;

    fn problems(text: &str) -> Vec<String> {
        read_settings(text, "s/stack-shop.json", "shop")
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_documented_example_is_read() {
        let text = r#"{
  "enabled": true,
  "target": "default",
  "variables": { "PUBLIC_PORT": "8080" },
  "definition": "webapp",
  "options": { "replicas": 2, "domain": "shop.example.org" },
  "dependsOn": ["db"],
  "prune": true,
  "resolveImage": "always",
  "withRegistryAuth": true,
  "selfHeal": false
}"#;
        let settings = read_settings(text, "stack-shop.json", "shop");
        assert!(settings.problems.is_empty(), "{:?}", settings.problems);
        let config = settings.config;
        assert_eq!(config.variables["PUBLIC_PORT"], "8080");
        assert_eq!(config.definition.as_deref(), Some("webapp"));
        assert_eq!(config.options.unwrap()["replicas"], 2);
        assert_eq!(config.depends_on, ["db"]);
        assert_eq!(config.resolve_image, ResolveImageSetting::Always);
    }

    #[test]
    fn an_empty_object_is_all_defaults() {
        let settings = read_settings("{}", "stack-shop.json", "shop");
        assert!(settings.problems.is_empty());
        assert_eq!(settings.config, StackConfig::default());
    }

    #[test]
    fn every_problem_of_the_file_is_reported_with_its_line() {
        let cases: &[(&str, &[&str])] = &[
            (
                "{\n  \"enabeld\": false\n}",
                &["s/stack-shop.json:2: unknown field \"enabeld\" (did you mean \"enabled\"?)"],
            ),
            (
                "{\n  \"enabled\": \"no\",\n  \"depends_on\": [\"db\"],\n  \"resolveImage\": \"sometimes\"\n}",
                &[
                    "s/stack-shop.json:2: field \"enabled\": invalid type: string \"no\", expected a boolean",
                    "s/stack-shop.json:3: unknown field \"depends_on\" (did you mean \"dependsOn\"?)",
                    "s/stack-shop.json:4: field \"resolveImage\": unknown variant `sometimes`, expected one of `always`, `changed`, `never`",
                ],
            ),
            (
                "{\"variables\": {\"PORT\": 8080}}",
                &[
                    "s/stack-shop.json:1: field \"variables\": invalid type: integer `8080`, expected a string",
                ],
            ),
            (
                "{\n\"target\": \"Prod\"}",
                &["s/stack-shop.json:2: target name \"Prod\" must be lowercase"],
            ),
            (
                "{\"dependsOn\": [\n\"db\",\n\"shop\",\n\"db\",\n\"Cache\"]}",
                &[
                    "s/stack-shop.json:3: stack \"shop\" depends on itself (remove \"shop\" from dependsOn)",
                    "s/stack-shop.json:4: dependsOn lists \"db\" twice (remove one of them)",
                    "s/stack-shop.json:5: dependsOn names \"Cache\", which must be lowercase",
                ],
            ),
            (
                "{\"definition\": \"web.app\"}",
                &[
                    "s/stack-shop.json:1: definition name \"web.app\" may only contain lowercase letters, digits, `_` and `-`, not `.`",
                ],
            ),
            (
                "{\n\"options\": {\"replicas\": 2}}",
                &[
                    "s/stack-shop.json:2: \"options\" is given without a \"definition\" (options are for the stack definition the stack was rendered from: add \"definition\" or remove \"options\")",
                ],
            ),
            (
                "{\"definition\": \"web\", \"options\": [1]}",
                &["s/stack-shop.json:1: field \"options\": invalid type: sequence, expected a map"],
            ),
            (
                "{\n  \"enabled\": true,\n}",
                &["s/stack-shop.json:3: is not valid JSON: trailing comma"],
            ),
            (
                "[]",
                &["s/stack-shop.json:1: must be a JSON object of stack settings, not an array"],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(problems(text), *expected, "{text}");
        }
    }

    #[test]
    fn secrets_are_encrypted_strings_under_secret_variable_names() {
        let settings = read_settings(
            r#"{"definition": "db", "secrets": {"VOC_SECRET_DB_PASSWORD": "YWdl", "VOC_SECRET_2": "x"}}"#,
            "stack-db.json",
            "db",
        );
        assert!(settings.problems.is_empty(), "{:?}", settings.problems);
        assert_eq!(settings.config.secrets["VOC_SECRET_DB_PASSWORD"], "YWdl");
        let cases: &[(&str, &str)] = &[
            (
                "{\n\"secrets\": {\n\"DB_PASSWORD\": \"x\"}}",
                "s/stack-shop.json:3: secrets has \"DB_PASSWORD\", which is not a secret variable (voc writes secrets as VOC_SECRET_ and upper-case letters, digits and `_` (VOC_SECRET_DB_PASSWORD))",
            ),
            (
                "{\"secrets\": {\"VOC_SECRET_\": \"x\"}}",
                "s/stack-shop.json:1: secrets has \"VOC_SECRET_\", which is not a secret variable (voc writes secrets as VOC_SECRET_ and upper-case letters, digits and `_` (VOC_SECRET_DB_PASSWORD))",
            ),
            (
                "{\"secrets\": {\"VOC_SECRET_db\": \"x\"}}",
                "s/stack-shop.json:1: secrets has \"VOC_SECRET_db\", which is not a secret variable (voc writes secrets as VOC_SECRET_ and upper-case letters, digits and `_` (VOC_SECRET_DB_PASSWORD))",
            ),
            (
                "{\"secrets\": {\"VOC_SECRET_A\": 1}}",
                "s/stack-shop.json:1: field \"secrets\": invalid type: integer `1`, expected a string",
            ),
            (
                "{\"secrets\": [\"VOC_SECRET_A\"]}",
                "s/stack-shop.json:1: field \"secrets\": invalid type: sequence, expected a map",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(problems(text), [*expected], "{text}");
        }
    }

    #[test]
    fn the_valid_fields_are_kept_when_others_are_wrong() {
        let settings = read_settings(
            r#"{"variables": {"A": "1"}, "prune": "yes"}"#,
            "stack-shop.json",
            "shop",
        );
        assert_eq!(settings.problems.len(), 1);
        assert_eq!(settings.config.variables["A"], "1");
        assert!(settings.config.prune);
    }

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_compose_file_gives_its_reads_and_images() {
        let dir = repo(&[
            (
                "shop/docker-compose-shop.yml",
                "services:\n  web:\n    image: ${IMAGE}\n    env_file: web.env\n    volumes:\n      - ./static:/srv:ro\n      - /var/log:/log\n      - data:/data\n    secrets: [key]\n  worker:\n    image: busybox\nvolumes:\n  data:\nsecrets:\n  key:\n    file: ../keys/key.txt\n",
            ),
            ("shop/web.env", "A=1\n"),
            ("keys/key.txt", "secret"),
        ]);
        let root = dir.path().canonicalize().unwrap();
        let variables = BTreeMap::from([("IMAGE".to_owned(), "shop/web:1".to_owned())]);
        let check = check_compose(&root, "shop/docker-compose-shop.yml", &variables);
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(
            check.reads.iter().collect::<Vec<_>>(),
            ["keys/key.txt", "shop/static", "shop/web.env"]
        );
        assert_eq!(
            check.images.iter().collect::<Vec<_>>(),
            ["busybox", "shop/web:1"]
        );
    }

    #[test]
    fn compose_problems_name_the_file_relative_to_the_root_and_the_field() {
        let dir = repo(&[(
            "shop/docker-compose-shop.yml",
            "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: lots\n    env_file: missing.env\n",
        )]);
        let root = dir.path().canonicalize().unwrap();
        let check = check_compose(&root, "shop/docker-compose-shop.yml", &BTreeMap::new());
        let lines: Vec<String> = check.problems.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines.contains(
                &"shop/docker-compose-shop.yml:5: services.web.deploy.replicas must be a integer"
                    .to_owned()
            ) || lines
                .iter()
                .any(|l| l
                    .starts_with("shop/docker-compose-shop.yml:5: services.web.deploy.replicas ")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("shop/docker-compose-shop.yml:6: services.web.env_file cannot read env file shop/missing.env")),
            "{lines:?}"
        );
    }

    #[test]
    fn unset_variables_are_warnings() {
        let dir = repo(&[(
            "docker-compose-shop.yml",
            "services:\n  web:\n    image: busybox\n    environment:\n      A: ${TAG}\n",
        )]);
        let root = dir.path().canonicalize().unwrap();
        let check = check_compose(&root, "docker-compose-shop.yml", &BTreeMap::new());
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(check.warnings.len(), 1, "{:?}", check.warnings);
        assert_eq!(check.warnings[0].file, "docker-compose-shop.yml");
        assert_eq!(check.warnings[0].line, Some(5));
    }
}
