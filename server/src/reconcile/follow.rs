//! Following the conf repo from `voc serve`: a fetch loop, and one
//! reconcile loop per target.
//!
//! - The **fetch loop** wakes at the poll interval, on a webhook, on
//!   `syncNow` and when the API pushed a commit ([`Follow::expect_jobs`]).
//!   Each round fetches the followed branch once into voc's clone; a new
//!   head is written out to a folder of its own under
//!   `<data_dir>/commits/`, read and validated, and published as the
//!   server's [`ConfSnapshot`] (`AppState::conf`). Then every target's loop
//!   is woken.
//! - Each **target loop** reconciles one run at a time: from the target's
//!   last applied commit (or the `io.voc.commit` labels, or everything on a
//!   first run, exactly as `voc apply`, see [`super::run`]) to the snapshot's
//!   commit, applying the actions of its own target with
//!   [`super::apply::apply`]. A target that is down fails its own run (its
//!   `last_error`) without holding up the others, and is tried again at the
//!   next wake-up. Then it runs the one-off jobs asked with
//!   [`Follow::run_job`].
//! - Wake-ups that arrive while a loop is busy are **coalesced**: however
//!   many, exactly one more round follows ([`Coalescer`]).
//!
//! Jobs reach the subscriptions as [`JobEvent`]s on `AppState::events`.
//! A job the API queued for a commit it pushed ([`Follow::expect_jobs`]) is
//! run under its id by the first reconcile whose plan has its action and
//! whose commit contains the pushed one; when that reconcile has no such
//! action, the job is finished as skipped (or as the job that did the work
//! ended) with a sentence why.
//!
//! This is the server's part of reconciling: it reads the server's state
//! ([`AppState`]) where the rest of `reconcile` is used by the CLI too.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::sync::Notify;

use super::apply::{
    ApplyEvent, ApplyReport, ApplySettings, Outcome, apply, job_kind, subject_name,
};
use super::plan::{Action, ActionKind, Plan, Scope};
use super::run::{Prepared, find_start, for_target, plan_range, read_conf_for_run};
use crate::conf::compose_cache::{self, ComposeCache};
use crate::conf::model::Subject;
use crate::conf::walk::ReadOptions;
use crate::engine::error::ErrorChain;
use crate::git::{CommitId, GitRepo};
use crate::metrics::ReconcileResult;
use crate::serve::{AppState, ConfSnapshot, JobEvent};
use crate::store::{JobFilter, JobId, JobKind, JobStatus, NewJob, Store};

/// The folder under the data folder where each followed commit's files are
/// written out.
pub const COMMITS_FOLDER: &str = "commits";

/// How long a job the API queued may wait for its commit to reach the
/// followed branch before it is failed.
const RESERVED_MAX_AGE: Duration = Duration::from_secs(3600);

/// The longest a target waits before trying again a run that failed, when
/// nothing changed meanwhile (the first wait is one poll interval, then it
/// doubles).
const RETRY_MAX_DELAY: Duration = Duration::from_secs(30 * 60);

/// The handle to the follow loops. Cheap to clone; clones share the loops.
/// A handle made with `Default` has no loops until [`Follow::start`]:
/// until then every request fails with "not running".
#[derive(Debug, Clone, Default)]
pub struct Follow {
    shared: Arc<Shared>,
}

/// A job the API asks for, to be run by the next reconcile of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedJob {
    /// Deploy, remove or build.
    pub kind: JobKind,
    /// The stack or image.
    pub subject: String,
    /// The target.
    pub target: String,
}

/// Why the follow loops cannot take a request.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FollowError(pub String);

/// The conf repo as the fetch loop last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoStatus {
    /// When the last successful fetch ended (milliseconds since the Unix
    /// epoch).
    pub last_fetch_at: Option<i64>,
    /// The followed branch's head at that fetch.
    pub head: Option<CommitId>,
    /// Why the last round failed (fetch or read), `None` after a success.
    pub last_error: Option<String>,
}

/// One target's loop, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetStatus {
    /// Why its last run did not fully succeed (the target is down, an
    /// action failed); `None` after a success.
    pub last_error: Option<String>,
    /// A run is in progress.
    pub reconciling: bool,
    /// When its last run ended (milliseconds since the Unix epoch).
    pub last_run_at: Option<i64>,
}

/// Wake-ups of a loop that runs one round at a time: [`Coalescer::wake`]
/// never waits, and however many wake-ups arrive during a round, the next
/// [`Coalescer::next`] returns once for all of them.
#[derive(Debug, Default)]
pub struct Coalescer {
    pending: Mutex<usize>,
    notify: Notify,
}

impl Coalescer {
    /// Asks for one more round.
    pub fn wake(&self) {
        *lock(&self.pending) += 1;
        self.notify.notify_one();
    }

    /// Waits until a round was asked for, and takes every pending wake-up;
    /// returns how many there were. Cancel-safe: wake-ups are only taken
    /// when it returns.
    pub async fn next(&self) -> usize {
        loop {
            let taken = std::mem::take(&mut *lock(&self.pending));
            if taken > 0 {
                return taken;
            }
            // A `wake` between the check and this wait leaves a permit in
            // the `Notify`, so it is not lost.
            self.notify.notified().await;
        }
    }

    /// How many wake-ups wait for the next round.
    pub fn pending(&self) -> usize {
        *lock(&self.pending)
    }
}

/// A folder holding one commit's files, removed when the last snapshot
/// that uses it is dropped.
#[derive(Debug)]
pub struct CommitFolder {
    path: PathBuf,
}

impl CommitFolder {
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CommitFolder {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.path);
        let remove = move || {
            let _ = std::fs::remove_dir_all(&path);
        };
        // Removing a tree is blocking I/O: off the async workers when
        // there is a runtime.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(remove)),
            Err(_) => remove(),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    /// Set once by [`Follow::start`].
    running: OnceLock<Running>,
    /// The fetch loop's wake-ups.
    fetch: Coalescer,
    repo: Mutex<RepoStatus>,
}

#[derive(Debug)]
struct Running {
    store: Store,
    events: crate::serve::Events,
    targets: BTreeMap<String, Arc<TargetLoop>>,
}

/// One target's loop: its wake-ups, its status, and the jobs waiting for
/// it.
#[derive(Debug, Default)]
struct TargetLoop {
    wake: Coalescer,
    status: Mutex<TargetStatus>,
    /// One-off jobs ([`Follow::run_job`]), in order.
    one_off: Mutex<VecDeque<OneOff>>,
    /// Jobs the API queued for commits it pushed.
    reserved: Mutex<Vec<Reserved>>,
    /// What the last run covered, to avoid repeating a run that can change
    /// nothing.
    last_run: Mutex<Option<RunKey>>,
    /// The last run failed: when the same run may be tried again.
    retry: Mutex<Option<Retry>>,
    /// `syncNow` asked: the next run skips the retry delay.
    asked: std::sync::atomic::AtomicBool,
}

/// A run that failed, and when to try it again without a new commit: a
/// deploy that keeps failing (an image that cannot be pulled) must not
/// make a failed job at every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Retry {
    key: RunKey,
    failures: u32,
    not_before: std::time::Instant,
}

/// How long to wait after `failures` failed runs of the same range.
fn retry_delay(poll: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    poll.saturating_mul(1 << doublings).min(RETRY_MAX_DELAY)
}

/// A run that ended with no failed action: same start and end, same
/// outcome. Runs again only when a job waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunKey {
    start: Option<CommitId>,
    to: CommitId,
}

#[derive(Debug, Clone)]
struct OneOff {
    id: JobId,
    kind: JobKind,
    subject: String,
    force: bool,
    reason: String,
}

#[derive(Debug, Clone)]
struct Reserved {
    id: JobId,
    commit: CommitId,
    kind: JobKind,
    subject: String,
    queued: SystemTime,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent between statements: a panic
    // elsewhere leaves nothing half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Follow {
    /// Starts the fetch loop and one loop per target of `state`, and a
    /// first round at once. `state.follow` must be this handle (or a clone).
    pub async fn start(&self, state: AppState) -> anyhow::Result<()> {
        let commits = state.config.data_dir.join(COMMITS_FOLDER);
        // Folders of an earlier process are not used by any snapshot.
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(&commits);
            std::fs::create_dir_all(&commits)
                .with_context(|| format!("creating {}", commits.display()))
        })
        .await
        .context("preparing the commits folder")??;
        // Before anything starts: notifications that could never be sent stop the start.
        let notifiers = crate::notify::start_notifiers(&state.config, &state.store).await?;
        let targets: BTreeMap<String, Arc<TargetLoop>> = state
            .targets
            .keys()
            .map(|name| (name.clone(), Arc::default()))
            .collect();
        let running = Running {
            store: state.store.clone(),
            events: state.events.clone(),
            targets: targets.clone(),
        };
        if self.shared.running.set(running).is_err() {
            anyhow::bail!("the follow loops are already running");
        }
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let variables = state.config.allowed_variables(&env);
        let fetcher = Fetcher {
            state: state.clone(),
            shared: self.shared.clone(),
            variables,
            serial: AtomicU64::new(0),
        };
        tokio::spawn(fetcher.run(targets.clone()));
        for (name, target) in targets {
            let reconciler = Reconciler {
                state: state.clone(),
                notifier: notifiers.get(&name).cloned(),
                name,
                target,
            };
            tokio::spawn(reconciler.run());
        }
        self.shared.fetch.wake();
        Ok(())
    }

    fn running(&self) -> Result<&Running, FollowError> {
        self.shared
            .running
            .get()
            .ok_or_else(|| FollowError("the follow loops are not running".into()))
    }

    fn target(&self, name: &str) -> Result<&Arc<TargetLoop>, FollowError> {
        let running = self.running()?;
        running.targets.get(name).ok_or_else(|| {
            let known: Vec<&str> = running.targets.keys().map(String::as_str).collect();
            FollowError(format!(
                "target {name} is not configured (targets: {})",
                known.join(", ")
            ))
        })
    }

    /// Asks every target's loop to fetch and reconcile soon. Returns at once.
    pub fn sync_now(&self) {
        if let Ok(running) = self.running() {
            for target in running.targets.values() {
                target.asked.store(true, Ordering::SeqCst);
            }
        }
        self.shared.fetch.wake();
    }

    /// Records queued jobs for `jobs`, to be run by the reconcile that
    /// applies `commit` (a commit voc just pushed), and wakes the loops.
    /// The ids let an API caller follow the deploy its commit causes.
    pub fn expect_jobs(
        &self,
        commit: &CommitId,
        jobs: &[ExpectedJob],
    ) -> Result<Vec<JobId>, FollowError> {
        let running = self.running()?;
        for job in jobs {
            self.target(&job.target)?;
        }
        let mut ids = Vec::with_capacity(jobs.len());
        for job in jobs {
            let reason = format!("commit {} pushed through the API", commit.short());
            let id = self.create_job(running, job, Some(commit.clone()), reason)?;
            lock(&self.target(&job.target)?.reserved).push(Reserved {
                id,
                commit: commit.clone(),
                kind: job.kind,
                subject: job.subject.clone(),
                queued: SystemTime::now(),
            });
            ids.push(id);
        }
        self.shared.fetch.wake();
        Ok(ids)
    }

    /// Runs one job outside of the git flow, in its target's loop (after a
    /// reconcile in progress): redeploy a stack as committed at the head
    /// voc last read (`force`: even when unchanged, replacing its tasks) or
    /// build an image. Returns the job's id at once.
    pub fn run_job(&self, job: ExpectedJob, force: bool) -> Result<JobId, FollowError> {
        let running = self.running()?;
        let target = self.target(&job.target)?;
        let reason = match (job.kind, force) {
            (JobKind::Deploy, true) => "forced redeploy asked through the API",
            (JobKind::Deploy, false) => "redeploy asked through the API",
            (JobKind::Build, _) => "build asked through the API",
            (JobKind::Remove, _) => {
                return Err(FollowError(
                    "a stack is removed by deleting it from the conf repo, not by a one-off job"
                        .into(),
                ));
            }
        };
        let id = self.create_job(running, &job, None, reason.to_owned())?;
        lock(&target.one_off).push_back(OneOff {
            id,
            kind: job.kind,
            subject: job.subject,
            force,
            reason: reason.to_owned(),
        });
        target.wake.wake();
        Ok(id)
    }

    fn create_job(
        &self,
        running: &Running,
        job: &ExpectedJob,
        commit: Option<CommitId>,
        reason: String,
    ) -> Result<JobId, FollowError> {
        let id = running
            .store
            .create_job(&NewJob {
                run_id: None,
                kind: job.kind,
                subject: job.subject.clone(),
                target: job.target.clone(),
                commit,
                reason,
            })
            .map_err(|error| {
                FollowError(format!(
                    "recording the {} job of {}: {error}",
                    job.kind, job.subject
                ))
            })?;
        running.events.job(JobEvent::Status {
            job: id,
            status: JobStatus::Queued,
            error: None,
        });
        Ok(id)
    }

    /// The conf repo as the fetch loop last saw it.
    pub fn repo_status(&self) -> RepoStatus {
        lock(&self.shared.repo).clone()
    }

    /// Each target's loop, by target name (empty before [`Follow::start`]).
    pub fn target_statuses(&self) -> BTreeMap<String, TargetStatus> {
        match self.shared.running.get() {
            Some(running) => running
                .targets
                .iter()
                .map(|(name, target)| (name.clone(), lock(&target.status).clone()))
                .collect(),
            None => BTreeMap::new(),
        }
    }
}

/// The fetch loop.
struct Fetcher {
    state: AppState,
    shared: Arc<Shared>,
    /// The interpolation variables the configuration allows, with their
    /// values from voc's environment.
    variables: BTreeMap<String, String>,
    /// Makes each export folder's name unique.
    serial: AtomicU64,
}

impl Fetcher {
    async fn run(self, targets: BTreeMap<String, Arc<TargetLoop>>) {
        let this = Arc::new(self);
        let poll = this.state.config.repo.poll_interval;
        loop {
            tokio::select! {
                _ = this.shared.fetch.next() => {}
                () = tokio::time::sleep(poll) => {}
            }
            // A round of its own task: a panic in it is an error of that
            // round, not the end of following.
            let round = tokio::spawn({
                let this = this.clone();
                async move { this.round().await }
            });
            let result = match round.await {
                Ok(result) => result,
                Err(panic) => Err(anyhow::anyhow!("the fetch round panicked: {panic}")),
            };
            let mut status = lock(&this.shared.repo);
            match result {
                Ok(head) => {
                    status.last_fetch_at = Some(now_ms());
                    status.head = Some(head);
                    status.last_error = None;
                }
                Err(error) => {
                    let error = ErrorChain(error.as_ref()).to_string();
                    tracing::warn!(repo = %this.state.repo.remote.url, %error, "following the conf repo failed");
                    status.last_error = Some(error);
                }
            }
            drop(status);
            for target in targets.values() {
                target.wake.wake();
            }
        }
    }

    /// Fetches the branch; publishes a snapshot of a new head. Returns the
    /// head.
    async fn round(&self) -> anyhow::Result<CommitId> {
        let clone = self.state.repo.clone.clone();
        let remote = self.state.repo.remote.clone();
        let head = tokio::task::spawn_blocking(move || {
            GitRepo::open(&clone).and_then(|repo| repo.fetch(&remote))
        })
        .await
        .context("fetching the conf repo")?
        .with_context(|| {
            format!(
                "fetching branch {} of the conf repo",
                self.state.repo.remote.branch
            )
        })?;
        let current = self.state.conf.borrow().as_ref().map(|s| s.commit.clone());
        if current.as_ref() == Some(&head) {
            return Ok(head);
        }
        let snapshot = self.read_snapshot(&head).await?;
        tracing::info!(
            commit = head.short(),
            problems = snapshot.report.problems.len(),
            "read the conf repo at a new head"
        );
        self.state.conf.send_replace(Some(Arc::new(snapshot)));
        Ok(head)
    }

    /// Writes `commit`'s files out and reads them.
    async fn read_snapshot(&self, commit: &CommitId) -> anyhow::Result<ConfSnapshot> {
        let config = &self.state.config;
        let folder = config.data_dir.join(COMMITS_FOLDER).join(format!(
            "{}-{}",
            commit.as_str(),
            self.serial.fetch_add(1, Ordering::Relaxed)
        ));
        let options = ReadOptions {
            targets: Some(config.targets.keys().cloned().collect()),
            secrets: Some(config.secret_variables.keys().cloned().collect()),
            variables: self.variables.clone(),
        };
        let cache_path = config.data_dir.join(compose_cache::FILE_NAME);
        let clone = self.state.repo.clone.clone();
        let commit = commit.clone();
        tokio::task::spawn_blocking(move || {
            // From here on the folder is removed with the guard, whatever
            // happens.
            let files = Arc::new(CommitFolder {
                path: folder.clone(),
            });
            let repo = GitRepo::open(&clone)?;
            repo.export(&commit, &folder)
                .with_context(|| format!("writing out the files of {}", commit.short()))?;
            let cache = ComposeCache::open(&cache_path);
            let report = read_conf_for_run(&folder, &options, &cache);
            Ok(ConfSnapshot {
                commit,
                report,
                files: Some(files),
            })
        })
        .await
        .context("reading the conf repo")?
    }
}

/// One target's loop.
struct Reconciler {
    state: AppState,
    name: String,
    target: Arc<TargetLoop>,
    /// Told how each reconcile and job ended, when the target notifies.
    notifier: Option<Arc<crate::notify::Notifier>>,
}

impl Reconciler {
    async fn run(self) {
        let this = Arc::new(self);
        loop {
            this.target.wake.next().await;
            let round = tokio::spawn({
                let this = this.clone();
                async move { this.round().await }
            });
            if let Err(panic) = round.await {
                let error = format!("the reconcile panicked: {panic}");
                tracing::error!(target = %this.name, %error);
                let mut status = lock(&this.target.status);
                status.last_error = Some(error);
                status.reconciling = false;
            }
        }
    }

    /// A reconcile, then the one-off jobs waiting.
    async fn round(&self) {
        lock(&self.target.status).reconciling = true;
        let started = std::time::Instant::now();
        let result = self.reconcile().await;
        crate::metrics::reconcile_ended(&self.name, reconcile_result(&result), started.elapsed());
        if let Some(notifier) = &self.notifier {
            let commit = self
                .state
                .conf
                .borrow()
                .as_ref()
                .map(|s| s.commit.as_str().to_owned());
            let error = result
                .as_ref()
                .err()
                .map(|error| ErrorChain(error.as_ref()).to_string());
            notifier.observe_reconcile(commit, error.as_deref());
        }
        {
            let mut status = lock(&self.target.status);
            match result {
                Ok(None) => {}
                Ok(Some(report)) => {
                    status.last_run_at = Some(now_ms());
                    status.last_error = run_error(&report);
                }
                Err(error) => {
                    let error = ErrorChain(error.as_ref()).to_string();
                    tracing::warn!(target = %self.name, %error, "reconcile failed");
                    status.last_run_at = Some(now_ms());
                    status.last_error = Some(error);
                }
            }
        }
        loop {
            let next = lock(&self.target.one_off).pop_front();
            let Some(job) = next else { break };
            self.run_one_off(job).await;
        }
        lock(&self.target.status).reconciling = false;
    }

    /// Plans from the target's last applied commit to the snapshot's and
    /// applies; `None` when there was nothing to run.
    async fn reconcile(&self) -> anyhow::Result<Option<ApplyReport>> {
        let Some(snapshot) = self.state.conf.borrow().clone() else {
            // The fetch loop has not read the repo yet: it wakes us when
            // it has.
            return Ok(None);
        };
        let engine = self.engine()?;
        engine
            .ping_in_time()
            .await
            .with_context(|| format!("target {} cannot be reached", self.name))?;
        let start = find_start(
            &self.state.store,
            &self.name,
            Some(&engine),
            &self.state.repo.clone,
        )
        .await?;
        let key = RunKey {
            start: start.commit().cloned(),
            to: snapshot.commit.clone(),
        };
        let waiting: Vec<Reserved> = lock(&self.target.reserved).clone();
        if waiting.is_empty() && lock(&self.target.last_run).as_ref() == Some(&key) {
            return Ok(None);
        }
        let asked = self.target.asked.swap(false, Ordering::SeqCst);
        let backing_off = lock(&self.target.retry)
            .as_ref()
            .is_some_and(|retry| retry.key == key && std::time::Instant::now() < retry.not_before);
        if waiting.is_empty() && !asked && backing_off {
            return Ok(None);
        }

        let clone = self.state.repo.clone.clone();
        let reachable: BTreeSet<String> = self.state.targets.keys().cloned().collect();
        let plan_snapshot = snapshot.clone();
        let (prepared, contained, expired) = tokio::task::spawn_blocking(move || {
            let repo = GitRepo::open(&clone)?;
            let to = &plan_snapshot.commit;
            let prepared = plan_range(&repo, start, to, &plan_snapshot.report, &reachable)?;
            let mut contained = Vec::new();
            let mut expired = Vec::new();
            for reserved in waiting {
                let reached =
                    repo.has_commit(&reserved.commit)? && repo.is_ancestor(&reserved.commit, to)?;
                if reached {
                    contained.push(reserved);
                } else if reserved.queued.elapsed().unwrap_or_default() > RESERVED_MAX_AGE {
                    expired.push(reserved);
                }
            }
            anyhow::Ok((prepared, contained, expired))
        })
        .await
        .context("planning")??;
        for reserved in &expired {
            let sentence = format!(
                "commit {} never reached branch {} within {} minutes",
                reserved.commit.short(),
                self.state.repo.remote.branch,
                RESERVED_MAX_AGE.as_secs() / 60
            );
            self.end_job(reserved.id, JobStatus::Failed, sentence).await;
        }

        let plan = for_target(&prepared.plan, &self.name);
        let nothing_to_do =
            plan.actions.is_empty() && prepared.start.commit() == Some(&snapshot.commit);
        let report = if nothing_to_do {
            None
        } else {
            let mut settings = self.settings(&snapshot.commit, "reconcile");
            settings.reserved = contained
                .iter()
                .map(|r| ((r.kind, r.subject.clone()), r.id))
                .collect();
            tracing::info!(
                target = %self.name,
                to = snapshot.commit.short(),
                actions = plan.actions.len(),
                "reconciling"
            );
            Some(self.apply(&snapshot, &plan, &settings).await?)
        };
        // What this run did, by kind and subject: an older job queued for
        // the same stack ends as the one that ran for the newest commit.
        let ran: HashMap<(JobKind, String), DoneAs> = report
            .iter()
            .flat_map(|r| &r.results)
            .filter_map(|result| {
                let (status, error) = result.outcome.job_status();
                let key = (
                    job_kind(&result.action.kind),
                    subject_name(&result.action.kind).to_owned(),
                );
                let done = DoneAs {
                    id: JobId(result.job?),
                    status,
                    error: error.map(str::to_owned),
                };
                Some((key, done))
            })
            .collect();
        for reserved in &contained {
            let key = (reserved.kind, reserved.subject.clone());
            match ran.get(&key) {
                Some(done) if done.id == reserved.id => {}
                Some(done) => {
                    let (status, sentence) = done.outcome();
                    self.end_job(reserved.id, status, sentence).await;
                }
                None => {
                    let (status, sentence) =
                        self.unclaimed(reserved, &prepared, &snapshot.commit).await;
                    self.end_job(reserved.id, status, sentence).await;
                }
            }
        }
        lock(&self.target.reserved).retain(|r| {
            !contained.iter().any(|c| c.id == r.id) && !expired.iter().any(|e| e.id == r.id)
        });
        let failed = report.as_ref().is_some_and(|r| r.counts().2 > 0);
        {
            let mut retry = lock(&self.target.retry);
            *retry = failed.then(|| {
                let failures = match retry.as_ref() {
                    Some(last) if last.key == key => last.failures + 1,
                    _ => 1,
                };
                let delay = retry_delay(self.state.config.repo.poll_interval, failures);
                tracing::info!(
                    target = %self.name,
                    failures,
                    retry_in_secs = delay.as_secs(),
                    "the run failed; the same run is tried again later, or at once on a new commit or syncNow"
                );
                Retry {
                    key: key.clone(),
                    failures,
                    not_before: std::time::Instant::now() + delay,
                }
            });
        }
        *lock(&self.target.last_run) = (!failed).then_some(key);
        Ok(report)
    }

    /// How a reserved job that the run applying its commit did not run
    /// ends, and why.
    async fn unclaimed(
        &self,
        reserved: &Reserved,
        prepared: &Prepared,
        to: &CommitId,
    ) -> (JobStatus, String) {
        // The commit may have been applied by a run that started before the
        // job was queued (the push and the queueing are two steps).
        let store = self.state.store.clone();
        let filter = JobFilter {
            subject: Some(reserved.subject.clone()),
            kind: Some(reserved.kind),
            limit: Some(20),
            ..JobFilter::default()
        };
        let recent = tokio::task::spawn_blocking(move || store.list_jobs(&filter))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let earlier = recent
            .iter()
            .find(|job| {
                job.id != reserved.id
                    && job.target == self.name
                    && job.commit.as_ref() == Some(&reserved.commit)
                    && job.status.is_final()
            })
            .map(|job| DoneAs {
                id: job.id,
                status: job.status,
                error: job.error.clone(),
            });
        unclaimed_outcome(
            reserved,
            &prepared.plan,
            prepared.start.commit(),
            to,
            earlier.as_ref(),
        )
    }

    /// Ends a job that did not run with `status`, `sentence` in its log
    /// and as its error, and says so on the events.
    async fn end_job(&self, id: JobId, status: JobStatus, sentence: String) {
        let store = self.state.store.clone();
        let note = sentence.clone();
        let written = tokio::task::spawn_blocking(move || {
            let seq = store.append_log(id, &note);
            // A job someone else finished meanwhile keeps its end.
            if store.finish_job(id, status, Some(&note)).is_ok() {
                super::apply::observe_end_without_run(&store, id, status, &note);
            }
            seq
        })
        .await;
        let seq = match written {
            Ok(Ok(seq)) => seq,
            _ => 0,
        };
        let events = &self.state.events;
        events.job(JobEvent::Log {
            job: id,
            seq,
            line: sentence.clone(),
        });
        events.job(JobEvent::Status {
            job: id,
            status,
            error: Some(sentence),
        });
    }

    /// Runs a one-off job as a plan of one action, recording nothing as
    /// applied.
    async fn run_one_off(&self, job: OneOff) {
        let fail = |error: String| self.end_job(job.id, JobStatus::Failed, error);
        let Some(snapshot) = self.state.conf.borrow().clone() else {
            return fail("the conf repo has not been read yet".to_owned()).await;
        };
        let kind = match job.kind {
            JobKind::Deploy => ActionKind::Deploy(job.subject.clone()),
            JobKind::Build => ActionKind::Build(job.subject.clone()),
            JobKind::Remove => {
                return fail("a stack cannot be removed by a one-off job".into()).await;
            }
        };
        let known = match &kind {
            ActionKind::Build(name) => snapshot.report.conf.images.contains_key(name),
            _ => snapshot.report.conf.stacks.contains_key(&job.subject),
        };
        if !known {
            return fail(format!(
                "{} is not in the conf repo at {} (or has problems)",
                kind.subject(),
                snapshot.commit.short()
            ))
            .await;
        }
        let plan = Plan {
            to: snapshot.commit.as_str().to_owned(),
            scope: Scope::Everything {
                why: job.reason.clone(),
            },
            dry_run: false,
            actions: vec![Action {
                id: 0,
                kind,
                target: self.name.clone(),
                reasons: vec![job.reason.clone()],
                needs: Vec::new(),
            }],
            skipped: Vec::new(),
        };
        let mut settings = self.settings(&snapshot.commit, "job");
        settings.reserved = HashMap::from([((job.kind, job.subject.clone()), job.id)]);
        settings.force = job.force;
        settings.record = false;
        if let Err(error) = self.apply(&snapshot, &plan, &settings).await {
            fail(format!("{error:#}")).await;
        }
    }

    fn engine(&self) -> anyhow::Result<crate::engine::Engine> {
        self.state
            .targets
            .get(&self.name)
            .map(|target| target.engine.clone())
            .with_context(|| format!("target {} is not configured", self.name))
    }

    fn settings(&self, commit: &CommitId, kind: &str) -> ApplySettings {
        let config = &self.state.config;
        ApplySettings {
            wait: Some(config.deploy_timeout),
            secrets: config.secret_variables.clone(),
            secret_key: Some(self.state.secret_key.clone()),
            ..ApplySettings::new(
                self.name.clone(),
                format!("{kind}-{}-{}-{}", self.name, commit.short(), now_ms()),
            )
        }
    }

    /// Applies `plan` to this target. `apply` writes each job's status and
    /// log lines to SQLite as they come, synchronously: it runs on a
    /// blocking thread that drives its Docker calls itself, so that the
    /// async workers (the API, the other loops) never wait on the store.
    async fn apply(
        &self,
        snapshot: &Arc<ConfSnapshot>,
        plan: &Plan,
        settings: &ApplySettings,
    ) -> anyhow::Result<ApplyReport> {
        let engine = self.engine()?;
        let events = self.state.events.clone();
        let store = self.state.store.clone();
        let (snapshot, plan, settings) = (snapshot.clone(), plan.clone(), settings.clone());
        let runtime = tokio::runtime::Handle::current();
        let report = tokio::task::spawn_blocking(move || {
            runtime.block_on(apply(
                &engine,
                &store,
                &snapshot.report.root,
                &snapshot.report.conf,
                &plan,
                &settings,
                &|event| {
                    if let Some(event) = job_event(&event) {
                        events.job(event);
                    }
                },
            ))
        })
        .await
        .context("applying the plan")?;
        if let Some(notifier) = &self.notifier {
            notifier.observe_report(&report);
        }
        Ok(report)
    }
}

/// The job that did the work a queued job was for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DoneAs {
    id: JobId,
    status: JobStatus,
    error: Option<String>,
}

impl DoneAs {
    /// The queued job's end: the same status, and a sentence pointing at
    /// the job that ran.
    fn outcome(&self) -> (JobStatus, String) {
        let sentence = match &self.error {
            Some(error) => format!("done as job {}: {error}", self.id),
            None => format!("done as job {}", self.id),
        };
        (self.status, sentence)
    }
}

/// How a reserved job ends when the run applying its commit (`start` to
/// `to`, with `plan`) has no action for it: skipped with the reason (a dry
/// run, a subject the plan skips, or nothing to do), or as the `earlier`
/// job that did the work for the same commit before the job was queued.
fn unclaimed_outcome(
    reserved: &Reserved,
    plan: &Plan,
    start: Option<&CommitId>,
    to: &CommitId,
    earlier: Option<&DoneAs>,
) -> (JobStatus, String) {
    let what = format!("{} {}", reserved.kind, reserved.subject);
    if plan.dry_run {
        return (
            JobStatus::Skipped,
            format!(
                "the reconcile of {} is a dry run ([dry-run] in a commit message): {what} was not done",
                to.short()
            ),
        );
    }
    let subject = match reserved.kind {
        JobKind::Build => Subject::Image(reserved.subject.clone()),
        JobKind::Deploy | JobKind::Remove => Subject::Stack(reserved.subject.clone()),
    };
    if let Some(skipped) = plan.skipped.iter().find(|s| s.subject == subject) {
        return (
            JobStatus::Skipped,
            format!("{subject} was skipped: {}", skipped.reason),
        );
    }
    if let Some(done) = earlier {
        return done.outcome();
    }
    (
        JobStatus::Skipped,
        format!(
            "the reconcile of {} had nothing to do for {what}: {}",
            to.short(),
            match start {
                Some(start) => format!("the commits since {} do not change it", start.short()),
                None => "it is already as the commit wants".to_owned(),
            }
        ),
    )
}

/// The sentence a run that did not fully succeed leaves as its target's
/// last error; `None` for a success.
fn run_error(report: &ApplyReport) -> Option<String> {
    let failures: Vec<String> = report
        .results
        .iter()
        .filter_map(|result| match &result.outcome {
            Outcome::Failed { error } => Some(format!("{}: {error}", result.action.kind.subject())),
            _ => None,
        })
        .collect();
    match failures.len() {
        0 => None,
        1 => failures.into_iter().next(),
        n => Some(format!("{n} actions failed; first: {}", failures[0])),
    }
}

/// How a reconcile round ended, for the metrics.
fn reconcile_result(result: &anyhow::Result<Option<ApplyReport>>) -> ReconcileResult {
    match result {
        Err(_) => ReconcileResult::Error,
        Ok(None) => ReconcileResult::Unchanged,
        Ok(Some(report)) if report.counts().2 > 0 => ReconcileResult::Failed,
        Ok(Some(_)) => ReconcileResult::Succeeded,
    }
}

/// What a run's event says about a job, if it is about one.
pub fn job_event(event: &ApplyEvent) -> Option<JobEvent> {
    match event {
        ApplyEvent::Started { job, .. } => Some(JobEvent::Status {
            job: (*job)?,
            status: JobStatus::Queued,
            error: None,
        }),
        ApplyEvent::Running { job, .. } => Some(JobEvent::Status {
            job: (*job)?,
            status: JobStatus::Running,
            error: None,
        }),
        ApplyEvent::Log { job, seq, line, .. } => Some(JobEvent::Log {
            job: (*job)?,
            seq: *seq,
            line: line.clone(),
        }),
        ApplyEvent::Finished { job, outcome, .. } => {
            let (status, note) = outcome.job_status();
            Some(JobEvent::Status {
                job: (*job)?,
                status,
                error: note.map(str::to_owned),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wake_ups_during_a_round_make_exactly_one_more_round() {
        let wake = Arc::new(Coalescer::default());
        wake.wake();
        assert_eq!(wake.next().await, 1);
        // Five wake-ups while "busy": one round for all of them.
        for _ in 0..5 {
            wake.wake();
        }
        assert_eq!(wake.pending(), 5);
        assert_eq!(wake.next().await, 5);
        assert_eq!(wake.pending(), 0);
        // Nothing pending: the next round waits.
        let waited = tokio::time::timeout(Duration::from_millis(100), wake.next()).await;
        assert!(waited.is_err(), "a round ran without a wake-up");
    }

    #[tokio::test]
    async fn a_wake_up_reaches_a_loop_that_is_waiting() {
        let wake = Arc::new(Coalescer::default());
        let waiter = tokio::spawn({
            let wake = wake.clone();
            async move { wake.next().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        wake.wake();
        let taken = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiting loop was not woken")
            .expect("the waiter panicked");
        assert_eq!(taken, 1);
    }

    #[tokio::test]
    async fn a_cancelled_wait_loses_no_wake_up() {
        let wake = Coalescer::default();
        // A poll timer wins the select: the wait is dropped.
        let timed_out = tokio::time::timeout(Duration::from_millis(20), wake.next()).await;
        assert!(timed_out.is_err());
        wake.wake();
        wake.wake();
        let taken = tokio::time::timeout(Duration::from_secs(5), wake.next())
            .await
            .expect("a wake-up was lost");
        assert_eq!(taken, 2);
    }

    async fn next_round(rounds: &mut tokio::sync::mpsc::UnboundedReceiver<usize>) -> usize {
        tokio::time::timeout(Duration::from_secs(5), rounds.recv())
            .await
            .expect("no round started")
            .expect("the loop ended")
    }

    #[tokio::test]
    async fn a_loop_runs_one_round_at_a_time_and_coalesces() {
        // A loop whose rounds wait for the test's go: twenty wake-ups
        // during the first round make exactly one more round, and nothing
        // after it.
        let wake = Arc::new(Coalescer::default());
        let go = Arc::new(tokio::sync::Semaphore::new(0));
        let (entered, mut rounds) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let looper = tokio::spawn({
            let (wake, go) = (wake.clone(), go.clone());
            async move {
                loop {
                    let taken = wake.next().await;
                    let _ = entered.send(taken);
                    go.acquire().await.expect("semaphore").forget();
                }
            }
        });
        wake.wake();
        assert_eq!(next_round(&mut rounds).await, 1);
        for _ in 0..20 {
            wake.wake();
        }
        go.add_permits(1);
        assert_eq!(
            next_round(&mut rounds).await,
            20,
            "the wake-ups were not coalesced"
        );
        go.add_permits(1);
        let more = tokio::time::timeout(Duration::from_millis(200), rounds.recv()).await;
        assert!(more.is_err(), "a round ran without a wake-up: {more:?}");
        looper.abort();
    }

    #[test]
    fn apply_events_become_job_events() {
        let job = Some(JobId(7));
        let log = ApplyEvent::Log {
            action: 0,
            job,
            seq: 3,
            line: "hello".into(),
        };
        assert_eq!(
            job_event(&log),
            Some(JobEvent::Log {
                job: JobId(7),
                seq: 3,
                line: "hello".into()
            })
        );
        let running = ApplyEvent::Running { action: 0, job };
        assert_eq!(
            job_event(&running),
            Some(JobEvent::Status {
                job: JobId(7),
                status: JobStatus::Running,
                error: None
            })
        );
        let cases = [
            (
                Outcome::Succeeded {
                    summary: "web updated".into(),
                },
                JobStatus::Succeeded,
                None,
            ),
            (
                Outcome::Unchanged {
                    summary: "no change".into(),
                },
                JobStatus::Succeeded,
                None,
            ),
            (
                Outcome::Failed {
                    error: "boom".into(),
                },
                JobStatus::Failed,
                Some("boom".to_owned()),
            ),
            (
                Outcome::Skipped {
                    reason: "dry run".into(),
                },
                JobStatus::Skipped,
                Some("dry run".to_owned()),
            ),
        ];
        for (outcome, status, error) in cases {
            let finished = ApplyEvent::Finished {
                action: 0,
                job,
                outcome,
            };
            assert_eq!(
                job_event(&finished),
                Some(JobEvent::Status {
                    job: JobId(7),
                    status,
                    error
                })
            );
        }
        // A dry run's actions have no job: nothing to say.
        let no_job = ApplyEvent::Running {
            action: 0,
            job: None,
        };
        assert_eq!(job_event(&no_job), None);
    }

    #[test]
    fn a_failing_run_is_retried_after_a_doubling_delay() {
        let poll = Duration::from_secs(60);
        let delays: Vec<u64> = (1..=7).map(|n| retry_delay(poll, n).as_secs()).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(
            retry_delay(Duration::from_secs(1), 1),
            Duration::from_secs(1)
        );
        assert_eq!(retry_delay(poll, u32::MAX), RETRY_MAX_DELAY);
    }

    #[test]
    fn a_commit_folder_is_removed_with_its_last_user() {
        let dir = tempfile::tempdir().expect("temp folder");
        let path = dir.path().join("abc-0");
        std::fs::create_dir_all(path.join("sub")).expect("mkdir");
        std::fs::write(path.join("sub/file"), "x").expect("write");
        let folder = Arc::new(CommitFolder { path: path.clone() });
        let user = folder.clone();
        drop(folder);
        assert!(path.exists(), "removed while still used");
        drop(user);
        assert!(!path.exists(), "kept after its last user");
    }

    fn reserved(kind: JobKind, subject: &str) -> Reserved {
        Reserved {
            id: JobId(9),
            commit: CommitId::parse(&"b".repeat(40)).expect("commit id"),
            kind,
            subject: subject.into(),
            queued: SystemTime::now(),
        }
    }

    fn empty_plan() -> Plan {
        Plan {
            to: "c".repeat(40),
            scope: Scope::Changes {
                from: "a".repeat(40),
            },
            dry_run: false,
            actions: Vec::new(),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn a_reserved_job_without_its_action_ends_with_the_reason() {
        let start = CommitId::parse(&"a".repeat(40)).expect("commit id");
        let to = CommitId::parse(&"c".repeat(40)).expect("commit id");
        let job = reserved(JobKind::Deploy, "shop");

        let (status, why) = unclaimed_outcome(&job, &empty_plan(), Some(&start), &to, None);
        assert_eq!(status, JobStatus::Skipped);
        assert_eq!(
            why,
            "the reconcile of ccccccc had nothing to do for deploy shop: the commits since aaaaaaa do not change it"
        );

        let dry = Plan {
            dry_run: true,
            ..empty_plan()
        };
        let (status, why) = unclaimed_outcome(&job, &dry, Some(&start), &to, None);
        assert_eq!(status, JobStatus::Skipped);
        assert!(why.contains("dry run"), "{why}");

        let skipping = Plan {
            skipped: vec![crate::reconcile::Skipped {
                subject: Subject::Stack("shop".into()),
                reason: "docker-compose-shop.yml has problems".into(),
            }],
            ..empty_plan()
        };
        let (status, why) = unclaimed_outcome(&job, &skipping, Some(&start), &to, None);
        assert_eq!(status, JobStatus::Skipped);
        assert_eq!(
            why,
            "stack shop was skipped: docker-compose-shop.yml has problems"
        );
        // An image of the same name is another subject.
        let build = reserved(JobKind::Build, "shop");
        let (_, why) = unclaimed_outcome(&build, &skipping, Some(&start), &to, None);
        assert!(why.contains("nothing to do for build shop"), "{why}");

        // Done by a run that began before the job was queued: its end.
        let earlier = DoneAs {
            id: JobId(7),
            status: JobStatus::Failed,
            error: Some("task failed".into()),
        };
        let (status, why) =
            unclaimed_outcome(&job, &empty_plan(), Some(&start), &to, Some(&earlier));
        assert_eq!(status, JobStatus::Failed);
        assert_eq!(why, "done as job 7: task failed");
    }

    #[test]
    fn requests_fail_clearly_before_the_loops_start() {
        let follow = Follow::default();
        let job = ExpectedJob {
            kind: JobKind::Deploy,
            subject: "shop".into(),
            target: "default".into(),
        };
        let error = follow.run_job(job.clone(), false).unwrap_err();
        assert_eq!(error.to_string(), "the follow loops are not running");
        let commit = CommitId::parse(&"a".repeat(40)).expect("commit id");
        assert!(follow.expect_jobs(&commit, &[job]).is_err());
        // Waking is always fine.
        follow.sync_now();
        assert!(follow.target_statuses().is_empty());
    }
}
