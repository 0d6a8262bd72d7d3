-- 001: jobs and their log lines.
--
-- A job is one unit of work voc runs for a commit on a target: build an
-- image, deploy or remove a stack. The jobs of one apply share a `run_id`,
-- so the UI can show a run as one group.
--
-- Choices:
-- * `id INTEGER PRIMARY KEY AUTOINCREMENT`: AUTOINCREMENT never reuses an
--   id, even after the newest jobs are deleted by a retention policy, so a
--   job id in a log, a URL or a notification always means the same job.
-- * `kind` and `status` are TEXT without a CHECK constraint: SQLite can only
--   change a CHECK by rebuilding the table, and new kinds will come. The Rust
--   enums (`JobKind`, `JobStatus`) are the gate; reading a value they do not
--   know is an error there.
-- * `run_id` is an opaque text chosen by the caller (nullable: a job started
--   by hand belongs to no run). A later `runs` table can reference it.
-- * `target` is the name of a Docker endpoint in voc's configuration.
-- * `commit_sha`, not `commit`: COMMIT is an SQL keyword. 40 hex digits;
--   nullable for jobs that do not come from a commit.
-- * Times are INTEGER milliseconds since the Unix epoch (UTC): they sort,
--   take 8 bytes, and need no time zone parsing. `started_at` and
--   `finished_at` stay NULL until the job gets there.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    commit_sha  TEXT,
    reason      TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'queued',
    error       TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);

-- Job lists are read newest first (by id), filtered by subject (a stack's
-- history), by status (what is running now) or by run (one apply). Each
-- index ends with `id` so the filter and the order come from one index.
CREATE INDEX jobs_by_subject ON jobs (subject, id);
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_run ON jobs (run_id, id) WHERE run_id IS NOT NULL;

-- Log lines, in the order they were written.
-- * Keyed by (job_id, seq) and WITHOUT ROWID: lines are only ever read by
--   job in seq order, so they are stored clustered that way, with no
--   second index.
-- * `seq` starts at 1 for each job; a client following a log asks for the
--   lines after the last seq it has.
-- * ON DELETE CASCADE: deleting old jobs deletes their logs.
CREATE TABLE job_logs (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    line   TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
