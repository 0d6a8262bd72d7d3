//! voc's own database: an embedded SQLite file under voc's data folder that
//! keeps the job history ([`Job`]s and their log lines) and, per target, the
//! last applied commit ([`AppliedCommit`]).
//!
//! - [`Store::open`] creates the file, turns on write-ahead logging, foreign
//!   keys and a busy timeout, and migrates the schema with the commented SQL
//!   files in `migrations/` (a file written by a newer voc is refused, see
//!   [`Error::NewerSchema`]).
//! - Jobs: [`Store::create_job`], [`Store::start_job`],
//!   [`Store::finish_job`], [`Store::append_log`] / [`Store::append_logs`],
//!   [`Store::job`], [`Store::job_log`], [`Store::list_jobs`]
//!   (`job.rs`).
//! - Applied commits: [`Store::last_applied`], [`Store::set_last_applied`]
//!   (`applied.rs`).
//! - Users, sessions and API tokens: [`Store::create_user`],
//!   [`Store::check_login`], [`Store::session_user`],
//!   [`Store::token_user`] and the rest (`user.rs`).
//!
//! One writer: a [`Store`] holds one connection behind a mutex, and clones
//! share it. The API is synchronous and blocking (SQLite is; a call may wait
//! up to [`BUSY_TIMEOUT`] for another process's write): async callers wrap
//! calls in `tokio::task::spawn_blocking`. What a job does is the
//! reconciler's business; the store only records it.

mod applied;
pub mod error;
mod job;
pub mod user;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

pub use applied::AppliedCommit;
pub use error::{Error, Result, Step};
pub use job::{
    DEFAULT_LIST_LIMIT, Interrupted, Job, JobFilter, JobId, JobKind, JobStatus, LogLine,
    MAX_LIST_LIMIT, NewJob,
};
pub use user::{
    ApiToken, Authenticated, CredentialId, NewApiToken, NewSession, NewUser, Secret, Session, User,
    UserError, UserResult, UserUpdate,
};

/// How long a write waits for another connection's write (another voc
/// process on the same file, e.g. the CLI beside the server) before failing
/// with "database is locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, one migration per file, applied in order. Never edit or
/// reorder a released migration: add a new file.
const MIGRATION_LIST: &[M<'static>] = &[
    M::up(include_str!("migrations/001_jobs.sql")),
    M::up(include_str!("migrations/002_applied_commits.sql")),
    M::up(include_str!("migrations/003_users.sql")),
];

const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

/// voc's database. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens the database file at `path`, creating it and its folder if
    /// needed, and migrates it to the current schema. Blocking.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, &MIGRATIONS)
    }

    /// [`Store::open`] with another migration list (tests simulate older and
    /// newer schemas with it).
    fn open_with(path: &Path, migrations: &Migrations<'_>) -> Result<Store> {
        if let Some(folder) = path.parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|source| Error::CreateFolder {
                path: folder.to_owned(),
                source,
            })?;
        }
        let mut connection = Connection::open(path).map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })?;
        configure(&mut connection, path)?;
        migrate(&mut connection, path, migrations)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                connection: Mutex::new(connection),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks that the database answers a read of its file (its schema),
    /// for readiness checks. Blocking: waits for the connection like any
    /// other call.
    pub fn check(&self) -> Result<()> {
        self.connection()
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|_| ())
            .map_err(Step::Check.fail())
    }

    /// The connection, for one operation at a time.
    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave the connection half
        // way: an open transaction is rolled back when its guard drops
        // during the unwind. So a poisoned lock is still safe to use.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sets the connection up; the order matters.
fn configure(connection: &mut Connection, path: &Path) -> Result<()> {
    let configure_error = |setting| {
        move |source| Error::Configure {
            path: path.to_owned(),
            setting,
            source,
        }
    };
    // First, so that the settings below, which may need a lock, wait for it.
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(configure_error("busy_timeout"))?;
    // WAL: readers (the UI, the API) never block the writer and the writer
    // never blocks them. The mode is stored in the file, so this is a no-op
    // after the first open; SQLite answers with the mode it kept.
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(configure_error("journal_mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::WalUnavailable {
            path: path.to_owned(),
            mode,
        });
    }
    // In WAL mode NORMAL is durable against application crashes and keeps
    // the database consistent on power loss (the last commits may be lost),
    // without an fsync per commit.
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(configure_error("synchronous"))?;
    // Off by default in SQLite, per connection: job logs rely on it.
    connection
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(configure_error("foreign_keys"))?;
    // Write transactions take the write lock when they begin. A deferred
    // transaction that reads and then writes cannot wait for the lock in WAL
    // mode (SQLite returns SQLITE_BUSY at once, whatever the busy timeout,
    // because its snapshot may be stale), so two voc processes writing at
    // once would fail instead of taking turns.
    connection.set_transaction_behavior(TransactionBehavior::Immediate);
    Ok(())
}

/// Brings the schema to the latest version, refusing a file from a newer
/// voc.
fn migrate(connection: &mut Connection, path: &Path, migrations: &Migrations<'_>) -> Result<()> {
    let migrate_error = |source| Error::Migrate {
        path: path.to_owned(),
        source,
    };
    // Two processes opening a new file at once may both see it at version 0;
    // the second then fails on tables the first created (its transaction is
    // rolled back). Check again: if the schema is now current, all is well.
    let mut attempts = 0;
    loop {
        let pending = migrations
            .pending_migrations(connection)
            .map_err(migrate_error)?;
        if pending < 0 {
            return Err(Error::NewerSchema {
                path: path.to_owned(),
                ahead: -pending,
            });
        }
        if pending == 0 {
            return Ok(());
        }
        match migrations.to_latest(connection) {
            Ok(()) => return Ok(()),
            Err(_) if attempts < 2 => attempts += 1,
            Err(source) => return Err(migrate_error(source)),
        }
    }
}

/// Now, in milliseconds since the Unix epoch (0 for a clock set before it).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
