//! The conf layer's error type: a conf file that cannot be read as what it
//! should be, naming the file, and the line and column or the field.

use std::path::PathBuf;

/// What is wrong with a conf file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not valid JSON, or does not have the expected shape
    /// (unknown field, missing field, wrong type).
    #[error("parsing `{}` (line {line}, column {column}): {message}", path.display())]
    Syntax {
        /// The file, as the caller named it.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong (serde_json's message, without its position).
        message: String,
    },

    /// A field has a value the format does not allow.
    #[error("checking `{}`: `{field}` {message}", path.display())]
    Invalid {
        /// The file, as the caller named it.
        path: PathBuf,
        /// The field (`push[1]`, `buildArgs.TOKEN`).
        field: String,
        /// Which rule the value breaks.
        message: String,
    },

    /// A build arg takes its value from a secret that is not configured.
    #[error("resolving `{}`: build arg `{arg}` takes its value from secret `{secret}`, which is not configured", path.display())]
    MissingSecret {
        /// The file, as the caller named it.
        path: PathBuf,
        /// The build arg.
        arg: String,
        /// The secret's name (without `$`).
        secret: String,
    },
}

impl Error {
    /// A [`Error::Syntax`] from a serde_json error, its position moved out
    /// of the message into fields.
    pub(crate) fn syntax(path: impl Into<PathBuf>, error: &serde_json::Error) -> Self {
        let text = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = text.strip_suffix(&position).unwrap_or(&text).to_owned();
        Error::Syntax {
            path: path.into(),
            line: error.line(),
            column: error.column(),
            message,
        }
    }
}

/// The conf layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
