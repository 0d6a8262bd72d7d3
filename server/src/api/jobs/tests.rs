//! Paging and filtering jobs, and following one job's events without gap
//! or repetition, on a real store.

use std::time::Duration;

use tokio::sync::broadcast;

use super::*;
use crate::store::{JobKind as Kind, JobStatus as Status, NewJob};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp folder");
    let store = Store::open(&dir.path().join("voc.db")).expect("store");
    (dir, store)
}

fn job(store: &Store, kind: Kind, subject: &str) -> JobId {
    store
        .create_job(&NewJob {
            run_id: None,
            kind,
            subject: subject.to_owned(),
            target: "default".to_owned(),
            commit: None,
            reason: "test".to_owned(),
        })
        .expect("create job")
}

/// Every id `query` lists, page by page of `first`.
fn all_pages(store: &Store, query: &JobQuery, first: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = query.page(store, first, after).expect("page");
        assert!(page.len() <= first);
        ids.extend(page.iter().map(|j| j.id.0));
        after = page.last().map(|j| j.id);
        if !more {
            return ids;
        }
        assert_eq!(page.len(), first, "a page before the last is full");
    }
}

#[test]
fn pages_cover_every_matching_job_once_newest_first() {
    let (_dir, store) = store();
    let mut shop = Vec::new();
    let mut api_builds = Vec::new();
    let mut everything = Vec::new();
    for n in 0..45 {
        let (kind, subject) = match n % 5 {
            0 => (Kind::Deploy, "shop"),
            1 => (Kind::Remove, "shop"),
            2 => (Kind::Build, "shop"), // an image named like the stack
            3 => (Kind::Build, "api"),
            _ => (Kind::Deploy, "api"),
        };
        let id = job(&store, kind, subject).0;
        everything.push(id);
        if subject == "shop" && kind != Kind::Build {
            shop.push(id);
        }
        if subject == "api" && kind == Kind::Build {
            api_builds.push(id);
        }
    }
    for list in [&mut shop, &mut api_builds, &mut everything] {
        list.reverse();
    }
    let query = |stack: Option<&str>, image: Option<&str>, kind: Option<Kind>| {
        JobQuery::new(stack.map(Into::into), image.map(Into::into), None, kind)
            .unwrap_or_else(|_| panic!("query"))
    };
    for first in [1, 4, 7, 100] {
        assert_eq!(
            all_pages(&store, &query(Some("shop"), None, None), first),
            shop
        );
        assert_eq!(
            all_pages(&store, &query(None, Some("api"), None), first),
            api_builds
        );
        assert_eq!(
            all_pages(&store, &query(None, None, None), first),
            everything
        );
    }
    // The stack's removals only; a build of a stack is nothing.
    let removals: Vec<i64> = all_pages(&store, &query(Some("shop"), None, Some(Kind::Remove)), 3);
    assert_eq!(removals.len(), 9);
    assert!(all_pages(&store, &query(Some("shop"), None, Some(Kind::Build)), 3).is_empty());
    // Both subject filters at once is refused.
    assert!(JobQuery::new(Some("a".into()), Some("b".into()), None, None).is_err());
}

#[test]
fn the_status_filter_applies() {
    let (_dir, store) = store();
    let done = job(&store, Kind::Deploy, "shop");
    let waiting = job(&store, Kind::Deploy, "shop");
    store.start_job(done).expect("start");
    store
        .finish_job(done, Status::Failed, Some("boom"))
        .expect("finish");
    let query = JobQuery::new(Some("shop".into()), None, Some(Status::Queued), None)
        .unwrap_or_else(|_| panic!("query"));
    let (page, more) = query.page(&store, 10, None).expect("page");
    assert_eq!(page.iter().map(|j| j.id).collect::<Vec<_>>(), vec![waiting]);
    assert!(!more);
}

/// The events a follower gives until it ends (or nothing comes for a
/// while).
async fn collect(mut follower: EventFollower) -> (Vec<JobEventView>, bool) {
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(300), follower.next()).await {
            Ok(Some(Ok(event))) => events.push(event),
            Ok(Some(Err(error))) => panic!("error event: {}", error.message),
            Ok(None) => return (events, true),
            Err(_) => return (events, false),
        }
    }
}

fn status(id: JobId, status: Status, error: Option<&str>) -> JobEventView {
    (&JobEvent::Status {
        job: id,
        status,
        error: error.map(Into::into),
    })
        .into()
}

fn line(id: JobId, seq: i64, text: &str) -> JobEventView {
    (&JobEvent::Log {
        job: id,
        seq,
        line: text.into(),
    })
        .into()
}

#[tokio::test]
async fn one_job_stored_lines_then_live_ones_without_repeats_until_its_end() {
    let (_dir, store) = store();
    let id = job(&store, Kind::Deploy, "shop");
    let other = job(&store, Kind::Deploy, "api");
    let (sender, receiver) = broadcast::channel(64);
    store.start_job(id).expect("start");
    store.append_log(id, "one").expect("log");
    store.append_log(id, "two").expect("log");
    let stored = store.job(id).expect("job").expect("exists");
    let log = store.job_log(id, 0).expect("log");
    let follower = EventFollower::one(receiver, store.clone(), stored, log);
    // Live events: the stored lines again (written before the store was
    // read, sent after), another job, a repeated status, then news.
    let send = |event| {
        sender.send(event).expect("send");
    };
    send(JobEvent::Log {
        job: id,
        seq: 2,
        line: "two".into(),
    });
    send(JobEvent::Log {
        job: other,
        seq: 1,
        line: "other".into(),
    });
    send(JobEvent::Status {
        job: id,
        status: Status::Running,
        error: None,
    });
    send(JobEvent::Log {
        job: id,
        seq: 3,
        line: "three".into(),
    });
    send(JobEvent::Status {
        job: id,
        status: Status::Succeeded,
        error: None,
    });
    send(JobEvent::Log {
        job: id,
        seq: 4,
        line: "after the end".into(),
    });
    let (events, ended) = collect(follower).await;
    assert_eq!(
        events,
        vec![
            status(id, Status::Running, None),
            line(id, 1, "one"),
            line(id, 2, "two"),
            line(id, 3, "three"),
            status(id, Status::Succeeded, None),
        ]
    );
    assert!(ended, "the subscription did not end after the final status");
}

#[tokio::test]
async fn a_finished_job_gives_its_log_then_its_status_and_ends() {
    let (_dir, store) = store();
    let id = job(&store, Kind::Build, "api");
    store.append_log(id, "step 1").expect("log");
    store
        .finish_job(id, Status::Skipped, Some("dry run"))
        .expect("finish");
    let (_sender, receiver) = broadcast::channel(4);
    let stored = store.job(id).expect("job").expect("exists");
    let log = store.job_log(id, 0).expect("log");
    let (events, ended) = collect(EventFollower::one(receiver, store, stored, log)).await;
    assert_eq!(
        events,
        vec![
            line(id, 1, "step 1"),
            status(id, Status::Skipped, Some("dry run"))
        ]
    );
    assert!(ended);
}

#[tokio::test]
async fn a_follower_that_falls_behind_catches_up_from_the_store() {
    let (_dir, store) = store();
    let id = job(&store, Kind::Deploy, "shop");
    let (sender, receiver) = broadcast::channel(2);
    let stored = store.job(id).expect("job").expect("exists");
    let follower = EventFollower::one(receiver, store.clone(), stored, Vec::new());
    store.start_job(id).expect("start");
    let _ = sender.send(JobEvent::Status {
        job: id,
        status: Status::Running,
        error: None,
    });
    for n in 1..=10 {
        let seq = store.append_log(id, &format!("line {n}")).expect("log");
        let _ = sender.send(JobEvent::Log {
            job: id,
            seq,
            line: format!("line {n}"),
        });
    }
    store
        .finish_job(id, Status::Succeeded, None)
        .expect("finish");
    let _ = sender.send(JobEvent::Status {
        job: id,
        status: Status::Succeeded,
        error: None,
    });
    let (events, ended) = collect(follower).await;
    let mut expected = vec![status(id, Status::Queued, None)];
    expected.extend((1..=10).map(|n| line(id, n, &format!("line {n}"))));
    expected.push(status(id, Status::Succeeded, None));
    // The running status was lost with the dropped events; every line and
    // the end are there, once, in order.
    assert_eq!(events, expected);
    assert!(ended);
}

#[tokio::test]
async fn all_jobs_pass_through_and_lagging_is_said() {
    let (sender, receiver) = broadcast::channel(2);
    let mut follower = EventFollower::all(receiver);
    for seq in 1..=5 {
        let _ = sender.send(JobEvent::Log {
            job: JobId(seq),
            seq,
            line: "x".into(),
        });
    }
    let first = follower.next().await.expect("an item");
    let error = first.expect_err("lagging is an error item");
    assert!(
        error.message.contains("fell behind: 3"),
        "{}",
        error.message
    );
    let next = follower.next().await.expect("an item").expect("an event");
    assert_eq!(next, line(JobId(4), 4, "x"));
}
