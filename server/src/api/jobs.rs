//! Jobs: what voc did or will do (build an image, deploy or remove a
//! stack). The `jobs` list (newest first, paged by job id) and `job(id)`
//! with its log; the one-off `redeployStack` and `buildImage`; and the
//! `jobEvents` subscription.
//!
//! Times are RFC 3339 strings in UTC with milliseconds. A [`JobEventView`]
//! is one type for both kinds of events: a status change has `status` (and
//! `error` for a failed or skipped job), a log line has `seq` and `line`.

use std::collections::VecDeque;

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::auth::rfc3339;
use super::caller::{Role, require};
use super::error::{ApiError, ApiResult, FieldProblem};
use super::repository::current_snapshot;
use crate::reconcile::follow::ExpectedJob;
use crate::serve::{AppState, JobEvent};
use crate::store::{self, JobFilter, JobId, Store};

/// The most jobs one page may hold.
pub const MAX_PAGE: i32 = 100;

/// Where a job is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::JobStatus")]
pub enum JobStatus {
    /// Created, not started.
    Queued,
    /// Started, not finished.
    Running,
    /// Finished and did what it should (or found nothing to change).
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Not run, on purpose: `error` says why.
    Skipped,
}

/// What a job does.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::JobKind")]
pub enum JobKind {
    /// Build (and push) an image.
    Build,
    /// Deploy (create or update) a stack.
    Deploy,
    /// Remove a stack.
    Remove,
}

/// A job.
#[derive(Debug, Clone)]
pub struct Job(pub store::Job);

#[Object]
impl Job {
    /// Its id (increasing: newer jobs have larger ids).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it does.
    async fn kind(&self) -> JobKind {
        self.0.kind.into()
    }

    /// The stack or image it is about.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The Docker target it runs on.
    async fn target(&self) -> &str {
        &self.0.target
    }

    /// The commit it comes from (`null` for a one-off job made before the
    /// conf repo was read).
    async fn commit(&self) -> Option<&str> {
        self.0.commit.as_ref().map(|c| c.as_str())
    }

    /// Its commit's message, author and date (`null` when it has no
    /// commit or voc's clone does not have it). Read once per commit.
    async fn commit_info(&self, ctx: &Context<'_>) -> ApiResult<Option<super::repository::Commit>> {
        let Some(commit) = self.0.commit.as_ref() else {
            return Ok(None);
        };
        let clone = ctx.data::<AppState>()?.repo.clone.clone();
        let cache = ctx.data::<super::commit_cache::CommitCache>()?;
        cache.get(clone, commit.as_str()).await
    }

    /// Why voc does it.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Where it is in its life.
    async fn status(&self) -> JobStatus {
        self.0.status.into()
    }

    /// What went wrong (failed), or why it was skipped.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// When it was created.
    async fn created_at(&self) -> String {
        rfc3339(self.0.created_at)
    }

    /// When it started running.
    async fn started_at(&self) -> Option<String> {
        self.0.started_at.map(rfc3339)
    }

    /// When it finished.
    async fn finished_at(&self) -> Option<String> {
        self.0.finished_at.map(rfc3339)
    }

    /// Its log lines after line `after` (0: from the start).
    async fn log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(0)")] after: Option<i64>,
    ) -> ApiResult<Vec<LogLine>> {
        let store = ctx.data::<AppState>()?.store.clone();
        let id = self.0.id;
        let after = after.unwrap_or(0);
        let lines = blocking(move || store.job_log(id, after)).await?;
        Ok(lines
            .into_iter()
            .map(|line| LogLine {
                seq: line.seq,
                at: rfc3339(line.at),
                line: line.line,
            })
            .collect())
    }
}

/// One line of a job's log.
#[derive(SimpleObject, Debug, Clone)]
pub struct LogLine {
    /// Its position in the log, from 1.
    pub seq: i64,
    /// When it was written.
    pub at: String,
    /// The text.
    pub line: String,
}

/// A page of jobs, newest first.
#[derive(SimpleObject, Debug, Clone)]
pub struct JobConnection {
    /// The jobs.
    pub nodes: Vec<Job>,
    /// The last job's id: pass it as `after` for the next page.
    pub end_cursor: Option<ID>,
    /// There are older jobs after this page.
    pub has_next_page: bool,
}

/// A job changed status or wrote a log line. A status change has `status`
/// (and `error` for a failed or skipped job); a log line has `seq` and
/// `line`.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(name = "JobEvent")]
pub struct JobEventView {
    /// The job.
    pub job_id: ID,
    /// Its new status (status changes only).
    pub status: Option<JobStatus>,
    /// What went wrong, or why it was skipped (status changes only).
    pub error: Option<String>,
    /// The line's position in the job's log (log lines only; 0 when the
    /// store could not record it).
    pub seq: Option<i64>,
    /// The line (log lines only).
    pub line: Option<String>,
}

impl From<&JobEvent> for JobEventView {
    fn from(event: &JobEvent) -> Self {
        match event {
            JobEvent::Status { job, status, error } => JobEventView {
                job_id: ID(job.to_string()),
                status: Some((*status).into()),
                error: error.clone(),
                seq: None,
                line: None,
            },
            JobEvent::Log { job, seq, line } => JobEventView {
                job_id: ID(job.to_string()),
                status: None,
                error: None,
                seq: Some(*seq),
                line: Some(line.clone()),
            },
        }
    }
}

/// The job queries.
#[derive(Default)]
pub struct JobsQuery;

#[Object]
// A GraphQL field takes its arguments one by one: `jobs` has six filters.
#[allow(clippy::too_many_arguments)]
impl JobsQuery {
    /// Jobs, newest first: `first` of them (1 to 100) after the job
    /// `after` (a previous page's `endCursor`), about stack `stack` (its
    /// deploys and removals) or image `image` (its builds), with `status`
    /// and `kind` when given.
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<ID>,
        stack: Option<String>,
        image: Option<String>,
        status: Option<JobStatus>,
        kind: Option<JobKind>,
    ) -> ApiResult<JobConnection> {
        require(ctx, Role::Viewer)?;
        let store = ctx.data::<AppState>()?.store.clone();
        // An explicit null is the default.
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::validation(
                format!("first must be between 1 and {MAX_PAGE}, not {first}"),
                vec![problem("first", "out of range")],
            )
            .into());
        }
        let after = after.map(|id| parse_id(&id, "after")).transpose()?;
        let query = JobQuery::new(stack, image, status.map(Into::into), kind.map(Into::into))?;
        let first = usize::try_from(first).unwrap_or(20);
        let (jobs, has_next_page) = blocking(move || query.page(&store, first, after)).await?;
        Ok(JobConnection {
            end_cursor: jobs.last().map(|job| ID(job.id.to_string())),
            nodes: jobs.into_iter().map(Job).collect(),
            has_next_page,
        })
    }

    /// The job `id` (`null` with a `NOT_FOUND` error when there is none,
    /// leaving the other fields of the query alone).
    async fn job(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Job>> {
        require(ctx, Role::Viewer)?;
        let store = ctx.data::<AppState>()?.store.clone();
        let id = parse_id(&id, "id")?;
        find_job(&store, id).await.map(Some)
    }
}

/// The job mutations.
#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Deploys stack `name` again as the conf repo's head has it, as one
    /// job in its target's loop (after a reconcile in progress); `force`
    /// replaces its tasks even when nothing changed. No commit. Returns the
    /// queued job: follow it with `jobEvents(id)`.
    async fn redeploy_stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        #[graphql(default_with = "Some(false)")] force: Option<bool>,
    ) -> ApiResult<Job> {
        let force = force.unwrap_or(false);
        require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let snapshot = current_snapshot(state)?;
        let conf = &snapshot.report.conf;
        let Some(stack) = conf.stacks.get(&name) else {
            return Err(missing(
                &snapshot,
                "stack",
                &name,
                conf.invalid_stacks.contains(&name),
            ));
        };
        if !stack.config.enabled {
            return Err(ApiError::validation(
                format!("stack {name} is disabled (`enabled: false`): enable it to deploy it"),
                vec![problem("name", "the stack is disabled")],
            )
            .into());
        }
        let job = ExpectedJob {
            kind: store::JobKind::Deploy,
            subject: name,
            target: stack.config.target.clone(),
        };
        run_one_off(state, job, force).await
    }

    /// Builds image `name` as the conf repo's head has it and pushes it, as
    /// one job. No commit. Returns the queued job.
    async fn build_image(&self, ctx: &Context<'_>, name: String) -> ApiResult<Job> {
        require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let snapshot = current_snapshot(state)?;
        let conf = &snapshot.report.conf;
        if !conf.images.contains_key(&name) {
            return Err(missing(
                &snapshot,
                "image",
                &name,
                conf.invalid_images.contains(&name),
            ));
        }
        let job = ExpectedJob {
            kind: store::JobKind::Build,
            subject: name,
            // Builds run on the default target's engine, as in a reconcile.
            target: crate::conf::model::DEFAULT_TARGET.to_owned(),
        };
        run_one_off(state, job, false).await
    }
}

/// The job subscriptions.
#[derive(Default)]
pub struct JobsSubscription;

#[Subscription]
impl JobsSubscription {
    /// Status changes and log lines of job `id`, or of every job. For one
    /// job: first what the store has (its status, its log so far), then
    /// what happens, with no line missed or repeated; it ends after the
    /// job's final status. When a listener of every job falls behind, an
    /// error says how many events it missed.
    async fn job_events(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
    ) -> Result<
        impl Stream<Item = Result<JobEventView, async_graphql::Error>> + use<>,
        async_graphql::Error,
    > {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        // Listen before reading the store: nothing falls between the two.
        let receiver = state.events.jobs.subscribe();
        let follower = match id {
            None => EventFollower::all(receiver),
            Some(id) => {
                let id = parse_id(&id, "id")?;
                let job = find_job(&state.store, id).await?;
                let store = state.store.clone();
                let log = blocking(move || store.job_log(id, 0)).await?;
                EventFollower::one(receiver, state.store.clone(), job.0, log)
            }
        };
        Ok(futures_util::stream::unfold(
            follower,
            |mut follower| async move {
                let next = follower.next().await?;
                Some((next, follower))
            },
        ))
    }
}

/// The state of a `jobEvents` subscription.
struct EventFollower {
    receiver: broadcast::Receiver<JobEvent>,
    /// The one job followed, with what was sent of it.
    job: Option<Followed>,
    /// Events to send before reading the channel again.
    ready: VecDeque<Result<JobEventView, async_graphql::Error>>,
    /// The job's final status was sent.
    done: bool,
}

struct Followed {
    id: JobId,
    store: Store,
    last_seq: i64,
    last_status: store::JobStatus,
}

impl EventFollower {
    fn all(receiver: broadcast::Receiver<JobEvent>) -> EventFollower {
        EventFollower {
            receiver,
            job: None,
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Follows `job`, starting with its `log` and status from the store:
    /// the status first while it runs, last once it is over.
    fn one(
        receiver: broadcast::Receiver<JobEvent>,
        store: Store,
        job: store::Job,
        log: Vec<store::LogLine>,
    ) -> EventFollower {
        let mut ready = VecDeque::new();
        let status = JobEvent::Status {
            job: job.id,
            status: job.status,
            error: job.error.clone(),
        };
        let lines = log.iter().map(|line| JobEvent::Log {
            job: job.id,
            seq: line.seq,
            line: line.line.clone(),
        });
        let done = job.status.is_final();
        if !done {
            ready.push_back(Ok((&status).into()));
        }
        ready.extend(lines.map(|event| Ok((&event).into())));
        if done {
            ready.push_back(Ok((&status).into()));
        }
        EventFollower {
            receiver,
            job: Some(Followed {
                id: job.id,
                store,
                last_seq: log.last().map_or(0, |line| line.seq),
                last_status: job.status,
            }),
            ready,
            done,
        }
    }

    async fn next(&mut self) -> Option<Result<JobEventView, async_graphql::Error>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            match self.receiver.recv().await {
                Ok(event) => self.take(&event),
                Err(RecvError::Closed) => return None,
                Err(RecvError::Lagged(missed)) => match &self.job {
                    // One job: what was missed is in the store.
                    Some(_) => self.catch_up().await,
                    None => self.ready.push_back(Err(async_graphql::Error::new(format!(
                        "this subscription fell behind: {missed} job events were dropped"
                    )))),
                },
            }
        }
    }

    /// Queues `event` if it is news for this subscription.
    fn take(&mut self, event: &JobEvent) {
        let Some(followed) = &mut self.job else {
            self.ready.push_back(Ok(event.into()));
            return;
        };
        if event.job() != followed.id {
            return;
        }
        match event {
            JobEvent::Log { seq, .. } => {
                // Lines already read from the store come again live.
                if *seq != 0 && *seq <= followed.last_seq {
                    return;
                }
                followed.last_seq = followed.last_seq.max(*seq);
            }
            JobEvent::Status { status, .. } => {
                if *status == followed.last_status {
                    return;
                }
                followed.last_status = *status;
                self.done = status.is_final();
            }
        }
        self.ready.push_back(Ok(event.into()));
    }

    /// After missing events: the job's lines and status from the store.
    async fn catch_up(&mut self) {
        let Some(followed) = &self.job else { return };
        let (store, id, after) = (followed.store.clone(), followed.id, followed.last_seq);
        let read = blocking(move || {
            let lines = store.job_log(id, after)?;
            let job = store.job(id)?;
            Ok::<_, store::Error>((lines, job))
        })
        .await;
        match read {
            Ok((lines, job)) => {
                for line in lines {
                    self.take(&JobEvent::Log {
                        job: id,
                        seq: line.seq,
                        line: line.line,
                    });
                }
                if let Some(job) = job {
                    self.take(&JobEvent::Status {
                        job: id,
                        status: job.status,
                        error: job.error,
                    });
                }
            }
            Err(error) => self.ready.push_back(Err(error)),
        }
    }
}

/// Which jobs a `jobs` query lists.
struct JobQuery {
    filter: JobFilter,
    /// The kinds the subject filter allows (`stack`: deploys and removals).
    kinds: Option<Vec<store::JobKind>>,
}

/// How many jobs are read at once when some are filtered out here.
const SCAN_PAGE: u32 = 200;

impl JobQuery {
    fn new(
        stack: Option<String>,
        image: Option<String>,
        status: Option<store::JobStatus>,
        kind: Option<store::JobKind>,
    ) -> ApiResult<JobQuery> {
        use store::JobKind::{Build, Deploy, Remove};
        let (subject, mut kinds) = match (stack, image) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "filter by stack or by image, not both",
                    vec![problem("image", "given with stack")],
                )
                .into());
            }
            (Some(stack), None) => (Some(stack), Some(vec![Deploy, Remove])),
            (None, Some(image)) => (Some(image), Some(vec![Build])),
            (None, None) => (None, None),
        };
        if let Some(kind) = kind {
            kinds = Some(match kinds {
                Some(allowed) => allowed.into_iter().filter(|k| *k == kind).collect(),
                None => vec![kind],
            });
        }
        // One kind is a filter the store applies itself.
        let (store_kind, kinds) = match kinds {
            Some(kinds) if kinds.len() == 1 => (Some(kinds[0]), None),
            other => (None, other),
        };
        Ok(JobQuery {
            filter: JobFilter {
                subject,
                kind: store_kind,
                status,
                ..JobFilter::default()
            },
            kinds,
        })
    }

    /// Up to `first` jobs older than `after`, and whether there are more.
    /// Blocking.
    fn page(
        &self,
        store: &Store,
        first: usize,
        after: Option<JobId>,
    ) -> Result<(Vec<store::Job>, bool), store::Error> {
        let limit = match &self.kinds {
            // Everything read is kept: one more than asked tells if
            // there is a next page.
            None => u32::try_from(first + 1).unwrap_or(SCAN_PAGE),
            Some(_) => SCAN_PAGE,
        };
        let mut found = Vec::new();
        let mut before = after;
        loop {
            let page = store.list_jobs(&JobFilter {
                before_id: before,
                limit: Some(limit),
                ..self.filter.clone()
            })?;
            let read = page.len();
            before = page.last().map(|job| job.id);
            for job in page {
                if self
                    .kinds
                    .as_ref()
                    .is_none_or(|kinds| kinds.contains(&job.kind))
                {
                    found.push(job);
                    if found.len() > first {
                        found.truncate(first);
                        return Ok((found, true));
                    }
                }
            }
            if read < limit as usize || self.kinds.as_ref().is_some_and(Vec::is_empty) {
                return Ok((found, false));
            }
        }
    }
}

async fn run_one_off(state: &AppState, job: ExpectedJob, force: bool) -> ApiResult<Job> {
    let id = state
        .follow
        .run_job(job, force)
        .map_err(ApiError::internal)?;
    find_job(&state.store, id).await
}

async fn find_job(store: &Store, id: JobId) -> ApiResult<Job> {
    let store = store.clone();
    blocking(move || store.job(id))
        .await?
        .map(Job)
        .ok_or_else(|| ApiError::not_found(format!("there is no job {id}")).into())
}

/// The error for a stack or image that the conf repo's head lacks (or has
/// with problems).
fn missing(
    snapshot: &crate::serve::ConfSnapshot,
    what: &str,
    name: &str,
    invalid: bool,
) -> async_graphql::Error {
    if invalid {
        let subject = match what {
            "image" => crate::conf::model::Subject::Image(name.to_owned()),
            _ => crate::conf::model::Subject::Stack(name.to_owned()),
        };
        let problems = snapshot
            .report
            .problems
            .iter()
            .filter(|p| p.subject.as_ref() == Some(&subject))
            .map(|p| FieldProblem {
                field: None,
                file: Some(p.file.clone()),
                line: p.line,
                message: p.message.clone(),
            })
            .collect();
        return ApiError::validation(
            format!(
                "{what} {name} has problems in the conf repo at {}: fix them first",
                snapshot.commit.short()
            ),
            problems,
        )
        .into();
    }
    ApiError::not_found(format!(
        "there is no {what} {name} in the conf repo at {}",
        snapshot.commit.short()
    ))
    .into()
}

fn parse_id(id: &ID, field: &str) -> ApiResult<JobId> {
    JobId::parse(id).map_err(|_| {
        ApiError::validation(
            format!(
                "{field} must be a job id (a positive integer), not `{}`",
                id.as_str()
            ),
            vec![problem(field, "not a job id")],
        )
        .into()
    })
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: Some(field.to_owned()),
        file: None,
        line: None,
        message: message.to_owned(),
    }
}

/// Runs store work off the async workers.
async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> ApiResult<T>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::internal(error).into())
}

#[cfg(test)]
mod tests;
