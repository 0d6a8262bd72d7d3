//! Loading Compose files the way `docker stack deploy` does.
//!
//! [`load_files`] / [`load_sources`] run, for each file:
//!
//! 1. YAML parsing into a tree that keeps every line (`tree`, on the
//!    libyaml events of `event`), with the scalar rules of the CLI's YAML
//!    library, anchors, aliases and `<<` merge keys;
//! 2. the `version` check (3.0 to 3.13, or none for the newest) and the
//!    keys the CLI refuses outright (`extends`, `cpu_shares`, ...);
//! 3. interpolation of `${VAR}` from the explicit [`Variables`] (never the
//!    process environment), then the CLI's type casts (`interpolate`);
//! 4. validation against the v3 schema of the file's version (`schema`);
//! 5. normalisation into the typed model (`normalize`), reading
//!    `env_file`s and secret and config files;
//!
//! then merges the files (`merge`) and checks the references between
//! services and top-level objects (`semantic`). Every problem found on
//! the way is reported, each with its file, line and field path; nothing is
//! returned unless there are none. Warnings are what `docker stack deploy`
//! would print (ignored options) plus unset variables.
//!
//! Relative paths (`env_file`, secret and config `file`, bind sources) are
//! resolved against the folder of the first file, as the CLI does. A bind
//! source starting with `~` takes `HOME` from the variables; without it,
//! the file is rejected (the CLI would silently make a nonsense path).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Location, Problem, Warning};
use crate::model::ComposeFile;

mod env_file;
mod event;
mod field_path;
mod host_path;

pub use host_path::clean as clean_path;
mod image_reference;
mod interpolate;
mod merge;
mod normalize;
mod port_spec;
mod position;
mod quantity;
mod report;
mod schema;
mod semantic;
mod shell_words;
mod template;
mod tree;
mod volume_spec;

use field_path::FieldPath;
use position::{Locator, PositionIndex};
use report::Report;

/// The variables `${VAR}` expressions read (the CLI reads its process
/// environment; voc takes them explicitly).
pub type Variables = BTreeMap<String, String>;

/// A Compose file already in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeSource {
    /// Where the file is (or would be): names it in problems, and relative
    /// paths resolve against its folder.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// A successfully loaded Compose file.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The merged, validated model.
    pub file: ComposeFile,
    /// What `docker stack deploy` would warn about.
    pub warnings: Vec<Warning>,
}

/// Everything wrong with the Compose files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The newest v3 schema, used for files without `version`.
const NEWEST_MINOR: u8 = 13;

/// Reads and loads Compose files (`docker stack deploy -c a -c b`).
pub fn load_files(paths: &[PathBuf], variables: &Variables) -> Result<Loaded, LoadError> {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(ComposeSource { path, text }),
                Err(_) => problems.push(file_problem(&path, "is not UTF-8 text")),
            },
            Err(e) => problems.push(file_problem(&path, &format!("cannot be read: {e}"))),
        }
    }
    if !problems.is_empty() {
        return Err(LoadError { problems });
    }
    load_sources(&sources, variables)
}

/// Loads Compose files given in memory; files they name (`env_file`,
/// secrets, configs) are read from disk.
pub fn load_sources(sources: &[ComposeSource], variables: &Variables) -> Result<Loaded, LoadError> {
    let Some(first) = sources.first() else {
        return Err(LoadError {
            problems: vec![file_problem(Path::new(""), "no Compose file was given")],
        });
    };
    let first_path = std::path::absolute(&first.path).unwrap_or_else(|_| first.path.clone());
    let working_dir = first_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut locator = Locator::default();
    let mut merged: Option<ComposeFile> = None;
    let mut first_minor = None;
    for source in sources {
        let mut report = Report::new(&source.path);
        if let Some(loaded) = load_one(source, variables, &working_dir, &mut report) {
            let first_minor = *first_minor.get_or_insert(loaded.minor);
            if loaded.minor != first_minor {
                report.problem(
                    &FieldPath::root().key("version"),
                    loaded.version_line,
                    format!(
                        "is 3.{} but the first file is 3.{first_minor}: all files must have the same version",
                        loaded.minor
                    ),
                );
            }
            locator.push(source.path.clone(), loaded.index);
            merged = Some(match merged {
                None => loaded.file,
                Some(base) => merge::merge(base, loaded.file),
            });
        }
        problems.extend(report.problems);
        warnings.extend(report.warnings);
    }
    if let Some(file) = &merged {
        problems.extend(semantic::check(file, &locator));
    }
    // One problem per field: a value that failed interpolation also fails
    // validation, and the first message says why.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| {
        p.location.path.is_empty()
            || seen.insert((p.location.file.clone(), p.location.path.clone()))
    });
    match merged {
        Some(file) if problems.is_empty() => Ok(Loaded { file, warnings }),
        _ => Err(LoadError { problems }),
    }
}

/// One file, loaded as far as it goes.
struct LoadedFile {
    file: ComposeFile,
    minor: u8,
    version_line: usize,
    index: PositionIndex,
}

/// Loads one file; `None` when it cannot even be read as a Compose file
/// (its problems are in `report`).
fn load_one(
    source: &ComposeSource,
    variables: &Variables,
    working_dir: &Path,
    report: &mut Report,
) -> Option<LoadedFile> {
    let top = FieldPath::root();
    let mut root = match tree::parse_document(&source.text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            report.problem(
                &top,
                0,
                "is empty: a Compose file is a mapping with `services`",
            );
            return None;
        }
        Err(errors) => {
            for error in errors {
                report.problem(&top, error.line, error.message);
            }
            return None;
        }
    };
    if root.as_map().is_none() {
        report.problem(
            &top,
            root.line,
            "must be a mapping at the top level (with `services`, `networks`...)",
        );
        return None;
    }
    let version_line = root.entry("version").map_or(root.line, |e| e.line);
    // The CLI reads the version before interpolating, so `${V}` is no version.
    let minor = match root.get("version").map(|v| &v.value) {
        None => NEWEST_MINOR,
        Some(tree::Value::Str(version)) => match parse_version(version) {
            Some(minor) => minor,
            None => {
                let message = format!(
                    "{version:?} is not supported: docker stack deploy reads Compose file versions 3.0 to 3.{NEWEST_MINOR} (or no version, for the newest); version 2 files need converting"
                );
                report.problem(&top.key("version"), version_line, message);
                return None;
            }
        },
        Some(_) => {
            report.problem(
                &top.key("version"),
                version_line,
                "must be a string: quote it, like \"3.8\"",
            );
            return None;
        }
    };
    for service in root
        .get("services")
        .and_then(tree::Node::as_map)
        .unwrap_or_default()
    {
        for (key, advice) in schema::FORBIDDEN {
            if let Some(entry) = service.value.entry(key) {
                report.problem(
                    &top.key("services").key(&service.key).key(key),
                    entry.line,
                    format!("is not supported by docker stack deploy: {advice}"),
                );
            }
        }
    }
    interpolate::interpolate(&mut root, variables, report);
    schema::validate_file(&root, minor, report);
    let file = normalize::Normalizer {
        report,
        variables,
        working_dir,
        minor,
    }
    .file(&root);
    Some(LoadedFile {
        file,
        minor,
        version_line,
        index: PositionIndex::build(&root),
    })
}

/// `"3"`, `""` and `"3.0"`..`"3.13"` as the minor version.
fn parse_version(version: &str) -> Option<u8> {
    match version {
        "" | "3" => Some(NEWEST_MINOR),
        _ => {
            let minor = version.strip_prefix("3.")?;
            let parsed: u8 = minor.parse().ok()?;
            (parsed <= NEWEST_MINOR && minor == parsed.to_string()).then_some(parsed)
        }
    }
}

fn file_problem(path: &Path, message: &str) -> Problem {
    Problem {
        location: Location {
            file: path.to_path_buf(),
            line: None,
            path: String::new(),
        },
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests;
