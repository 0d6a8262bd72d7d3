-- 002: the last commit applied to each target.
--
-- One row per target (a Docker endpoint named in voc's configuration): the
-- commit voc last applied there, and when (milliseconds since the Unix
-- epoch). The next run plans from this commit to the branch's new head.
--
-- Choices:
-- * Upserted, no history: the jobs table is the history.
-- * `target` is the key and the table is WITHOUT ROWID: it is only read and
--   written by target.
-- * `commit_sha`, not `commit`: COMMIT is an SQL keyword.
CREATE TABLE applied_commits (
    target     TEXT    PRIMARY KEY,
    commit_sha TEXT    NOT NULL,
    at         INTEGER NOT NULL
) WITHOUT ROWID;
