//! Notifications: a generic outgoing webhook per target
//! (`[targets.<name>.notify]`), told when a job on the target fails and
//! when what failed recovers.
//!
//! - [`alerts`]: when to notify, a pure state machine per subject (the
//!   target's reconcile, each stack, each image), so that a deploy that
//!   keeps failing and being retried makes one `failure`, then one
//!   `recovery`.
//! - [`payload`]: the JSON voc POSTs and its HMAC-SHA256 signature. Pure.
//! - [`delivery`]: the HTTP(S) client, retries and their back-off.
//!
//! A [`Notifier`] belongs to one target's reconcile loop
//! (`reconcile::follow`), which tells it how each job and each reconcile
//! ended; it never waits on the delivery.

pub mod alerts;
pub mod delivery;
pub mod payload;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use alerts::{Alerts, Attempt, Outcome, Subject};
use payload::Payload;

use crate::config::{NotifyConfig, ServerConfig};
use crate::reconcile::apply::{self, ApplyReport};
use crate::store::{Job, JobFilter, MAX_LIST_LIMIT, Store};

pub use delivery::SetupError;

/// One target's notifications: its alerts and the queue to its sender.
#[derive(Debug)]
pub struct Notifier {
    target: String,
    alerts: Mutex<Alerts>,
    queue: tokio::sync::mpsc::Sender<Payload>,
}

impl Notifier {
    /// Starts the sender of target `target`'s notifications (on the
    /// current runtime). `history` is the target's jobs, newest first,
    /// from the store: subjects whose last jobs failed start failing (see
    /// [`Alerts::from_history`]).
    pub fn start(
        target: &str,
        config: &NotifyConfig,
        history: &[Job],
    ) -> Result<Notifier, SetupError> {
        let sender = delivery::Sender::new(target, config)?;
        let (queue, waiting) = tokio::sync::mpsc::channel(delivery::QUEUE);
        tokio::spawn(sender.run(waiting));
        let mine: Vec<Job> = history
            .iter()
            .filter(|job| job.target == target)
            .cloned()
            .collect();
        let alerts = Alerts::from_history(&mine);
        for (subject, streak) in alerts.failing() {
            tracing::info!(
                target = %target,
                subject = ?subject,
                failures = streak.failures,
                "failing since before the start: its recovery will be notified"
            );
        }
        Ok(Notifier {
            target: target.to_owned(),
            alerts: Mutex::new(alerts),
            queue,
        })
    }

    /// Records how `attempt` at `subject` ended, and queues the
    /// notification it calls for, if any. Never waits.
    pub fn observe(&self, subject: Subject, attempt: Attempt, outcome: Outcome) {
        let notice = {
            // The alerts stay consistent between statements: a panic
            // elsewhere leaves nothing half-written.
            let mut alerts = self
                .alerts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            alerts.observe(subject, attempt, outcome)
        };
        let Some(notice) = notice else { return };
        let payload = Payload::new(&self.target, &notice, delivery_id());
        let why = match self.queue.try_send(payload) {
            Ok(()) => return,
            Err(tokio::sync::mpsc::error::TrySendError::Full(payload)) => (
                payload,
                format!(
                    "{} notifications already wait for the receiver",
                    delivery::QUEUE
                ),
            ),
            Err(tokio::sync::mpsc::error::TrySendError::Closed(payload)) => {
                (payload, "the sender has stopped".to_owned())
            }
        };
        tracing::warn!(
            target = %self.target,
            event = why.0.event,
            subject = %why.0.subject,
            "dropped a notification: {}",
            why.1
        );
    }

    /// Records how each job of a run ended (skipped ones say nothing).
    pub fn observe_report(&self, report: &ApplyReport) {
        let at_ms = now_ms();
        for result in &report.results {
            let outcome = match &result.outcome {
                apply::Outcome::Failed { error } => Outcome::Failed(error.clone()),
                apply::Outcome::Succeeded { .. } | apply::Outcome::Unchanged { .. } => {
                    Outcome::Succeeded
                }
                apply::Outcome::Skipped { .. } => continue,
            };
            // A dry run's actions have no job: nothing ran.
            let Some(job) = result.job else { continue };
            let kind = apply::job_kind(&result.action.kind);
            let subject = Subject::of_job(kind, apply::subject_name(&result.action.kind));
            let attempt = Attempt {
                job: Some(crate::store::JobId(job)),
                kind: Some(kind),
                commit: Some(report.plan.to.clone()),
                at_ms,
            };
            self.observe(subject, attempt, outcome);
        }
    }

    /// Records how a reconcile of the target toward `commit` ended: `error`
    /// when it could not run (the engine cannot be reached, the conf cannot
    /// be planned), `None` when it ran (whatever its jobs did).
    pub fn observe_reconcile(&self, commit: Option<String>, error: Option<&str>) {
        let attempt = Attempt {
            job: None,
            kind: None,
            commit,
            at_ms: now_ms(),
        };
        let outcome = match error {
            Some(error) => Outcome::Failed(error.to_owned()),
            None => Outcome::Succeeded,
        };
        self.observe(Subject::Target, attempt, outcome);
    }
}

/// The notifier of each target that has `[targets.<name>.notify]`, their
/// senders started. Fails, saying which target and why, when one cannot
/// send at all.
pub async fn start_notifiers(
    config: &ServerConfig,
    store: &Store,
) -> anyhow::Result<BTreeMap<String, Arc<Notifier>>> {
    let configured: Vec<(&String, &NotifyConfig)> = config
        .targets
        .iter()
        .filter_map(|(name, target)| Some((name, target.notify.as_ref()?)))
        .collect();
    if configured.is_empty() {
        return Ok(BTreeMap::new());
    }
    let store = store.clone();
    let history = tokio::task::spawn_blocking(move || {
        store.list_jobs(&JobFilter {
            limit: Some(MAX_LIST_LIMIT),
            ..JobFilter::default()
        })
    })
    .await
    .map_err(|error| anyhow::anyhow!("reading the jobs for the notifications: {error}"))?
    .map_err(|error| anyhow::anyhow!("reading the jobs for the notifications: {error}"))?;
    let mut notifiers = BTreeMap::new();
    for (name, notify) in configured {
        notifiers.insert(
            name.clone(),
            Arc::new(Notifier::start(name, notify, &history)?),
        );
    }
    Ok(notifiers)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new delivery id: 16 random bytes in hex (the time when the system
/// has no randomness to give).
fn delivery_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
