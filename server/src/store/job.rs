//! Jobs: what voc did or will do (build an image, deploy or remove a stack),
//! their status over time, and their log lines.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, Value, ValueRef};
use rusqlite::{OptionalExtension, Row, ToSql, params, params_from_iter};

use super::error::{Error, Result, Step};
use super::{Store, now_ms};
use crate::git::CommitId;

/// Number of jobs [`Store::list_jobs`] returns when the filter sets no limit.
pub const DEFAULT_LIST_LIMIT: u32 = 50;

/// Most jobs [`Store::list_jobs`] returns at once, whatever the limit asked.
pub const MAX_LIST_LIMIT: u32 = 1000;

/// How many jobs [`Store::end_interrupted_jobs`] ended, by the status
/// they were left in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interrupted {
    /// Jobs left running.
    pub running: usize,
    /// Jobs left queued.
    pub queued: usize,
}

/// A job's id: positive, increasing, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

impl JobId {
    /// Parses a job id from its decimal form (as the API and the CLI get
    /// it).
    pub fn parse(value: &str) -> Result<JobId> {
        match value.parse::<i64>() {
            Ok(id) if id > 0 => Ok(JobId(id)),
            _ => Err(Error::InvalidJobId {
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Defines an enum stored as text, with `as_str`, `parse`, `Display` and the
/// SQLite conversions.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and displayed name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named `text` (as [`Self::as_str`] gives it), if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.as_str().as_bytes())))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("unknown {} `{text}`", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

text_enum! {
    /// What a job does.
    JobKind {
        /// Build (and push) an image.
        Build = "build",
        /// Deploy (create or update) a stack.
        Deploy = "deploy",
        /// Remove a stack.
        Remove = "remove",
    }
}

text_enum! {
    /// Where a job is in its life: `queued`, then `running`, then one of
    /// the final statuses (a queued job may also end without running:
    /// skipped, or failed because what it waited for failed).
    JobStatus {
        /// Created, not started.
        Queued = "queued",
        /// Started, not finished.
        Running = "running",
        /// Finished and did what it should.
        Succeeded = "succeeded",
        /// Finished with an error.
        Failed = "failed",
        /// Not run, on purpose (nothing to do, or a dry run).
        Skipped = "skipped",
    }
}

impl JobStatus {
    /// Whether the job is over (succeeded, failed or skipped).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Skipped
        )
    }
}

impl ToSql for JobId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Integer(self.0)))
    }
}

impl FromSql for JobId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_i64().map(JobId)
    }
}

impl FromSql for CommitId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        CommitId::parse(value.as_str()?).map_err(|error| FromSqlError::Other(error.into()))
    }
}

/// A job to record, before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The run (one apply) it belongs to, if any: an opaque id chosen by
    /// the caller.
    pub run_id: Option<String>,
    /// What it does.
    pub kind: JobKind,
    /// The stack or image it is about.
    pub subject: String,
    /// The Docker endpoint (its name in voc's configuration).
    pub target: String,
    /// The commit it comes from, if any.
    pub commit: Option<CommitId>,
    /// Why voc does it (the planner's reason, for people).
    pub reason: String,
}

/// A recorded job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The run it belongs to, if any.
    pub run_id: Option<String>,
    /// What it does.
    pub kind: JobKind,
    /// The stack or image it is about.
    pub subject: String,
    /// The Docker endpoint.
    pub target: String,
    /// The commit it comes from, if any.
    pub commit: Option<CommitId>,
    /// Why voc does it.
    pub reason: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// What went wrong, for a failed job (or a note for a skipped one).
    pub error: Option<String>,
    /// When it was created (milliseconds since the Unix epoch).
    pub created_at: i64,
    /// When it started running.
    pub started_at: Option<i64>,
    /// When it finished.
    pub finished_at: Option<i64>,
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its position in the job's log, from 1.
    pub seq: i64,
    /// When it was written (milliseconds since the Unix epoch).
    pub at: i64,
    /// The text, without a line break.
    pub line: String,
}

/// Which jobs [`Store::list_jobs`] returns. Every set field must match; the
/// default matches every job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs about this stack or image.
    pub subject: Option<String>,
    /// Only jobs of this kind.
    pub kind: Option<JobKind>,
    /// Only jobs with this status.
    pub status: Option<JobStatus>,
    /// Only jobs of this run.
    pub run_id: Option<String>,
    /// At most this many jobs ([`DEFAULT_LIST_LIMIT`] when unset, never more
    /// than [`MAX_LIST_LIMIT`]).
    pub limit: Option<u32>,
    /// Only jobs older than this one (the last id of the previous page).
    pub before_id: Option<JobId>,
}

const JOB_COLUMNS: &str = "id, run_id, kind, subject, target, commit_sha, reason, status, \
     error, created_at, started_at, finished_at";

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get(0)?,
        run_id: row.get(1)?,
        kind: row.get(2)?,
        subject: row.get(3)?,
        target: row.get(4)?,
        commit: row.get(5)?,
        reason: row.get(6)?,
        status: row.get(7)?,
        error: row.get(8)?,
        created_at: row.get(9)?,
        started_at: row.get(10)?,
        finished_at: row.get(11)?,
    })
}

impl Store {
    /// Records a new job, `queued`, and returns its id. Blocking.
    pub fn create_job(&self, job: &NewJob) -> Result<JobId> {
        let connection = self.connection();
        connection
            .execute(
                "INSERT INTO jobs (run_id, kind, subject, target, commit_sha, reason, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    job.run_id,
                    job.kind,
                    job.subject,
                    job.target,
                    job.commit.as_ref().map(CommitId::as_str),
                    job.reason,
                    JobStatus::Queued,
                    now_ms(),
                ],
            )
            .map_err(
                Step::CreateJob {
                    kind: job.kind,
                    subject: job.subject.clone(),
                }
                .fail(),
            )?;
        Ok(JobId(connection.last_insert_rowid()))
    }

    /// Marks a queued job `running` and records when. Blocking.
    pub fn start_job(&self, id: JobId) -> Result<()> {
        let connection = self.connection();
        let changed = connection
            .execute(
                "UPDATE jobs SET status = ?1, started_at = ?2 WHERE id = ?3 AND status = ?4",
                params![JobStatus::Running, now_ms(), id, JobStatus::Queued],
            )
            .map_err(Step::StartJob(id).fail())?;
        if changed == 1 {
            return Ok(());
        }
        drop(connection);
        Err(self.refusal("starting", id)?)
    }

    /// Marks a queued or running job finished with a final `status` and, for
    /// a failure, its `error`; records when. Blocking.
    pub fn finish_job(&self, id: JobId, status: JobStatus, error: Option<&str>) -> Result<()> {
        if !status.is_final() {
            return Err(Error::NotFinal { id, status });
        }
        let connection = self.connection();
        let changed = connection
            .execute(
                "UPDATE jobs SET status = ?1, error = ?2, finished_at = ?3
                 WHERE id = ?4 AND status IN (?5, ?6)",
                params![
                    status,
                    error,
                    now_ms(),
                    id,
                    JobStatus::Queued,
                    JobStatus::Running
                ],
            )
            .map_err(Step::FinishJob(id).fail())?;
        if changed == 1 {
            return Ok(());
        }
        drop(connection);
        Err(self.refusal("finishing", id)?)
    }

    /// Ends, as failed, every job a voc that stopped left queued or
    /// running, and returns how many of each. Called at start, before the
    /// loops run: no job of this process exists yet, and none of the old
    /// one's can go on (a running job's process is gone, and a queued job
    /// waited in the old process's memory, which the new one does not
    /// have). Each error says why and what happens next. Blocking.
    pub fn end_interrupted_jobs(&self) -> Result<Interrupted> {
        let now = now_ms();
        let at = crate::timestamp::format_millis(now);
        // A job with a commit is a deploy, removal or build the conf repo
        // asks for: the reconcile after the start compares the targets with
        // the repo again and does, in jobs of its own, what the target
        // does not have yet (nothing, when the job got that far). A job
        // without one was a one-off asked through the API, which nothing
        // repeats.
        let ended = [
            (
                JobStatus::Running,
                true,
                format!(
                    "voc stopped while this job was running (found unfinished when voc \
                     started again at {at}); the reconcile after the start compares the \
                     target with the conf repo again and does what is left"
                ),
            ),
            (
                JobStatus::Running,
                false,
                format!(
                    "voc stopped while this job was running (found unfinished when voc \
                     started again at {at}); ask for it again if it is still needed"
                ),
            ),
            (
                JobStatus::Queued,
                true,
                format!(
                    "voc stopped before this job started (found queued when voc started \
                     again at {at}); the next reconcile applies its commit in a job of its own"
                ),
            ),
            (
                JobStatus::Queued,
                false,
                format!(
                    "voc stopped before this job started (found queued when voc started \
                     again at {at}); ask for it again if it is still needed"
                ),
            ),
        ];
        let fail = || Step::EndInterrupted.fail();
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(fail())?;
        let mut interrupted = Interrupted::default();
        for (status, with_commit, error) in &ended {
            let changed = transaction
                .execute(
                    "UPDATE jobs SET status = ?1, error = ?2, finished_at = ?3
                     WHERE status = ?4 AND (commit_sha IS NOT NULL) = ?5",
                    params![JobStatus::Failed, error, now, status, with_commit],
                )
                .map_err(fail())?;
            match status {
                JobStatus::Running => interrupted.running += changed,
                _ => interrupted.queued += changed,
            }
        }
        transaction.commit().map_err(fail())?;
        Ok(interrupted)
    }

    /// Why a status change matched no row: no such job, or a status that
    /// does not allow it.
    fn refusal(&self, step: &'static str, id: JobId) -> Result<Error> {
        Ok(match self.job(id)? {
            None => Error::JobNotFound { id },
            Some(job) => Error::InvalidTransition {
                step,
                id,
                status: job.status,
            },
        })
    }

    /// Appends one line to a job's log and returns its `seq`. Blocking.
    pub fn append_log(&self, id: JobId, line: &str) -> Result<i64> {
        self.append_logs(id, &[line])
    }

    /// Appends lines to a job's log in one transaction (much cheaper than
    /// one call per line) and returns the `seq` of the last one (of the
    /// log's last line when `lines` is empty; 0 for an empty log). Blocking.
    pub fn append_logs<S: AsRef<str>>(&self, id: JobId, lines: &[S]) -> Result<i64> {
        let fail = || Step::AppendLog(id).fail();
        let mut connection = self.connection();
        // Immediate (see `configure`): the max(seq) read and the inserts are
        // one step, also against another process appending to the same job.
        let transaction = connection.transaction().map_err(fail())?;
        let exists = transaction
            .query_row("SELECT 1 FROM jobs WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map_err(fail())?;
        if exists.is_none() {
            return Err(Error::JobNotFound { id });
        }
        let mut seq: i64 = transaction
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM job_logs WHERE job_id = ?1",
                [id],
                |row| row.get(0),
            )
            .map_err(fail())?;
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO job_logs (job_id, seq, at, line) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(fail())?;
            let at = now_ms();
            for line in lines {
                seq += 1;
                insert
                    .execute(params![id, seq, at, line.as_ref()])
                    .map_err(fail())?;
            }
        }
        transaction.commit().map_err(fail())?;
        Ok(seq)
    }

    /// The job with this id, if any. Blocking.
    pub fn job(&self, id: JobId) -> Result<Option<Job>> {
        self.connection()
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                job_from_row,
            )
            .optional()
            .map_err(Step::ReadJob(id).fail())
    }

    /// The job's log lines after `after_seq` (0: from the start), in order.
    /// A missing job has an empty log. Blocking.
    pub fn job_log(&self, id: JobId, after_seq: i64) -> Result<Vec<LogLine>> {
        let fail = || Step::ReadLog(id).fail();
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(
                "SELECT seq, at, line FROM job_logs WHERE job_id = ?1 AND seq > ?2 ORDER BY seq",
            )
            .map_err(fail())?;
        let lines = statement
            .query_map(params![id, after_seq], |row| {
                Ok(LogLine {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    line: row.get(2)?,
                })
            })
            .map_err(fail())?;
        lines.collect::<rusqlite::Result<_>>().map_err(fail())
    }

    /// The jobs matching `filter`, newest first. For the next page, set
    /// `before_id` to the last id of this one. Blocking.
    pub fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let fail = || Step::ListJobs.fail();
        // The SQL is made of fixed fragments only; every value is a
        // parameter.
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(subject) = &filter.subject {
            conditions.push("subject = ?");
            values.push(Value::Text(subject.clone()));
        }
        if let Some(kind) = filter.kind {
            conditions.push("kind = ?");
            values.push(Value::Text(kind.as_str().to_owned()));
        }
        if let Some(status) = filter.status {
            conditions.push("status = ?");
            values.push(Value::Text(status.as_str().to_owned()));
        }
        if let Some(run_id) = &filter.run_id {
            conditions.push("run_id = ?");
            values.push(Value::Text(run_id.clone()));
        }
        if let Some(before) = filter.before_id {
            conditions.push("id < ?");
            values.push(Value::Integer(before.0));
        }
        let limit = filter
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .min(MAX_LIST_LIMIT);
        values.push(Value::Integer(i64::from(limit)));
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs {filter_sql} ORDER BY id DESC LIMIT ?");

        let connection = self.connection();
        let mut statement = connection.prepare_cached(&sql).map_err(fail())?;
        let jobs = statement
            .query_map(params_from_iter(values.iter()), job_from_row)
            .map_err(fail())?;
        jobs.collect::<rusqlite::Result<_>>().map_err(fail())
    }
}
