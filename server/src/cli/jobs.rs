//! `voc jobs` and `voc job ID`: what `voc apply` did, from voc's store.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use serde_json::json;

use super::apply::open_store;
use super::output::{print_json, print_table};
use crate::store::{JobFilter, JobId, JobKind, JobStatus};

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs about this stack or image.
    #[arg(long)]
    subject: Option<String>,
    /// Only jobs with this status (queued, running, succeeded, failed, skipped).
    #[arg(long)]
    status: Option<String>,
    /// Only jobs of this kind (build, deploy, remove).
    #[arg(long)]
    kind: Option<String>,
    /// How many jobs, newest first.
    #[arg(long, default_value = "20")]
    limit: u32,
    /// voc's data folder.
    #[arg(long, env = "VOC_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job's id.
    id: String,
    /// voc's data folder.
    #[arg(long, env = "VOC_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run_jobs(args: JobsArgs) -> anyhow::Result<()> {
    let store = open_store(args.data_dir.as_deref())?;
    let status = match &args.status {
        Some(text) => {
            Some(JobStatus::parse(text).ok_or_else(|| anyhow::anyhow!("unknown status `{text}`"))?)
        }
        None => None,
    };
    let kind = match &args.kind {
        Some(text) => {
            Some(JobKind::parse(text).ok_or_else(|| anyhow::anyhow!("unknown kind `{text}`"))?)
        }
        None => None,
    };
    let filter = JobFilter {
        subject: args.subject.clone(),
        kind,
        status,
        limit: Some(args.limit),
        ..JobFilter::default()
    };
    let jobs = store.list_jobs(&filter)?;
    if args.json {
        print_json(&json!(jobs.iter().map(job_json).collect::<Vec<_>>()));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            vec![
                job.id.0.to_string(),
                job.kind.to_string(),
                job.subject.clone(),
                job.target.clone(),
                job.commit
                    .as_ref()
                    .map(|c| c.short().to_owned())
                    .unwrap_or_default(),
                job.status.to_string(),
                duration(job.started_at, job.finished_at),
                job.error
                    .clone()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID", "KIND", "SUBJECT", "TARGET", "COMMIT", "STATUS", "TIME", "ERROR",
        ],
        &rows,
    );
    Ok(())
}

pub fn run_job(args: JobArgs) -> anyhow::Result<()> {
    let store = open_store(args.data_dir.as_deref())?;
    let id = JobId::parse(&args.id)?;
    let Some(job) = store.job(id)? else {
        bail!("there is no job {}", args.id)
    };
    let log = store.job_log(id, 0)?;
    if args.json {
        let mut value = job_json(&job);
        value["log"] = json!(log.iter().map(|l| &l.line).collect::<Vec<_>>());
        print_json(&value);
        return Ok(());
    }
    println!(
        "job {}: {} {} on {} ({})",
        job.id.0, job.kind, job.subject, job.target, job.status
    );
    if let Some(commit) = &job.commit {
        println!("commit: {}", commit.as_str());
    }
    println!("reason: {}", job.reason);
    if let Some(error) = &job.error {
        println!("error: {error}");
    }
    for line in log {
        println!("| {}", line.line);
    }
    Ok(())
}

fn job_json(job: &crate::store::Job) -> serde_json::Value {
    json!({
        "id": job.id.0, "runId": job.run_id, "kind": job.kind.as_str(), "subject": job.subject,
        "target": job.target, "commit": job.commit.as_ref().map(|c| c.as_str()), "reason": job.reason,
        "status": job.status.as_str(), "error": job.error, "createdAt": job.created_at,
        "startedAt": job.started_at, "finishedAt": job.finished_at,
    })
}

fn duration(started: Option<i64>, finished: Option<i64>) -> String {
    match (started, finished) {
        (Some(start), Some(end)) => format!("{:.1}s", (end - start) as f64 / 1000.0),
        _ => String::new(),
    }
}
