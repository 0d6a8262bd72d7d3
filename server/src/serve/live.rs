//! The live state of each target, read by one loop per target without
//! hammering Docker: every `live_interval` two calls (`GET /services` and
//! `GET /tasks`, see `engine::watch`), `GET /nodes` once a minute and
//! `GET /info` every half minute, whatever the number of stacks. The
//! GraphQL queries are answered from the latest [`LiveState`] and make no
//! Docker call of their own.
//!
//! After each read the loop diffs the tasks with the previous read and
//! sends a [`TaskEvent`] per new, changed or gone task, computes every
//! stack's sync status and health (`reconcile::status`) against the conf
//! snapshot and sends a [`StackStatusEvent`] when one changes. Every
//! `drift_interval` it redeploys the drifted stacks whose `selfHeal` is on,
//! one job at a time per stack.
//!
//! A target that cannot be read keeps its last state, marked stale with
//! the error, and is retried with a backoff of up to 30 s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use super::events::{StackStatusEvent, TaskEvent};
use super::state::{AppState, ConfSnapshot};
use crate::conf::model::{DEFAULT_TARGET, StackEntry};
use crate::engine::Engine;
use crate::engine::deadline::{READ_TIMEOUT, within};
use crate::engine::error::ErrorChain;
use crate::engine::spec_hash::spec_hash;
use crate::engine::watch::{EngineInfo, LiveService, LiveTask, comparable_hash};
use crate::reconcile::follow::ExpectedJob;
use crate::reconcile::status::{
    self, Desired, DesiredService, Drift, Health, LastDeploy, Reachability, ServiceHealth, Sync,
    SyncStatus,
};
use crate::store::{JobFilter, JobId, JobKind};

/// The longest wait between two tries to read a target that is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often node names are read again.
const NODES_EVERY: Duration = Duration::from_secs(60);
/// How often the engine's status (`GET /info`) is read again.
const INFO_EVERY: Duration = Duration::from_secs(30);
/// How many recent deploy jobs are read per interval to find each stack's
/// last one (one store query, whatever the number of stacks).
const RECENT_DEPLOYS: u32 = 1000;

/// The live states, one watch channel per target, by target name.
pub type LiveStates = Arc<BTreeMap<String, watch::Sender<Arc<LiveState>>>>;

/// One target as last read, with every stack's computed status.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// The target's name.
    pub target: String,
    /// When the last successful read ended (Unix seconds); `None` before
    /// the first.
    pub read_at: Option<i64>,
    /// The last read's error: set, the state is stale (the last good read's).
    pub error: Option<String>,
    /// The engine's status, from its last `GET /info`.
    pub info: Option<EngineInfo>,
    /// Every service of every stack.
    pub services: Vec<LiveService>,
    /// Every task of every stack, current and past.
    pub tasks: Vec<LiveTask>,
    /// The tasks of each service (indexes into `tasks`), by service ID.
    pub tasks_by_service: HashMap<String, Vec<usize>>,
    /// Node hostnames by node ID.
    pub nodes: HashMap<String, String>,
    /// Every stack the target has or git puts on it, by name.
    pub stacks: BTreeMap<String, StackState>,
    /// The conf snapshot's commit the statuses were computed against.
    pub commit: Option<String>,
    /// The target's last applied commit (the store), at the last read.
    pub applied_commit: Option<String>,
}

/// One stack's computed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackState {
    /// Its sync status, reason and drift.
    pub sync: Sync,
    /// Its health.
    pub health: Health,
    /// Its live services (indexes into [`LiveState::services`]), by name.
    pub services: Vec<usize>,
    /// Each live service's task counts and health, in `services`' order.
    pub service_health: Vec<ServiceHealth>,
    /// voc's last deploy of it on this target.
    pub last_deploy: Option<LastDeploy>,
    /// True when git has it.
    pub in_git: bool,
    /// The definition and version its Compose file was rendered from
    /// (the file's first line), for stacks made from a definition.
    pub rendered_from: Option<(String, String)>,
}

impl LiveState {
    /// True when the last read failed (what is shown is older).
    pub fn is_stale(&self) -> bool {
        self.error.is_some()
    }

    /// True when the target answered at its last read.
    pub fn is_reachable(&self) -> bool {
        self.read_at.is_some() && self.error.is_none()
    }

    /// The tasks of the service with ID `service_id`.
    pub fn tasks_of<'a>(&'a self, service_id: &str) -> impl Iterator<Item = &'a LiveTask> {
        self.tasks_by_service
            .get(service_id)
            .into_iter()
            .flatten()
            .map(|index| &self.tasks[*index])
    }

    /// A node's hostname (its ID when unknown).
    pub fn node_name<'a>(&'a self, node_id: &'a str) -> &'a str {
        self.nodes.get(node_id).map_or(node_id, String::as_str)
    }
}

/// A channel per configured target, each holding an empty state.
pub fn channels(targets: impl IntoIterator<Item = String>) -> LiveStates {
    Arc::new(
        targets
            .into_iter()
            .map(|target| {
                let state = LiveState {
                    target: target.clone(),
                    ..LiveState::default()
                };
                (target, watch::channel(Arc::new(state)).0)
            })
            .collect(),
    )
}

/// Starts one loop per target. They run until the process ends.
pub fn start(state: &AppState) {
    for (name, target) in state.targets.iter() {
        let Some(channel) = state.live.get(name) else {
            continue;
        };
        let watcher = Watcher {
            app: state.clone(),
            target: name.clone(),
            engine: target.engine.clone(),
            channel: channel.clone(),
            desired: None,
            healing: HashMap::new(),
            last_drift_check: None,
            last_nodes: None,
            last_info: None,
        };
        tokio::spawn(watcher.run());
    }
}

/// What one stack's desired state is, per stack, for one commit.
struct DesiredCache {
    commit: String,
    stacks: BTreeMap<String, Desired>,
    self_heal: BTreeSet<String>,
    rendered_from: BTreeMap<String, (String, String)>,
}

struct Watcher {
    app: AppState,
    target: String,
    engine: Engine,
    channel: watch::Sender<Arc<LiveState>>,
    desired: Option<Arc<DesiredCache>>,
    /// The redeploy job running per self-healed stack.
    healing: HashMap<String, JobId>,
    last_drift_check: Option<Instant>,
    last_nodes: Option<Instant>,
    last_info: Option<Instant>,
}

impl Watcher {
    async fn run(mut self) {
        let interval = self
            .app
            .config
            .live_interval
            .max(Duration::from_millis(100));
        let mut failures: u32 = 0;
        loop {
            let started = Instant::now();
            match self.read().await {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(target = %self.target, "reading the live state: {error}");
                    self.mark_stale(error).await;
                }
            }
            let wait = if failures == 0 {
                interval.saturating_sub(started.elapsed())
            } else {
                backoff(interval, failures)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One read: the engine, then the statuses, events and self-healing.
    async fn read(&mut self) -> Result<(), String> {
        let engine = &self.engine;
        let (services, tasks) = within(READ_TIMEOUT, "the list of services and tasks", async {
            let (services, tasks) =
                tokio::join!(engine.read_stack_services(), engine.read_stack_tasks());
            Ok((services?, tasks?))
        })
        .await
        .map_err(|e| ErrorChain(&e).to_string())?;
        let previous = self.channel.borrow().clone();
        // Nodes come and go rarely: a task on a node joined since shows the
        // node's ID until the next read of the names.
        let nodes = if self.last_nodes.is_none_or(|at| at.elapsed() >= NODES_EVERY) {
            let nodes = within(READ_TIMEOUT, "the list of nodes", engine.node_names())
                .await
                .map_err(|e| ErrorChain(&e).to_string())?;
            self.last_nodes = Some(Instant::now());
            nodes
        } else {
            previous.nodes.clone()
        };
        let info =
            if previous.is_stale() || self.last_info.is_none_or(|at| at.elapsed() >= INFO_EVERY) {
                let info = within(READ_TIMEOUT, "/info", engine.engine_info())
                    .await
                    .map_err(|e| ErrorChain(&e).to_string())?;
                self.last_info = Some(Instant::now());
                Some(info)
            } else {
                previous.info.clone()
            };

        let snapshot = self.app.conf.borrow().clone();
        let desired = self.desired_for(snapshot.as_deref()).await;
        let (last_deploys, applied) = self.read_store().await;
        let now = unix_now();
        let mut tasks_by_service: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, task) in tasks.iter().enumerate() {
            tasks_by_service
                .entry(task.service_id.clone())
                .or_default()
                .push(index);
        }
        let mut next = LiveState {
            target: self.target.clone(),
            read_at: Some(now),
            error: None,
            info,
            services,
            tasks,
            tasks_by_service,
            nodes,
            stacks: BTreeMap::new(),
            commit: desired.as_ref().map(|d| d.commit.clone()),
            applied_commit: applied.clone(),
        };
        next.stacks = compute_stacks(
            &next,
            desired.as_deref(),
            &last_deploys,
            applied.as_deref(),
            Reachability::Read,
            now,
        );
        self.send_events(&previous, &next);
        let next = Arc::new(next);
        self.channel.send_replace(next.clone());
        if self
            .last_drift_check
            .is_none_or(|at| at.elapsed() >= self.app.config.drift_interval)
        {
            self.last_drift_check = Some(Instant::now());
            if let Some(desired) = &desired {
                self.heal(&next, desired).await;
            }
        }
        Ok(())
    }

    /// Keeps the last good services and tasks, marked stale with
    /// `error`; every stack's sync status becomes unknown, with the error
    /// as its reason (the stacks git puts on the target included, even
    /// when it was never read).
    async fn mark_stale(&mut self, error: String) {
        let previous = self.channel.borrow().clone();
        let snapshot = self.app.conf.borrow().clone();
        let desired = self.desired_for(snapshot.as_deref()).await;
        let (last_deploys, applied) = self.read_store().await;
        let mut next = (*previous).clone();
        next.error = Some(error.clone());
        next.commit = desired.as_ref().map(|d| d.commit.clone());
        next.applied_commit = applied.clone();
        next.stacks = compute_stacks(
            &next,
            desired.as_deref(),
            &last_deploys,
            applied.as_deref(),
            Reachability::Unreachable(&error),
            unix_now(),
        );
        self.send_events(&previous, &next);
        self.channel.send_replace(Arc::new(next));
    }

    /// The desired state of this target's stacks at `snapshot`'s commit,
    /// loaded once per commit (the Compose files are loaded and converted
    /// exactly as a deploy does, on a blocking thread).
    async fn desired_for(&mut self, snapshot: Option<&ConfSnapshot>) -> Option<Arc<DesiredCache>> {
        let snapshot = snapshot?;
        let commit = snapshot.commit.to_string();
        if let Some(cached) = &self.desired
            && cached.commit == commit
        {
            return Some(cached.clone());
        }
        let conf = &snapshot.report.conf;
        let stacks: Vec<StackEntry> = conf
            .stacks
            .values()
            .filter(|s| s.config.target == self.target)
            .cloned()
            .collect();
        let invalid: Vec<(String, String)> = conf
            .invalid_stacks
            .iter()
            .map(|name| {
                let subject = crate::conf::model::Subject::Stack(name.clone());
                let problem = snapshot
                    .report
                    .problems
                    .iter()
                    .find(|p| p.subject.as_ref() == Some(&subject))
                    .map_or_else(|| "its files are invalid".to_owned(), ToString::to_string);
                (name.clone(), problem)
            })
            .collect();
        let root = snapshot.report.root.clone();
        let key = self.app.secret_key.clone();
        let loaded_commit = commit.clone();
        let cache = tokio::task::spawn_blocking(move || {
            let mut cache = DesiredCache {
                commit: loaded_commit.clone(),
                stacks: BTreeMap::new(),
                self_heal: BTreeSet::new(),
                rendered_from: BTreeMap::new(),
            };
            for (name, problem) in invalid {
                cache.stacks.insert(name, Desired::Unloadable(problem));
            }
            for stack in &stacks {
                if stack.config.self_heal {
                    cache.self_heal.insert(stack.name.clone());
                }
                if stack.config.definition.is_some()
                    && let Some(from) = rendered_from(&root.join(&stack.compose_file))
                {
                    cache.rendered_from.insert(stack.name.clone(), from);
                }
                cache.stacks.insert(
                    stack.name.clone(),
                    desired_stack(&root, stack, &key, &loaded_commit),
                );
            }
            cache
        })
        .await
        .ok()?;
        let cache = Arc::new(cache);
        self.desired = Some(cache.clone());
        Some(cache)
    }

    /// Each stack's last deploy on this target, and the target's last
    /// applied commit: two store queries, whatever the number of stacks.
    async fn read_store(&self) -> (HashMap<String, LastDeploy>, Option<String>) {
        let store = self.app.store.clone();
        let target = self.target.clone();
        tokio::task::spawn_blocking(move || {
            let filter = JobFilter {
                kind: Some(JobKind::Deploy),
                limit: Some(RECENT_DEPLOYS),
                ..JobFilter::default()
            };
            let mut last: HashMap<String, LastDeploy> = HashMap::new();
            for job in store.list_jobs(&filter).unwrap_or_default() {
                if job.target == target && !last.contains_key(&job.subject) {
                    last.insert(
                        job.subject.clone(),
                        LastDeploy {
                            id: job.id,
                            status: job.status,
                            error: job.error.clone(),
                            finished_at: job.finished_at,
                        },
                    );
                }
            }
            let applied = store
                .last_applied(&target)
                .ok()
                .flatten()
                .map(|a| a.commit.to_string());
            (last, applied)
        })
        .await
        .unwrap_or_default()
    }

    fn send_events(&self, previous: &LiveState, next: &LiveState) {
        let events = &self.app.events;
        let service_of = |id: &str| {
            next.services
                .iter()
                .chain(previous.services.iter())
                .find(|s| s.id == id)
                .map(|s| (s.stack.clone(), s.name.clone()))
        };
        // The first read finds every task: they are not news.
        if previous.read_at.is_some() {
            for change in status::diff_tasks(&previous.tasks, &next.tasks) {
                let Some(task) = change.after.or(change.before) else {
                    continue;
                };
                let (stack, service) = service_of(&task.service_id)
                    .unwrap_or_else(|| (String::new(), task.service_id.clone()));
                let _ = events.tasks.send(TaskEvent {
                    target: self.target.clone(),
                    stack,
                    service,
                    task: task.id.clone(),
                    previous_state: change.before.map(|t| t.state.clone()),
                    state: change.after.map(|t| t.state.clone()),
                    error: change.after.and_then(|t| t.error.clone()),
                });
            }
        }
        let names: BTreeSet<&String> = previous.stacks.keys().chain(next.stacks.keys()).collect();
        for name in names {
            let before = previous.stacks.get(name);
            let after = next.stacks.get(name);
            let changed = match (before, after) {
                (Some(a), Some(b)) => {
                    a.sync.status != b.sync.status
                        || a.sync.reason != b.sync.reason
                        || a.health != b.health
                }
                _ => true,
            };
            if changed {
                let _ = events.stacks.send(StackStatusEvent {
                    target: self.target.clone(),
                    stack: name.clone(),
                });
            }
        }
    }

    /// Redeploys the drifted stacks whose `selfHeal` is on, unless their
    /// previous redeploy still runs.
    async fn heal(&mut self, live: &LiveState, desired: &DesiredCache) {
        let store = self.app.store.clone();
        let running: Vec<(String, JobId)> = self.healing.drain().collect();
        let still = tokio::task::spawn_blocking(move || {
            running
                .into_iter()
                .filter(|(_, id)| {
                    store
                        .job(*id)
                        .ok()
                        .flatten()
                        .is_some_and(|job| !job.status.is_final())
                })
                .collect::<HashMap<_, _>>()
        })
        .await
        .unwrap_or_default();
        self.healing = still;
        // The follow loop deploys a commit that is not applied yet by
        // itself: healing is for drift from what was applied.
        let applied = live.applied_commit.as_deref() == Some(desired.commit.as_str());
        for name in &desired.self_heal {
            let Some(stack) = live.stacks.get(name) else {
                continue;
            };
            if !applied || !needs_healing(&stack.sync) || self.healing.contains_key(name) {
                continue;
            }
            // A service changed by hand still carries git's spec-hash
            // label, so only a forced deploy sends its spec again.
            let force = stack
                .sync
                .drift
                .iter()
                .any(|d| matches!(d, Drift::ChangedByHand(_)));
            let job = ExpectedJob {
                kind: JobKind::Deploy,
                subject: name.clone(),
                target: self.target.clone(),
            };
            match self.app.follow.run_job(job, force) {
                Ok(id) => {
                    tracing::info!(target = %self.target, stack = %name, job = id.0,
                        "self-healing a drifted stack: {}", stack.sync.reason);
                    self.healing.insert(name.clone(), id);
                }
                Err(error) => {
                    tracing::warn!(target = %self.target, stack = %name,
                        "cannot self-heal the drifted stack: {error}");
                }
            }
        }
    }
}

/// True for a stack whose live services drifted from git's (not for a
/// failed deploy, which a redeploy would repeat, nor for a disabled stack,
/// which the follow loop removes).
fn needs_healing(sync: &Sync) -> bool {
    sync.status == SyncStatus::OutOfSync && !sync.drift.is_empty()
}

/// The wait before the next try after `failures` failed reads in a row.
fn backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    interval.saturating_mul(factor).min(MAX_BACKOFF)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What git wants of `stack`, at `commit`.
fn desired_stack(
    root: &std::path::Path,
    stack: &StackEntry,
    key: &crate::secret::SecretKey,
    commit: &str,
) -> Desired {
    if !stack.config.enabled {
        return Desired::Disabled;
    }
    match crate::reconcile::apply::load_stack_spec(root, stack, Some(key)) {
        Ok((spec, _warnings)) => Desired::Services {
            commit: commit.to_owned(),
            services: spec
                .services
                .iter()
                .map(|service| DesiredService {
                    name: service.name.clone(),
                    spec_hash: spec_hash(&service.spec),
                    comparable_hash: comparable_hash(&service.spec),
                })
                .collect(),
        },
        Err(error) => Desired::Unloadable(format!("{error:#}")),
    }
}

/// The definition and version named by the header voc writes on the
/// first line of a rendered Compose file (`# Generated by voc from
/// definition webapp@1.2.0: ...`).
fn rendered_from(compose_file: &std::path::Path) -> Option<(String, String)> {
    use std::io::BufRead;
    let file = std::fs::File::open(compose_file).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(file).read_line(&mut line).ok()?;
    parse_rendered_from(&line)
}

fn parse_rendered_from(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("# Generated by voc from definition ")?;
    let reference = rest.split([':', ' ', '\n']).next()?;
    let (name, version) = reference.split_once('@')?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_owned(), version.to_owned()))
}

/// Every stack's state: the stacks git puts on this target and the ones
/// that run on it.
fn compute_stacks(
    live: &LiveState,
    desired: Option<&DesiredCache>,
    last_deploys: &HashMap<String, LastDeploy>,
    applied: Option<&str>,
    reachability: Reachability<'_>,
    now: i64,
) -> BTreeMap<String, StackState> {
    let mut by_stack: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, service) in live.services.iter().enumerate() {
        by_stack
            .entry(service.stack.as_str())
            .or_default()
            .push(index);
    }
    for indexes in by_stack.values_mut() {
        indexes.sort_by(|a, b| live.services[*a].name.cmp(&live.services[*b].name));
    }
    let mut tasks_by_service: HashMap<&str, Vec<&LiveTask>> = HashMap::new();
    for task in &live.tasks {
        tasks_by_service
            .entry(task.service_id.as_str())
            .or_default()
            .push(task);
    }
    let mut names: BTreeSet<&str> = by_stack.keys().copied().collect();
    if let Some(desired) = desired {
        for (name, want) in &desired.stacks {
            // Invalid stacks have no known target: show them on the
            // default one unless they run somewhere.
            let placed = !matches!(want, Desired::Unloadable(_)) || live.target == DEFAULT_TARGET;
            if placed {
                names.insert(name);
            }
        }
    }
    let absent = Desired::Absent;
    let no_snapshot = Desired::NotYetRead;
    names
        .into_iter()
        .map(|name| {
            let indexes = by_stack.get(name).cloned().unwrap_or_default();
            let services: Vec<&LiveService> = indexes.iter().map(|i| &live.services[*i]).collect();
            let want = match desired {
                Some(desired) => desired.stacks.get(name).unwrap_or(&absent),
                None => &no_snapshot,
            };
            let last_deploy = last_deploys.get(name).cloned();
            let sync = status::sync_status(&status::StatusInput {
                target: &live.target,
                reachability,
                desired: want,
                live: &services,
                last_deploy: last_deploy.as_ref(),
                applied_commit: applied,
            });
            let service_health: Vec<ServiceHealth> = services
                .iter()
                .map(|service| {
                    let tasks = tasks_by_service
                        .get(service.id.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    status::service_health(service, tasks, now)
                })
                .collect();
            let state = StackState {
                health: status::stack_health(&service_health),
                sync,
                services: indexes,
                service_health,
                last_deploy,
                in_git: !matches!(want, Desired::Absent),
                rendered_from: desired.and_then(|d| d.rendered_from.get(name).cloned()),
            };
            (name.to_owned(), state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let interval = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=6).map(|n| backoff(interval, n).as_secs()).collect();
        assert_eq!(waits, vec![2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(interval, u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn the_rendered_header_names_the_definition_and_version() {
        assert_eq!(
            parse_rendered_from(
                "# Generated by voc from definition webapp@1.2.0: do not edit, voc renders it again from stack-shop.json.\n"
            ),
            Some(("webapp".to_owned(), "1.2.0".to_owned()))
        );
        assert_eq!(parse_rendered_from("version: \"3.8\"\n"), None);
        assert_eq!(
            parse_rendered_from("# Generated by voc from definition webapp: x"),
            None
        );
    }

    #[test]
    fn only_drift_is_healed() {
        let sync = |status, reason: &str, drift: Vec<Drift>| Sync {
            status,
            reason: reason.to_owned(),
            drift,
        };
        let hand = vec![Drift::ChangedByHand("s_web".into())];
        assert!(needs_healing(&sync(
            SyncStatus::OutOfSync,
            "service s_web was changed by hand",
            hand.clone()
        )));
        assert!(!needs_healing(&sync(
            SyncStatus::OutOfSync,
            "the stack is disabled in git but still runs",
            vec![]
        )));
        assert!(!needs_healing(&sync(
            SyncStatus::Failed,
            "the last deploy failed",
            hand.clone()
        )));
        assert!(!needs_healing(&sync(SyncStatus::Synced, "", vec![])));
    }
}
