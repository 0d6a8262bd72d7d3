//! The errors the API answers with: a sentence for people, and
//! `extensions.code` for programs (`VALIDATION`, `NOT_FOUND`, `FORBIDDEN`,
//! `UNAUTHENTICATED`, `CONFLICT`, `INTERNAL`). Validation errors also carry
//! `extensions.problems`: each with the `field` (an option, or a path in
//! the Compose file), the `file` and the `line` when known.

use async_graphql::{Error, ErrorExtensions};
use serde::Serialize;

/// What kind of failure, as `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The input is wrong; nothing was changed.
    Validation,
    /// The named thing does not exist.
    NotFound,
    /// The caller's role does not allow it.
    Forbidden,
    /// No valid session or token.
    Unauthenticated,
    /// It conflicts with the current state (a name in use, a file changed
    /// meanwhile).
    Conflict,
    /// voc failed (git, Docker, the store); the message says where.
    Internal,
}

impl ErrorCode {
    /// The code as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// One problem of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The option or field path (`options.replicas`,
    /// `services.web.deploy.replicas`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The file, when the problem is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line in that file, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

/// An error for the API: code, sentence, and for validation the problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The kind.
    pub code: ErrorCode,
    /// The sentence.
    pub message: String,
    /// Validation problems (empty for other codes).
    pub problems: Vec<FieldProblem>,
}

impl ApiError {
    /// An error of `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// A validation error listing `problems`.
    pub fn validation(message: impl Into<String>, problems: Vec<FieldProblem>) -> ApiError {
        ApiError {
            code: ErrorCode::Validation,
            message: message.into(),
            problems,
        }
    }

    /// `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    /// `CONFLICT`.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Conflict, message)
    }

    /// `INTERNAL`, from anything that failed inside voc, with its whole
    /// cause chain (the chain says where: git, Docker, the store).
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::Internal, format!("{error:#}"))
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Error {
        let problems = error.problems;
        let code = error.code;
        Error::new(error.message).extend_with(|_, extensions| {
            extensions.set("code", code.as_str());
            if !problems.is_empty()
                && let Ok(value) = async_graphql::to_value(&problems)
            {
                extensions.set("problems", value);
            }
        })
    }
}

impl FieldProblem {
    /// The problems the conf repo has with `subject` (a stack, image or
    /// definition whose files do not validate), each with its file and line.
    pub fn of_subject(
        report: &crate::conf::model::ConfReport,
        subject: &crate::conf::Subject,
    ) -> Vec<FieldProblem> {
        report
            .problems
            .iter()
            .filter(|problem| problem.subject.as_ref() == Some(subject))
            .map(|problem| FieldProblem {
                field: None,
                file: Some(problem.file.clone()),
                line: problem.line,
                message: problem.message.clone(),
            })
            .collect()
    }
}

/// The result of a resolver.
pub type ApiResult<T> = Result<T, Error>;
