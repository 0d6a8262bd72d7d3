//! Problems and warnings, each tied to a file, a line and a field path.

use std::fmt;
use std::path::PathBuf;

/// Where in a Compose file something was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line, when the YAML allows it to be known.
    pub line: Option<usize>,
    /// The field path, dot-separated (`services.web.deploy.replicas`);
    /// empty for the whole file.
    pub path: String,
}

/// One thing wrong with a Compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub location: Location,
    /// What, as a sentence without the location (`must be an integer`).
    pub message: String,
}

/// Something `docker stack deploy` would ignore or warn about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where.
    pub location: Location,
    /// What.
    pub message: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_else(|| self.file.to_string_lossy());
        write!(f, "{name}")?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Problem {
    /// `docker-compose-shop.yml:12: services.web.deploy.replicas must be an integer`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.path.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(
                f,
                "{}: {} {}",
                self.location, self.location.path, self.message
            )
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.path.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.location, self.location.path, self.message
            )
        }
    }
}
