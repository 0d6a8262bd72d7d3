//! The last commit applied to each target: where the next run starts
//! planning from.

use rusqlite::{OptionalExtension, params};

use super::error::{Result, Step};
use super::{Store, now_ms};
use crate::git::CommitId;

/// The commit voc last applied to a target, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedCommit {
    /// The commit.
    pub commit: CommitId,
    /// When it was recorded (milliseconds since the Unix epoch).
    pub at: i64,
}

impl Store {
    /// The commit last applied to `target`, `None` before the first apply.
    /// Blocking.
    pub fn last_applied(&self, target: &str) -> Result<Option<AppliedCommit>> {
        self.connection()
            .query_row(
                "SELECT commit_sha, at FROM applied_commits WHERE target = ?1",
                [target],
                |row| {
                    Ok(AppliedCommit {
                        commit: row.get(0)?,
                        at: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(
                Step::ReadApplied {
                    target: target.to_owned(),
                }
                .fail(),
            )
    }

    /// Records `commit` as applied to `target` now, replacing the previous
    /// one. Blocking.
    pub fn set_last_applied(&self, target: &str, commit: &CommitId) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO applied_commits (target, commit_sha, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (target) DO UPDATE SET commit_sha = excluded.commit_sha, at = excluded.at",
                params![target, commit.as_str(), now_ms()],
            )
            .map(drop)
            .map_err(
                Step::SetApplied {
                    target: target.to_owned(),
                }
                .fail(),
            )
    }
}
