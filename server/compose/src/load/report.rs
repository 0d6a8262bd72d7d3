//! The problems and warnings found while loading one file.

use std::path::{Path, PathBuf};

use super::field_path::FieldPath;
use crate::diagnostic::{Location, Problem, Warning};

/// Collects what is wrong with one Compose file, and what is merely odd.
#[derive(Debug)]
pub(crate) struct Report {
    file: PathBuf,
    /// Errors: the file cannot be deployed.
    pub problems: Vec<Problem>,
    /// Things `docker stack deploy` ignores or warns about.
    pub warnings: Vec<Warning>,
}

impl Report {
    /// An empty report for `file`.
    pub fn new(file: &Path) -> Self {
        Report {
            file: file.to_owned(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records a problem with the value at `path`, written on `line`.
    pub fn problem(&mut self, path: &FieldPath, line: usize, message: impl Into<String>) {
        let location = self.location(path, line);
        self.problems.push(Problem {
            location,
            message: message.into(),
        });
    }

    /// Records a warning about the value at `path`, written on `line`.
    pub fn warning(&mut self, path: &FieldPath, line: usize, message: impl Into<String>) {
        let location = self.location(path, line);
        self.warnings.push(Warning {
            location,
            message: message.into(),
        });
    }

    fn location(&self, path: &FieldPath, line: usize) -> Location {
        Location {
            file: self.file.clone(),
            line: (line > 0).then_some(line),
            path: path.to_string(),
        }
    }
}
