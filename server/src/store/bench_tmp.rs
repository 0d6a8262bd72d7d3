use std::time::Instant;
use super::*;
#[test]
fn measure() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    let new = NewJob { run_id: Some("r".into()), kind: JobKind::Deploy, subject: "web".into(), target: "default".into(), commit: None, reason: "x".into() };
    let t = Instant::now();
    let mut last = JobId(0);
    for _ in 0..1000 { last = store.create_job(&new).unwrap(); }
    eprintln!("create_job x1000: {:?}", t.elapsed());
    let t = Instant::now();
    for n in 0..1000 { store.append_log(last, &format!("line {n}")).unwrap(); }
    eprintln!("append_log x1000 (one tx each): {:?}", t.elapsed());
    let lines: Vec<String> = (0..10000).map(|n| format!("batched line {n} with some text of a typical docker build output")).collect();
    let t = Instant::now();
    store.append_logs(last, &lines).unwrap();
    eprintln!("append_logs 10000 lines in one call: {:?}", t.elapsed());
    let t = Instant::now();
    let log = store.job_log(last, 0).unwrap();
    eprintln!("job_log {} lines: {:?}", log.len(), t.elapsed());
    let t = Instant::now();
    let jobs = store.list_jobs(&JobFilter { subject: Some("web".into()), limit: Some(50), before_id: Some(JobId(500)), ..Default::default() }).unwrap();
    eprintln!("list_jobs page of {} out of 1000: {:?}", jobs.len(), t.elapsed());
    let t = Instant::now();
    for _ in 0..1000 { let id = store.create_job(&new).unwrap(); store.start_job(id).unwrap(); store.finish_job(id, JobStatus::Succeeded, None).unwrap(); }
    eprintln!("create+start+finish x1000: {:?}", t.elapsed());
}
