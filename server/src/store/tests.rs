//! Tests of the store against real SQLite files in temporary folders.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::*;
use crate::git::CommitId;

fn commit(n: u8) -> CommitId {
    CommitId::parse(&format!("{n:02x}").repeat(20)).unwrap()
}

fn new_job(kind: JobKind, subject: &str) -> NewJob {
    NewJob {
        run_id: None,
        kind,
        subject: subject.to_owned(),
        target: "default".to_owned(),
        commit: Some(commit(1)),
        reason: "compose file changed".to_owned(),
    }
}

/// The schema version in the file, read with a separate connection.
fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn opening_creates_the_folder_file_and_schema_and_reopening_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/nested/voc.db");
    let store = Store::open(&path).unwrap();
    assert!(path.is_file());
    assert_eq!(user_version(&path), MIGRATION_LIST.len() as i64);
    let id = store.create_job(&new_job(JobKind::Deploy, "web")).unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), MIGRATION_LIST.len() as i64);
    assert_eq!(store.job(id).unwrap().unwrap().subject, "web");
    MIGRATIONS.validate().unwrap();
}

#[test]
fn a_fresh_store_answers_its_readiness_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    store.check().unwrap();
}

#[test]
fn the_connection_uses_wal_foreign_keys_and_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    let store = Store::open(&path).unwrap();
    store.create_job(&new_job(JobKind::Build, "api")).unwrap();

    let connection = store.connection();
    let pragma = |name: &str| -> String {
        connection
            .query_row(&format!("PRAGMA {name}"), [], |row| {
                row.get::<_, rusqlite::types::Value>(0)
            })
            .map(|value| match value {
                rusqlite::types::Value::Integer(n) => n.to_string(),
                rusqlite::types::Value::Text(text) => text,
                other => format!("{other:?}"),
            })
            .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "wal");
    assert_eq!(pragma("foreign_keys"), "1");
    assert_eq!(pragma("busy_timeout"), BUSY_TIMEOUT.as_millis().to_string());
    assert_eq!(pragma("synchronous"), "1", "NORMAL");
    assert!(dir.path().join("voc.db-wal").exists());
    drop(connection);

    // Foreign keys at work: deleting a job deletes its log.
    let id = store.create_job(&new_job(JobKind::Build, "api")).unwrap();
    store.append_logs(id, &["a", "b"]).unwrap();
    let connection = store.connection();
    connection
        .execute("DELETE FROM jobs WHERE id = ?1", [id])
        .unwrap();
    let left: i64 = connection
        .query_row(
            "SELECT count(*) FROM job_logs WHERE job_id = ?1",
            [id],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_job_round_trips_through_its_life() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let new = NewJob {
        run_id: Some("run-7".into()),
        kind: JobKind::Deploy,
        subject: "shop".into(),
        target: "edge".into(),
        commit: Some(commit(0xab)),
        reason: "stack-shop.json changed".into(),
    };
    let before = now_ms();
    let id = store.create_job(&new).unwrap();
    let job = store.job(id).unwrap().unwrap();
    assert_eq!(
        job,
        Job {
            id,
            run_id: Some("run-7".into()),
            kind: JobKind::Deploy,
            subject: "shop".into(),
            target: "edge".into(),
            commit: Some(commit(0xab)),
            reason: "stack-shop.json changed".into(),
            status: JobStatus::Queued,
            error: None,
            created_at: job.created_at,
            started_at: None,
            finished_at: None,
        }
    );
    assert!(job.created_at >= before && job.created_at <= now_ms());

    store.start_job(id).unwrap();
    let running = store.job(id).unwrap().unwrap();
    assert_eq!(running.status, JobStatus::Running);
    assert!(running.started_at.unwrap() >= running.created_at);

    store
        .finish_job(id, JobStatus::Failed, Some("service web did not converge"))
        .unwrap();
    let failed = store.job(id).unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("service web did not converge")
    );
    assert!(failed.finished_at.unwrap() >= failed.started_at.unwrap());

    let bare = store
        .create_job(&NewJob {
            run_id: None,
            commit: None,
            reason: String::new(),
            ..new
        })
        .unwrap();
    let bare = store.job(bare).unwrap().unwrap();
    assert_eq!((bare.run_id, bare.commit), (None, None));
    assert_eq!(store.job(JobId(999)).unwrap(), None);
}

#[test]
fn status_changes_out_of_order_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let id = store.create_job(&new_job(JobKind::Build, "api")).unwrap();

    let error = store.finish_job(id, JobStatus::Running, None).unwrap_err();
    assert!(matches!(error, Error::NotFinal { .. }), "{error:?}");
    store.start_job(id).unwrap();
    let error = store.start_job(id).unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidTransition {
                status: JobStatus::Running,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("starting job {id}: it is running")
    );
    store.finish_job(id, JobStatus::Succeeded, None).unwrap();
    let error = store
        .finish_job(id, JobStatus::Failed, Some("late"))
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidTransition {
                status: JobStatus::Succeeded,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.job(id).unwrap().unwrap().status, JobStatus::Succeeded);

    let missing = JobId(12345);
    assert!(matches!(
        store.start_job(missing).unwrap_err(),
        Error::JobNotFound { .. }
    ));
    let error = store
        .finish_job(missing, JobStatus::Skipped, None)
        .unwrap_err();
    assert_eq!(error.to_string(), "job 12345 does not exist");

    // A queued job may end without running.
    let skipped = store.create_job(&new_job(JobKind::Remove, "old")).unwrap();
    store
        .finish_job(skipped, JobStatus::Skipped, Some("dry run"))
        .unwrap();
    let skipped = store.job(skipped).unwrap().unwrap();
    assert_eq!(skipped.status, JobStatus::Skipped);
    assert_eq!(skipped.started_at, None);
    assert!(skipped.finished_at.is_some());
}

#[test]
fn log_lines_keep_their_order_and_can_be_read_after_a_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let id = store.create_job(&new_job(JobKind::Build, "api")).unwrap();
    let other = store.create_job(&new_job(JobKind::Build, "web")).unwrap();

    assert_eq!(store.append_logs::<&str>(id, &[]).unwrap(), 0);
    assert_eq!(store.append_log(id, "Step 1/3 : FROM scratch").unwrap(), 1);
    assert_eq!(store.append_log(other, "other job").unwrap(), 1);
    assert_eq!(store.append_log(id, "Step 2/3 : COPY . /").unwrap(), 2);
    let batch: Vec<String> = (0..100).map(|n| format!("line {n}")).collect();
    assert_eq!(store.append_logs(id, &batch).unwrap(), 102);
    assert_eq!(store.append_logs::<&str>(id, &[]).unwrap(), 102);

    let all = store.job_log(id, 0).unwrap();
    assert_eq!(all.len(), 102);
    assert_eq!(
        all.iter().map(|l| l.seq).collect::<Vec<_>>(),
        (1..=102).collect::<Vec<_>>()
    );
    assert_eq!(all[0].line, "Step 1/3 : FROM scratch");
    assert_eq!(all[101].line, "line 99");
    assert!(all[0].at > 0 && all[0].at <= all[101].at);

    let tail = store.job_log(id, 100).unwrap();
    assert_eq!(
        tail.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
        ["line 98", "line 99"]
    );
    assert!(store.job_log(id, 102).unwrap().is_empty());
    assert_eq!(store.job_log(other, 0).unwrap().len(), 1);
    assert!(store.job_log(JobId(999), 0).unwrap().is_empty());
    assert!(matches!(
        store.append_log(JobId(999), "x").unwrap_err(),
        Error::JobNotFound { .. }
    ));
}

#[test]
fn list_jobs_filters_and_pages_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let mut ids = Vec::new();
    for n in 0..25 {
        let kind = [JobKind::Build, JobKind::Deploy, JobKind::Remove][n % 3];
        let subject = if n % 2 == 0 { "web" } else { "api" };
        let id = store
            .create_job(&NewJob {
                run_id: Some(format!("run-{}", n / 10)),
                ..new_job(kind, subject)
            })
            .unwrap();
        if n % 5 == 0 {
            store.start_job(id).unwrap();
        }
        ids.push(id);
    }
    let listed = |filter: JobFilter| -> Vec<JobId> {
        store
            .list_jobs(&filter)
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect()
    };
    let newest_first: Vec<JobId> = ids.iter().rev().copied().collect();

    assert_eq!(listed(JobFilter::default()), newest_first);
    let web = listed(JobFilter {
        subject: Some("web".into()),
        ..JobFilter::default()
    });
    assert_eq!(web.len(), 13);
    assert!(web.windows(2).all(|w| w[0] > w[1]));
    let deploys = listed(JobFilter {
        kind: Some(JobKind::Deploy),
        ..JobFilter::default()
    });
    assert_eq!(deploys.len(), 8);
    let running = listed(JobFilter {
        status: Some(JobStatus::Running),
        ..JobFilter::default()
    });
    assert_eq!(running, vec![ids[20], ids[15], ids[10], ids[5], ids[0]]);
    let run_one_web_deploys = listed(JobFilter {
        subject: Some("web".into()),
        kind: Some(JobKind::Deploy),
        run_id: Some("run-1".into()),
        ..JobFilter::default()
    });
    // n in 10..20, even, n % 3 == 1: 10, 16.
    assert_eq!(run_one_web_deploys, vec![ids[16], ids[10]]);
    assert!(
        listed(JobFilter {
            subject: Some("nothing".into()),
            ..JobFilter::default()
        })
        .is_empty()
    );

    // Pages of 10 by before_id cover every job once, in order.
    let mut pages = Vec::new();
    let mut before_id = None;
    loop {
        let page = listed(JobFilter {
            limit: Some(10),
            before_id,
            ..JobFilter::default()
        });
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        before_id = page.last().copied();
        pages.push(page);
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.concat(), newest_first);
    assert_eq!(
        listed(JobFilter {
            limit: Some(0),
            ..JobFilter::default()
        }),
        vec![]
    );
}

#[test]
fn the_last_applied_commit_is_kept_per_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.last_applied("default").unwrap(), None);

    store.set_last_applied("default", &commit(1)).unwrap();
    store.set_last_applied("edge", &commit(2)).unwrap();
    store.set_last_applied("default", &commit(3)).unwrap();
    let default = store.last_applied("default").unwrap().unwrap();
    assert_eq!(default.commit, commit(3));
    assert!(default.at > 0 && default.at <= now_ms());
    drop(store);

    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.last_applied("default").unwrap().unwrap().commit,
        commit(3)
    );
    assert_eq!(
        store.last_applied("edge").unwrap().unwrap().commit,
        commit(2)
    );
    assert_eq!(store.last_applied("other").unwrap(), None);
}

#[test]
fn writers_on_many_threads_and_connections_all_succeed() {
    const THREADS: usize = 8;
    const JOBS: usize = 40;
    const LINES: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    let shared = Store::open(&path).unwrap();
    let common = shared
        .create_job(&new_job(JobKind::Deploy, "common"))
        .unwrap();

    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            // Half share one connection (clones); half open their own, as
            // another voc process would, and contend for SQLite's lock.
            let store = if thread % 2 == 0 {
                shared.clone()
            } else {
                Store::open(&path).unwrap()
            };
            scope.spawn(move || {
                for n in 0..JOBS {
                    let id = store
                        .create_job(&new_job(JobKind::Build, &format!("t{thread}")))
                        .unwrap();
                    store.start_job(id).unwrap();
                    let lines: Vec<String> = (0..LINES).map(|l| format!("{n}.{l}")).collect();
                    store.append_logs(id, &lines).unwrap();
                    store
                        .append_log(common, &format!("t{thread} j{n}"))
                        .unwrap();
                    store.finish_job(id, JobStatus::Succeeded, None).unwrap();
                    store
                        .set_last_applied(&format!("target-{}", n % 3), &commit(thread as u8))
                        .unwrap();
                }
            });
        }
    });

    let jobs = shared
        .list_jobs(&JobFilter {
            kind: Some(JobKind::Build),
            status: Some(JobStatus::Succeeded),
            limit: Some(MAX_LIST_LIMIT),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(jobs.len(), THREADS * JOBS);
    for job in jobs.iter().take(20) {
        assert_eq!(shared.job_log(job.id, 0).unwrap().len(), LINES);
    }
    let common_log = shared.job_log(common, 0).unwrap();
    assert_eq!(
        common_log.iter().map(|l| l.seq).collect::<Vec<_>>(),
        (1..=(THREADS * JOBS) as i64).collect::<Vec<_>>()
    );
    let distinct: HashSet<&str> = common_log.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(distinct.len(), THREADS * JOBS);
}

#[test]
fn many_processes_opening_a_new_file_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    let stores: Vec<Store> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| Store::open(&path))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap().unwrap())
            .collect()
    });
    for store in &stores {
        store.create_job(&new_job(JobKind::Deploy, "web")).unwrap();
    }
    assert_eq!(user_version(&path), MIGRATION_LIST.len() as i64);
    assert_eq!(stores[0].list_jobs(&JobFilter::default()).unwrap().len(), 8);
}

#[test]
fn a_file_from_an_older_schema_is_migrated_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    // A file as the first release left it: only migration 001.
    {
        let mut connection = Connection::open(&path).unwrap();
        Migrations::from_slice(&MIGRATION_LIST[..1])
            .to_latest(&mut connection)
            .unwrap();
        connection
            .execute(
                "INSERT INTO jobs (kind, subject, target, status, created_at)
                 VALUES ('deploy', 'legacy', 'default', 'succeeded', 1)",
                [],
            )
            .unwrap();
    }
    assert_eq!(user_version(&path), 1);

    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), MIGRATION_LIST.len() as i64);
    let jobs = store.list_jobs(&JobFilter::default()).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].subject.as_str(), jobs[0].status),
        ("legacy", JobStatus::Succeeded)
    );
    store.set_last_applied("default", &commit(9)).unwrap();
    drop(store);

    // The next release adds a migration: it runs on the existing file and
    // keeps the data.
    let mut next: Vec<M<'static>> = MIGRATION_LIST.to_vec();
    next.push(M::up(
        "ALTER TABLE jobs ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'webhook';",
    ));
    let store = Store::open_with(&path, &Migrations::new(next)).unwrap();
    assert_eq!(user_version(&path), MIGRATION_LIST.len() as i64 + 1);
    let triggered_by: String = store
        .connection()
        .query_row(
            "SELECT triggered_by FROM jobs WHERE subject = 'legacy'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(triggered_by, "webhook");
    assert_eq!(
        store.last_applied("default").unwrap().unwrap().commit,
        commit(9)
    );
    drop(store);

    // This voc does not know that migration: it refuses the newer file.
    let error = Store::open(&path).unwrap_err();
    assert!(
        matches!(error, Error::NewerSchema { ahead: 1, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("1 migration(s) newer"),
        "{error}"
    );
}

#[test]
fn a_value_this_voc_does_not_know_is_an_error_naming_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let id = store.create_job(&new_job(JobKind::Build, "api")).unwrap();
    store
        .connection()
        .execute("UPDATE jobs SET kind = 'teleport' WHERE id = ?1", [id])
        .unwrap();
    let error = store.job(id).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Sql {
                step: Step::ReadJob(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.to_string(), format!("reading job {id}"));
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("teleport"), "{cause}");
}

#[test]
fn an_unusable_path_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "not a folder").unwrap();
    let error = Store::open(&file.join("voc.db")).unwrap_err();
    assert!(matches!(error, Error::CreateFolder { .. }), "{error:?}");

    std::fs::write(
        dir.path().join("junk.db"),
        "this is not sqlite, just text ".repeat(100),
    )
    .unwrap();
    let error = Store::open(&dir.path().join("junk.db")).unwrap_err();
    assert!(error.to_string().contains("junk.db"), "{error}");
}

#[test]
fn enums_and_ids_parse_what_they_print() {
    for kind in JobKind::ALL {
        assert_eq!(JobKind::parse(kind.as_str()), Some(*kind));
    }
    for status in JobStatus::ALL {
        assert_eq!(JobStatus::parse(&status.to_string()), Some(*status));
    }
    assert_eq!(JobKind::parse("Deploy"), None);
    assert!(JobStatus::Skipped.is_final() && !JobStatus::Running.is_final());
    assert_eq!(JobId::parse("42").unwrap(), JobId(42));
    for bad in ["", "0", "-1", "4x", "99999999999999999999"] {
        assert!(
            matches!(JobId::parse(bad), Err(Error::InvalidJobId { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn jobs_left_queued_or_running_end_as_failed_saying_why_and_finished_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let running = store.create_job(&new_job(JobKind::Deploy, "shop")).unwrap();
    store.start_job(running).unwrap();
    let one_off = store
        .create_job(&NewJob {
            commit: None,
            ..new_job(JobKind::Deploy, "blog")
        })
        .unwrap();
    store.start_job(one_off).unwrap();
    let queued = store.create_job(&new_job(JobKind::Remove, "old")).unwrap();
    let queued_one_off = store
        .create_job(&NewJob {
            commit: None,
            ..new_job(JobKind::Build, "api")
        })
        .unwrap();
    let done = store.create_job(&new_job(JobKind::Deploy, "web")).unwrap();
    store.start_job(done).unwrap();
    store.finish_job(done, JobStatus::Succeeded, None).unwrap();

    let before = now_ms();
    assert_eq!(
        store.end_interrupted_jobs().unwrap(),
        Interrupted {
            running: 2,
            queued: 2
        }
    );
    let ended = |id| {
        let job = store.job(id).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Failed, "job {id}");
        assert!(job.finished_at.unwrap() >= before, "job {id}");
        job.error.unwrap()
    };
    let sentence = ended(running);
    assert!(
        sentence.starts_with(
            "voc stopped while this job was running (found unfinished when voc started again at "
        ) && sentence.ends_with(
                "); the reconcile after the start compares the target with the conf repo again and does what is left"
            ),
        "{sentence}"
    );
    assert!(
        ended(one_off).ends_with("); ask for it again if it is still needed"),
        "a one-off job is not repeated by a reconcile"
    );
    let sentence = ended(queued);
    assert!(
        sentence.starts_with("voc stopped before this job started (found queued")
            && sentence.ends_with("the next reconcile applies its commit in a job of its own"),
        "{sentence}"
    );
    assert!(ended(queued_one_off).ends_with("ask for it again if it is still needed"));
    let finished = store.job(done).unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.error),
        (JobStatus::Succeeded, None)
    );

    // A second start finds nothing left to end.
    assert_eq!(
        store.end_interrupted_jobs().unwrap(),
        Interrupted::default()
    );
}
