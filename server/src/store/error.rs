//! The store layer's error type: opening, migrating and querying voc's
//! SQLite database, each naming the file or the job and the step, with
//! SQLite's error kept as the source.

use std::fmt;
use std::path::PathBuf;

use super::{JobId, JobKind, JobStatus};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder that should hold the database could not be created.
    #[error("creating the store folder `{}`", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// The file system error.
        #[source]
        source: std::io::Error,
    },

    /// SQLite could not open or create the file.
    #[error("opening the store `{}`", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// A connection setting (`PRAGMA`) could not be applied.
    #[error("setting `{setting}` on the store `{}`", path.display())]
    Configure {
        /// The database file.
        path: PathBuf,
        /// The setting (`journal_mode`, `foreign_keys`...).
        setting: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite refused write-ahead logging (e.g. a file system without shared
    /// memory); voc needs it so readers do not block the writer.
    #[error("setting the store `{}` to WAL mode: the journal mode stayed `{mode}`", path.display())]
    WalUnavailable {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },

    /// The file was written by a newer voc, whose schema this one does not
    /// know; opening it would risk corrupting it.
    #[error(
        "opening the store `{}`: its schema is {ahead} migration(s) newer than this voc knows",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// How many migrations the file has that this voc lacks.
        ahead: i32,
    },

    /// A schema migration failed (it was rolled back).
    #[error("migrating the store `{}`", path.display())]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The migration library's error (it names the failing SQL).
        #[source]
        source: rusqlite_migration::Error,
    },

    /// A query failed.
    #[error("{step}")]
    Sql {
        /// What the store was doing.
        step: Step,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// No job has this id.
    #[error("job {id} does not exist")]
    JobNotFound {
        /// The id asked for.
        id: JobId,
    },

    /// The job is not in a state that allows the change (starting a job
    /// that is not queued, finishing one that already finished).
    #[error("{step} job {id}: it is {status}")]
    InvalidTransition {
        /// The change asked for (`starting`, `finishing`).
        step: &'static str,
        /// The job.
        id: JobId,
        /// Its current status.
        status: JobStatus,
    },

    /// `finish_job` was given a status that is not final.
    #[error("finishing job {id} as {status}: not a final status")]
    NotFinal {
        /// The job.
        id: JobId,
        /// The status given.
        status: JobStatus,
    },

    /// A string is not a job id.
    #[error("`{value}` is not a job id")]
    InvalidJobId {
        /// The rejected string.
        value: String,
    },
}

/// What the store was doing when a query failed, for [`Error::Sql`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Inserting a job.
    CreateJob {
        /// Its kind.
        kind: JobKind,
        /// Its subject.
        subject: String,
    },
    /// Marking a job running.
    StartJob(JobId),
    /// Marking a job finished.
    FinishJob(JobId),
    /// Appending log lines to a job.
    AppendLog(JobId),
    /// Reading a job.
    ReadJob(JobId),
    /// Reading a job's log.
    ReadLog(JobId),
    /// Listing jobs.
    ListJobs,
    /// Reading a target's last applied commit.
    ReadApplied {
        /// The target.
        target: String,
    },
    /// Recording a target's last applied commit.
    SetApplied {
        /// The target.
        target: String,
    },
    /// Checking that the database answers.
    Check,
    /// Ending the jobs a stopped voc left queued or running.
    EndInterrupted,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateJob { kind, subject } => {
                write!(f, "creating a {kind} job for `{subject}`")
            }
            Step::StartJob(id) => write!(f, "starting job {id}"),
            Step::FinishJob(id) => write!(f, "finishing job {id}"),
            Step::AppendLog(id) => write!(f, "appending to the log of job {id}"),
            Step::ReadJob(id) => write!(f, "reading job {id}"),
            Step::ReadLog(id) => write!(f, "reading the log of job {id}"),
            Step::ListJobs => f.write_str("listing jobs"),
            Step::ReadApplied { target } => {
                write!(f, "reading the last applied commit of target `{target}`")
            }
            Step::SetApplied { target } => {
                write!(f, "recording the last applied commit of target `{target}`")
            }
            Step::Check => f.write_str("reading the schema (a readiness check)"),
            Step::EndInterrupted => {
                f.write_str("ending the jobs left queued or running when voc last stopped")
            }
        }
    }
}

impl Step {
    /// Wraps a SQLite error of this step.
    pub(crate) fn fail(self) -> impl FnOnce(rusqlite::Error) -> Error {
        move |source| Error::Sql { step: self, source }
    }
}

/// The store layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
