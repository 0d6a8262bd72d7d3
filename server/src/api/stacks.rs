//! Stacks, their services and tasks: `stacks`, `stack`, and the
//! subscriptions `taskEvents` and `stackStatusChanged`.
//!
//! Everything is answered from the live state the per-target loops keep
//! (`serve::live`) and the conf snapshot: a query makes no Docker call
//! and no store query, whatever it asks for.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, Json, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::caller::{Role, require};
use super::error::{ApiError, ApiResult};
use crate::conf::model::StackEntry;
use crate::conf::render::options::{is_secret_placeholder, secret_placeholder};
use crate::engine::watch::{LiveService, LiveTask};
use crate::reconcile::status::{LastDeploy, ServiceHealth};
use crate::serve::live::{LiveState, StackState};
use crate::serve::{AppState, ConfSnapshot, TaskEvent};

/// Whether a stack runs what git has.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::reconcile::status::SyncStatus")]
pub enum SyncStatus {
    /// It runs what git has.
    Synced,
    /// It differs from git (see `syncReason`).
    OutOfSync,
    /// voc's last deploy of it failed.
    Failed,
    /// voc cannot tell (the target cannot be read, or git's files cannot
    /// be loaded).
    Unknown,
}

/// How a stack's tasks are doing.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::reconcile::status::Health")]
pub enum Health {
    /// Every service runs its desired tasks.
    Healthy,
    /// Tasks are starting, or a rolling update is under way.
    Progressing,
    /// Tasks fail, or an update paused or rolled back.
    Degraded,
    /// Nothing of the stack runs.
    Missing,
}

/// The last job of a kind about a stack or image (its full record is the
/// `job` query's).
#[derive(SimpleObject, Debug, Clone)]
pub struct LastJob {
    /// The job's id.
    pub id: i64,
    /// `queued`, `running`, `succeeded`, `failed` or `skipped`.
    pub status: String,
    /// When it finished (RFC 3339), if it did.
    pub finished_at: Option<String>,
    /// Its error, if it failed.
    pub error: Option<String>,
}

impl From<&LastDeploy> for LastJob {
    fn from(job: &LastDeploy) -> Self {
        LastJob {
            id: job.id.0,
            status: job.status.as_str().to_owned(),
            finished_at: job.finished_at.map(crate::timestamp::format_millis),
            error: job.error.clone(),
        }
    }
}

/// The stack definition a stack was made from.
#[derive(SimpleObject, Debug, Clone)]
pub struct StackDefinitionRef {
    /// The definition's name.
    pub name: String,
    /// The version that rendered the stack's Compose file (`null` when
    /// the file does not say).
    pub version: Option<String>,
}

/// A stack on a target: what git says of it and what runs.
#[derive(Clone)]
pub struct Stack {
    name: String,
    target: String,
    live: Arc<LiveState>,
    snapshot: Option<Arc<ConfSnapshot>>,
}

impl Stack {
    fn state(&self) -> Option<&StackState> {
        self.live.stacks.get(&self.name)
    }

    fn entry(&self) -> Option<&StackEntry> {
        self.snapshot.as_ref()?.report.conf.stacks.get(&self.name)
    }

    /// The most common `io.voc.commit` label of its live services.
    fn deployed_commit_label(&self) -> Option<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, service, _) in self.live_services() {
            if let Some(commit) = service.commit_label.as_deref() {
                *counts.entry(commit).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, count)| *count)
            .map(|(commit, _)| commit.to_owned())
    }

    /// Each live service with its index in the live state and its health.
    fn live_services(&self) -> impl Iterator<Item = (usize, &LiveService, &ServiceHealth)> {
        self.state().into_iter().flat_map(|state| {
            state
                .services
                .iter()
                .zip(&state.service_health)
                .map(|(index, health)| (*index, &self.live.services[*index], health))
        })
    }
}

#[Object]
impl Stack {
    /// The stack's name.
    async fn name(&self) -> &str {
        &self.name
    }

    /// The Docker target it runs on (or that git names for it).
    async fn target(&self) -> &str {
        &self.target
    }

    /// False when git disables it (voc removes it from the swarm).
    async fn enabled(&self) -> bool {
        self.entry().is_none_or(|entry| entry.config.enabled)
    }

    /// Whether it runs what git has.
    async fn sync_status(&self) -> SyncStatus {
        self.state()
            .map_or(SyncStatus::Unknown, |state| state.sync.status.into())
    }

    /// Why, in a sentence.
    async fn sync_reason(&self) -> String {
        match self.state() {
            Some(state) => state.sync.reason.clone(),
            None => format!("target {} is not configured", self.target),
        }
    }

    /// How its tasks are doing.
    async fn health(&self) -> Health {
        self.state()
            .map_or(Health::Missing, |state| state.health.into())
    }

    /// Its live services, by name.
    async fn services(&self) -> Vec<Service> {
        self.live_services()
            .map(|(index, _, health)| Service {
                live: self.live.clone(),
                stack_prefix_len: self.name.len() + 1,
                index,
                health: health.clone(),
            })
            .collect()
    }

    /// Tasks running as desired, over every service.
    async fn running_tasks(&self) -> u64 {
        self.live_services()
            .map(|(_, _, health)| health.running)
            .sum()
    }

    /// Tasks the services want, over every service.
    async fn desired_tasks(&self) -> u64 {
        self.live_services()
            .map(|(_, _, health)| health.desired)
            .sum()
    }

    /// The commit voc last deployed it from (its services' `io.voc.commit`
    /// label; the most common one when they differ).
    async fn deployed_commit(&self) -> Option<String> {
        self.deployed_commit_label()
    }

    /// The commit git is at (`null` when git does not have the stack).
    async fn desired_commit(&self) -> Option<String> {
        self.entry()?;
        self.snapshot.as_ref().map(|s| s.commit.to_string())
    }

    /// The stack definition it was made from (`null` for hand-written
    /// stacks).
    async fn definition(&self) -> Option<StackDefinitionRef> {
        let name = self.entry()?.config.definition.clone()?;
        let version = self
            .state()
            .and_then(|state| state.rendered_from.as_ref())
            .filter(|(from, _)| *from == name)
            .map(|(_, version)| version.clone());
        Some(StackDefinitionRef { name, version })
    }

    /// The options it was rendered with; secrets (`writeOnly` options)
    /// show as their placeholder, never their value.
    async fn options(&self) -> Option<Json<Map<String, Value>>> {
        let entry = self.entry()?;
        let options = entry.config.options.as_ref()?;
        let schema = entry.config.definition.as_ref().and_then(|definition| {
            let definitions = &self.snapshot.as_ref()?.report.conf.definitions;
            Some(definitions.get(definition)?.meta.options.clone())
        });
        Some(Json(masked_options(options, schema.as_ref())))
    }

    /// Its Compose file in the conf repo.
    async fn compose_file(&self) -> Option<&str> {
        self.entry().map(|entry| entry.compose_file.as_str())
    }

    /// The text of its Compose file at the commit git is at (`desiredCommit`);
    /// `null` when git does not have the stack. Read from disk when asked.
    async fn compose_text(&self) -> ApiResult<Option<String>> {
        let (Some(entry), Some(snapshot)) = (self.entry(), self.snapshot.as_ref()) else {
            return Ok(None);
        };
        let path = snapshot.report.root.join(&entry.compose_file);
        // The snapshot keeps its folder on disk while it lives.
        let snapshot = snapshot.clone();
        let shown = entry.compose_file.clone();
        let text = tokio::task::spawn_blocking(move || {
            let text = std::fs::read(&path);
            drop(snapshot);
            text
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| {
            ApiError::internal(format!(
                "voc could not read the Compose file {shown} of the commit it follows: {error}"
            ))
        })?;
        Ok(Some(String::from_utf8_lossy(&text).into_owned()))
    }

    /// The text of its Compose file at the commit voc last deployed it from
    /// (`deployedCommit`), read from voc's clone at the path git has now;
    /// `null` when either is unknown or the file was not there then.
    async fn deployed_compose_text(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(entry) = self.entry() else {
            return Ok(None);
        };
        let Some(commit) = self.deployed_commit_label() else {
            return Ok(None);
        };
        let Ok(commit) = crate::git::CommitId::parse(&commit) else {
            return Ok(None);
        };
        let clone = ctx.data::<AppState>()?.repo.clone.clone();
        let path = entry.compose_file.clone();
        let read = tokio::task::spawn_blocking(move || {
            crate::git::GitRepo::open(&clone)?.read_file(&commit, &path)
        })
        .await
        .map_err(ApiError::internal)?;
        match read {
            Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
            // A commit voc's clone does not have (deployed by another voc).
            Err(crate::git::error::Error::CommitNotFound { .. }) => Ok(None),
            Err(error) => Err(ApiError::internal(error).into()),
        }
    }

    /// The stacks it waits for.
    async fn depends_on(&self) -> Vec<String> {
        self.entry()
            .map(|entry| entry.config.depends_on.clone())
            .unwrap_or_default()
    }

    /// True when voc redeploys it when it drifts from git.
    async fn self_heal(&self) -> bool {
        self.entry().is_some_and(|entry| entry.config.self_heal)
    }

    /// voc's last deploy of it on its target.
    async fn last_deploy(&self) -> Option<LastJob> {
        self.state()?.last_deploy.as_ref().map(LastJob::from)
    }
}

/// `options` with every secret (a `writeOnly` property of `schema`, or a
/// value that already is a placeholder) as its placeholder.
fn masked_options(options: &Map<String, Value>, schema: Option<&Value>) -> Map<String, Value> {
    let is_write_only = |name: &str| {
        schema
            .and_then(|s| s.get("properties")?.get(name)?.get("writeOnly"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    options
        .iter()
        .map(|(name, value)| {
            let shown = if is_write_only(name) && !is_secret_placeholder(value) {
                secret_placeholder(name)
            } else {
                value.clone()
            };
            (name.clone(), shown)
        })
        .collect()
}

/// A service of a stack, as it runs.
pub struct Service {
    live: Arc<LiveState>,
    /// The length of `<stack>_`, the prefix of its swarm name.
    stack_prefix_len: usize,
    /// Its index in the live state's services.
    index: usize,
    health: ServiceHealth,
}

impl Service {
    fn service(&self) -> &LiveService {
        &self.live.services[self.index]
    }
}

#[Object]
impl Service {
    /// Its name in the Compose file (`web`).
    async fn name(&self) -> &str {
        let name = &self.service().name;
        name.get(self.stack_prefix_len..).unwrap_or(name)
    }

    /// Its swarm name (`shop_web`).
    async fn full_name(&self) -> &str {
        &self.service().name
    }

    /// The image its spec runs (pinned to a digest when it was resolved).
    async fn image(&self) -> &str {
        &self.service().image
    }

    /// `replicated`, `global`, `replicated job` or `global job`.
    async fn mode(&self) -> String {
        self.service().mode.to_string()
    }

    /// The tasks it should run.
    async fn replicas(&self) -> u64 {
        self.health.desired
    }

    /// The tasks that run as desired.
    async fn running_tasks(&self) -> u64 {
        self.health.running
    }

    /// The rolling update's state (`updating`, `completed`, `paused`,
    /// `rollback_started`, ...), when one happened.
    async fn update_state(&self) -> Option<&str> {
        self.service().update_state.as_deref()
    }

    /// Its tasks, current and past, by slot then newest first.
    async fn tasks(&self) -> Vec<Task> {
        let live = &self.live;
        let mut indexes: Vec<usize> = live
            .tasks_by_service
            .get(&self.service().id)
            .cloned()
            .unwrap_or_default();
        indexes.sort_by(|a, b| {
            let (a, b) = (&live.tasks[*a], &live.tasks[*b]);
            a.slot
                .cmp(&b.slot)
                .then_with(|| b.created_at.cmp(&a.created_at))
        });
        indexes
            .into_iter()
            .map(|index| Task {
                live: live.clone(),
                index,
            })
            .collect()
    }
}

/// A task of a service.
pub struct Task {
    live: Arc<LiveState>,
    /// Its index in the live state's tasks.
    index: usize,
}

impl Task {
    fn task(&self) -> &LiveTask {
        &self.live.tasks[self.index]
    }
}

#[Object]
impl Task {
    /// The task ID.
    async fn id(&self) -> &str {
        &self.task().id
    }

    /// Its slot (replicated services).
    async fn slot(&self) -> Option<u64> {
        self.task().slot
    }

    /// The hostname of its node (empty while unassigned).
    async fn node(&self) -> &str {
        self.live.node_name(&self.task().node_id)
    }

    /// The observed state (`running`, `failed`, ...).
    async fn state(&self) -> &str {
        &self.task().state
    }

    /// The state swarm wants (`running`, `shutdown`).
    async fn desired_state(&self) -> &str {
        &self.task().desired_state
    }

    /// The status message.
    async fn message(&self) -> Option<&str> {
        self.task().message.as_deref()
    }

    /// The error, if it failed.
    async fn error(&self) -> Option<&str> {
        self.task().error.as_deref()
    }

    /// The image it runs.
    async fn image(&self) -> &str {
        &self.task().image
    }

    /// When it was created (RFC 3339).
    async fn created_at(&self) -> Option<&str> {
        self.task().created_at.as_deref()
    }

    /// When it last changed (RFC 3339).
    async fn updated_at(&self) -> Option<&str> {
        self.task().updated_at.as_deref()
    }
}

/// Every stack: the ones git has (on the target it names) and the ones
/// that run on a target without being in git, sorted by target and name.
fn all_stacks(state: &AppState) -> Vec<Stack> {
    let snapshot = state.conf.borrow().clone();
    let mut stacks: Vec<Stack> = Vec::new();
    for (target, channel) in state.live.iter() {
        let live = channel.borrow().clone();
        stacks.extend(live.stacks.keys().map(|name| Stack {
            name: name.clone(),
            target: target.clone(),
            live: live.clone(),
            snapshot: snapshot.clone(),
        }));
    }
    // Stacks git puts on a target the server does not know.
    if let Some(snapshot) = &snapshot {
        for entry in snapshot.report.conf.stacks.values() {
            if !state.live.contains_key(&entry.config.target) {
                stacks.push(Stack {
                    name: entry.name.clone(),
                    target: entry.config.target.clone(),
                    live: Arc::new(LiveState {
                        target: entry.config.target.clone(),
                        ..LiveState::default()
                    }),
                    snapshot: Some(snapshot.clone()),
                });
            }
        }
    }
    stacks.sort_by(|a, b| (&a.target, &a.name).cmp(&(&b.target, &b.name)));
    stacks
}

/// The stack queries.
#[derive(Default)]
pub struct StacksQuery;

#[Object]
impl StacksQuery {
    /// Every stack git has and every stack that runs on a target,
    /// optionally on one `target` only, and only those whose name
    /// contains `filter` (case-insensitive).
    async fn stacks(
        &self,
        ctx: &Context<'_>,
        target: Option<String>,
        filter: Option<String>,
    ) -> ApiResult<Vec<Stack>> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let filter = filter.map(|f| f.to_lowercase());
        Ok(all_stacks(state)
            .into_iter()
            .filter(|s| target.as_ref().is_none_or(|t| *t == s.target))
            .filter(|s| {
                filter
                    .as_ref()
                    .is_none_or(|f| s.name.to_lowercase().contains(f))
            })
            .collect())
    }

    /// One stack, on `target` (by default the one git names, else the
    /// first target it runs on). NOT_FOUND when neither git nor a target
    /// has it.
    async fn stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        target: Option<String>,
    ) -> ApiResult<Stack> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let snapshot = state.conf.borrow().clone();
        let git_target = snapshot
            .as_ref()
            .and_then(|s| s.report.conf.stacks.get(&name))
            .map(|entry| entry.config.target.clone());
        let candidates: Vec<Stack> = all_stacks(state)
            .into_iter()
            .filter(|s| s.name == name && target.as_ref().is_none_or(|t| *t == s.target))
            .collect();
        let preferred = candidates
            .iter()
            .position(|s| Some(&s.target) == git_target.as_ref())
            .unwrap_or(0);
        candidates.into_iter().nth(preferred).ok_or_else(|| {
            let place = target.map_or_else(String::new, |t| format!(" on target {t}"));
            ApiError::not_found(format!("stack {name} is neither in git nor running{place}")).into()
        })
    }
}

/// A task appeared, changed state, or disappeared.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "TaskEvent")]
pub struct TaskEventView {
    /// The target it runs on.
    pub target: String,
    /// Its stack.
    pub stack: String,
    /// Its service's swarm name (`shop_web`).
    pub service: String,
    /// The task ID.
    pub task_id: String,
    /// The state before (`null`: the task is new).
    pub previous_state: Option<String>,
    /// The state now (`null`: the task is gone).
    pub state: Option<String>,
    /// Its error, if any.
    pub error: Option<String>,
}

impl From<TaskEvent> for TaskEventView {
    fn from(event: TaskEvent) -> Self {
        TaskEventView {
            target: event.target,
            stack: event.stack,
            service: event.service,
            task_id: event.task,
            previous_state: event.previous_state,
            state: event.state,
            error: event.error,
        }
    }
}

/// The error a subscription sends when it fell behind its channel.
fn lagged(missed: u64) -> async_graphql::Error {
    ApiError::conflict(format!(
        "this subscription fell behind and missed {missed} event(s); query the current state again"
    ))
    .into()
}

/// The stack subscriptions.
#[derive(Default)]
pub struct StacksSubscription;

#[Subscription]
impl StacksSubscription {
    /// Task state changes of stack `stack`, or of every stack.
    async fn task_events(
        &self,
        ctx: &Context<'_>,
        stack: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<TaskEventView>> + use<>, async_graphql::Error> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let events = BroadcastStream::new(state.events.tasks.subscribe());
        Ok(events.filter_map(move |event| {
            let item = match event {
                Ok(event) if stack.as_ref().is_none_or(|s| *s == event.stack) => {
                    Some(Ok(TaskEventView::from(event)))
                }
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(lagged(missed))),
            };
            std::future::ready(item)
        }))
    }

    /// Stack `stack` (or any stack), each time its sync status, reason or
    /// health changes, with its new status.
    async fn stack_status_changed(
        &self,
        ctx: &Context<'_>,
        stack: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<Stack>> + use<>, async_graphql::Error> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?.clone();
        let events = BroadcastStream::new(state.events.stacks.subscribe());
        Ok(events.filter_map(move |event| {
            let item = match event {
                Ok(event) if stack.as_ref().is_none_or(|s| *s == event.stack) => {
                    // A stack that neither git nor the target has any more
                    // has no status to show.
                    state.live.get(&event.target).and_then(|channel| {
                        let live = channel.borrow().clone();
                        live.stacks.contains_key(&event.stack).then(|| {
                            Ok(Stack {
                                name: event.stack.clone(),
                                target: event.target.clone(),
                                live,
                                snapshot: state.conf.borrow().clone(),
                            })
                        })
                    })
                }
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(lagged(missed))),
            };
            std::future::ready(item)
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_show_as_placeholders_never_values() {
        let schema = json!({
            "type": "object",
            "properties": {
                "image": {"type": "string"},
                "dbPassword": {"type": "string", "writeOnly": true},
                "apiKey": {"type": "string", "writeOnly": true}
            }
        });
        let options = json!({
            "image": "web:1",
            "dbPassword": "hunter2-plain",
            "apiKey": secret_placeholder("apiKey"),
        });
        let shown = masked_options(options.as_object().unwrap(), Some(&schema));
        assert_eq!(shown["image"], "web:1");
        assert_eq!(shown["dbPassword"], secret_placeholder("dbPassword"));
        assert_eq!(shown["apiKey"], secret_placeholder("apiKey"));
        assert!(!Value::Object(shown).to_string().contains("hunter2"));
    }

    #[test]
    fn without_a_schema_options_show_as_stored() {
        let options = json!({"replicas": 2, "p": secret_placeholder("p")});
        let shown = masked_options(options.as_object().unwrap(), None);
        assert_eq!(Value::Object(shown), options);
    }
}
