//! When to notify: one state machine per subject of a target (the target's
//! reconcile itself, each stack, each image). Pure.
//!
//! A subject is either fine or failing. The first failure of a fine
//! subject is notified (`failure`) and starts a failing streak; failures
//! during the streak are only counted, whatever their error (errors carry
//! task ids and times, so "the error changed" would notify at every retry
//! of a deploy that keeps failing); the first success ends the streak and
//! is notified (`recovery`) with the number of failures and since when.
//! A success of a fine subject, and anything skipped, say nothing.

use std::collections::BTreeMap;

use crate::store::{Job, JobId, JobKind, JobStatus};

/// What a notification is about, on one target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The target's reconcile as a whole: the engine cannot be reached,
    /// the conf cannot be planned.
    Target,
    /// A stack: its deploys and its removal.
    Stack(String),
    /// An image: its builds.
    Image(String),
}

impl Subject {
    /// The subject of a job of `kind` about `name`.
    pub fn of_job(kind: JobKind, name: &str) -> Subject {
        match kind {
            JobKind::Build => Subject::Image(name.to_owned()),
            JobKind::Deploy | JobKind::Remove => Subject::Stack(name.to_owned()),
        }
    }
}

/// One try at a subject: the job that ran (none for a target's reconcile),
/// the commit it was for, and when it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The job, if any.
    pub job: Option<JobId>,
    /// What the job did.
    pub kind: Option<JobKind>,
    /// The commit (full SHA), when known.
    pub commit: Option<String>,
    /// When it ended (milliseconds since the Unix epoch).
    pub at_ms: i64,
}

/// How an attempt ended, as far as notifications care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It failed, with this sentence.
    Failed(String),
    /// It did what it should (or nothing needed doing).
    Succeeded,
}

/// The two notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A fine subject failed.
    Failure,
    /// A failing subject succeeded.
    Recovery,
}

impl Event {
    /// The name in the payload and the `X-Voc-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Failure => "failure",
            Event::Recovery => "recovery",
        }
    }
}

/// A failing streak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streak {
    /// When its first failure ended (ms).
    pub since_ms: i64,
    /// How many attempts failed in it.
    pub failures: u32,
    /// The last failure's sentence.
    pub error: String,
}

/// What to notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Failure or recovery.
    pub event: Event,
    /// About what.
    pub subject: Subject,
    /// The attempt that caused it.
    pub attempt: Attempt,
    /// The streak: for a failure, the one it starts (one failure); for a
    /// recovery, the one it ends.
    pub streak: Streak,
}

/// The failing subjects of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alerts {
    failing: BTreeMap<Subject, Streak>,
}

impl Alerts {
    /// Records how `attempt` at `subject` ended; what to notify, if
    /// anything.
    pub fn observe(
        &mut self,
        subject: Subject,
        attempt: Attempt,
        outcome: Outcome,
    ) -> Option<Notice> {
        match (self.failing.get_mut(&subject), outcome) {
            (None, Outcome::Succeeded) => None,
            (None, Outcome::Failed(error)) => {
                let streak = Streak {
                    since_ms: attempt.at_ms,
                    failures: 1,
                    error,
                };
                self.failing.insert(subject.clone(), streak.clone());
                Some(Notice {
                    event: Event::Failure,
                    subject,
                    attempt,
                    streak,
                })
            }
            (Some(streak), Outcome::Failed(error)) => {
                streak.failures = streak.failures.saturating_add(1);
                streak.error = error;
                None
            }
            (Some(_), Outcome::Succeeded) => {
                let streak = self.failing.remove(&subject)?;
                Some(Notice {
                    event: Event::Recovery,
                    subject,
                    attempt,
                    streak,
                })
            }
        }
    }

    /// The failing subjects, as the store's jobs of one target show them
    /// (`jobs` newest first): a subject whose latest finished jobs failed
    /// is failing since the oldest of those failures. Lets a restarted voc
    /// notify the recovery of a failure the previous process notified,
    /// and not notify that failure again.
    pub fn from_history(jobs: &[Job]) -> Alerts {
        let mut failing: BTreeMap<Subject, Streak> = BTreeMap::new();
        let mut settled: std::collections::BTreeSet<Subject> = Default::default();
        for job in jobs {
            let subject = Subject::of_job(job.kind, &job.subject);
            if settled.contains(&subject) {
                continue;
            }
            match job.status {
                JobStatus::Failed => {
                    let at = job.finished_at.unwrap_or(job.created_at);
                    let streak = failing.entry(subject).or_insert_with(|| Streak {
                        since_ms: at,
                        failures: 0,
                        error: job.error.clone().unwrap_or_default(),
                    });
                    streak.failures += 1;
                    streak.since_ms = at;
                }
                JobStatus::Succeeded => {
                    settled.insert(subject);
                }
                JobStatus::Queued | JobStatus::Running | JobStatus::Skipped => {}
            }
        }
        Alerts { failing }
    }

    /// The failing subjects and their streaks.
    pub fn failing(&self) -> impl Iterator<Item = (&Subject, &Streak)> {
        self.failing.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::CommitId;

    fn attempt(at_ms: i64) -> Attempt {
        Attempt {
            job: Some(JobId(at_ms)),
            kind: Some(JobKind::Deploy),
            commit: None,
            at_ms,
        }
    }

    fn failed(error: &str) -> Outcome {
        Outcome::Failed(error.to_owned())
    }

    fn shop() -> Subject {
        Subject::Stack("shop".into())
    }

    /// The events of a sequence of outcomes of one subject.
    fn events(outcomes: &[Outcome]) -> Vec<Option<Event>> {
        let mut alerts = Alerts::default();
        outcomes
            .iter()
            .enumerate()
            .map(|(at, outcome)| {
                alerts
                    .observe(shop(), attempt(at as i64), outcome.clone())
                    .map(|notice| notice.event)
            })
            .collect()
    }

    #[test]
    fn every_transition() {
        use Event::{Failure, Recovery};
        let ok = Outcome::Succeeded;
        // fine -> fine: nothing.
        assert_eq!(events(&[ok.clone(), ok.clone()]), [None, None]);
        // fine -> failing: failure; failing -> failing: nothing, even with
        // another error; failing -> fine: recovery.
        assert_eq!(
            events(&[
                failed("a"),
                failed("a"),
                failed("b"),
                ok.clone(),
                ok.clone()
            ]),
            [Some(Failure), None, None, Some(Recovery), None]
        );
        // A new streak after a recovery is notified again.
        assert_eq!(
            events(&[failed("a"), ok.clone(), failed("a"), ok]),
            [Some(Failure), Some(Recovery), Some(Failure), Some(Recovery)]
        );
    }

    #[test]
    fn a_recovery_tells_the_streak_it_ends() {
        let mut alerts = Alerts::default();
        let first = alerts
            .observe(shop(), attempt(100), failed("network gone"))
            .expect("a failure");
        assert_eq!(
            first.streak,
            Streak {
                since_ms: 100,
                failures: 1,
                error: "network gone".into()
            }
        );
        assert_eq!(first.attempt, attempt(100));
        assert_eq!(
            alerts.observe(shop(), attempt(200), failed("still gone")),
            None
        );
        assert_eq!(
            alerts.observe(shop(), attempt(300), failed("image missing")),
            None
        );
        assert_eq!(alerts.failing().count(), 1);
        let recovery = alerts
            .observe(shop(), attempt(400), Outcome::Succeeded)
            .expect("a recovery");
        assert_eq!(recovery.event, Event::Recovery);
        assert_eq!(recovery.attempt, attempt(400));
        assert_eq!(
            recovery.streak,
            Streak {
                since_ms: 100,
                failures: 3,
                error: "image missing".into()
            }
        );
        assert_eq!(alerts.failing().count(), 0);
    }

    #[test]
    fn subjects_are_apart() {
        let mut alerts = Alerts::default();
        let web = Subject::Image("shop".into());
        assert!(alerts.observe(shop(), attempt(1), failed("x")).is_some());
        // The image of the same name is another subject, and so is the
        // target: each has its own failure.
        assert!(
            alerts
                .observe(web.clone(), attempt(2), failed("x"))
                .is_some()
        );
        assert!(
            alerts
                .observe(Subject::Target, attempt(3), failed("down"))
                .is_some()
        );
        assert!(
            alerts
                .observe(Subject::Target, attempt(4), failed("down"))
                .is_none()
        );
        // One recovering says nothing of the others.
        let recovery = alerts
            .observe(Subject::Target, attempt(5), Outcome::Succeeded)
            .expect("recovery");
        assert_eq!(recovery.subject, Subject::Target);
        assert!(alerts.observe(web, attempt(6), failed("x")).is_none());
        assert_eq!(alerts.failing().count(), 2);
        // A removal's success is the stack's recovery.
        assert_eq!(Subject::of_job(JobKind::Remove, "shop"), shop());
        assert_eq!(
            Subject::of_job(JobKind::Build, "shop"),
            Subject::Image("shop".into())
        );
    }

    fn job(id: i64, kind: JobKind, subject: &str, status: JobStatus) -> Job {
        Job {
            id: JobId(id),
            run_id: None,
            kind,
            subject: subject.into(),
            target: "edge".into(),
            commit: Some(CommitId::parse(&"a".repeat(40)).expect("commit")),
            reason: "test".into(),
            status,
            error: (status == JobStatus::Failed).then(|| format!("error {id}")),
            created_at: id * 10,
            started_at: Some(id * 10),
            finished_at: status.is_final().then_some(id * 10 + 5),
        }
    }

    #[test]
    fn history_gives_the_streaks_that_did_not_end() {
        use JobStatus::{Failed, Queued, Running, Skipped, Succeeded};
        // Newest first.
        let jobs = [
            job(9, JobKind::Deploy, "shop", Failed),
            job(8, JobKind::Deploy, "shop", Skipped),
            job(7, JobKind::Deploy, "shop", Failed),
            job(6, JobKind::Deploy, "shop", Succeeded),
            job(5, JobKind::Deploy, "shop", Failed),
            job(9, JobKind::Deploy, "blog", Running),
            job(4, JobKind::Deploy, "blog", Queued),
            job(3, JobKind::Deploy, "blog", Succeeded),
            job(2, JobKind::Build, "shop", Failed),
            job(1, JobKind::Remove, "old", Succeeded),
        ];
        let alerts = Alerts::from_history(&jobs);
        let failing: Vec<(&Subject, &Streak)> = alerts.failing().collect();
        assert_eq!(
            failing,
            [
                (
                    &shop(),
                    &Streak {
                        since_ms: 75,
                        failures: 2,
                        error: "error 9".into()
                    }
                ),
                (
                    &Subject::Image("shop".into()),
                    &Streak {
                        since_ms: 25,
                        failures: 1,
                        error: "error 2".into()
                    }
                ),
            ]
        );
        // The restarted voc notifies the recovery, not the failure again.
        let mut alerts = alerts;
        assert_eq!(alerts.observe(shop(), attempt(100), failed("again")), None);
        let recovery = alerts
            .observe(shop(), attempt(101), Outcome::Succeeded)
            .expect("recovery");
        assert_eq!(recovery.streak.failures, 3);
        assert_eq!(recovery.streak.since_ms, 75);
        assert_eq!(Alerts::from_history(&[]), Alerts::default());
    }
}
