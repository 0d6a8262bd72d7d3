//! The conf repo as voc follows it: `repository` (URL, branch, head, last
//! fetch and error, and per target the last applied commit and whether a
//! reconcile runs), `plan` (what the next reconcile of a target would do),
//! and `syncNow`.
//!
//! Times are RFC 3339 strings in UTC with milliseconds, as everywhere in
//! the API.

use std::collections::BTreeSet;

use async_graphql::{Context, Object, SimpleObject};

use super::auth::rfc3339;
use super::caller::{Role, require};
use super::error::{ApiError, ApiResult, ErrorCode};
use super::jobs::JobKind;
use crate::conf::model::Subject;
use crate::git::{CommitId, GitRepo};
use crate::reconcile::Scope;
use crate::reconcile::apply::{job_kind, subject_name};
use crate::reconcile::run::{find_start, for_target, plan_range};
use crate::serve::{AppState, ConfSnapshot};

/// A commit of the conf repo.
#[derive(SimpleObject, Debug, Clone)]
pub struct Commit {
    /// The full SHA.
    pub sha: String,
    /// Its first 7 characters.
    pub short_sha: String,
    /// The whole message.
    pub message: String,
    /// The author, as `Name <email>`.
    pub author: String,
    /// When the author made it (RFC 3339).
    pub date: String,
}

/// The conf repo voc follows.
#[derive(SimpleObject, Debug, Clone)]
pub struct Repository {
    /// Where voc fetches from, without any credentials.
    pub url: String,
    /// The branch voc follows.
    pub branch: String,
    /// The branch's head at the last fetch (`null` before the first).
    pub head: Option<Commit>,
    /// When the last successful fetch ended.
    pub last_fetch_at: Option<String>,
    /// Why the last fetch or read failed; `null` after a success.
    pub last_error: Option<String>,
    /// Each target's reconciles.
    pub targets: Vec<RepositoryTarget>,
}

/// How the conf repo is applied to one target.
#[derive(SimpleObject, Debug, Clone)]
pub struct RepositoryTarget {
    /// The target's name.
    pub target: String,
    /// The commit last applied to it in full (every action succeeded).
    pub last_applied_commit: Option<String>,
    /// When that was recorded.
    pub last_applied_at: Option<String>,
    /// Why its last reconcile did not fully succeed; `null` after a
    /// success.
    pub last_error: Option<String>,
    /// A reconcile of this target is running.
    pub reconciling: bool,
}

/// What the next reconcile of a target would do.
#[derive(SimpleObject, Debug, Clone)]
pub struct Plan {
    /// The target.
    pub target: String,
    /// Where the range starts: the last applied commit (`null`: nothing
    /// was applied, everything is reconciled).
    pub from: Option<String>,
    /// Where it ends: the branch head voc last read.
    pub to: String,
    /// What the plan looked at, in words (`changes since 3f2a1c0`, or why
    /// everything is reconciled).
    pub scope: String,
    /// A `[dry-run]` commit: nothing would be changed.
    pub dry_run: bool,
    /// What it would do, in order.
    pub actions: Vec<PlanAction>,
    /// What it would not do, and why.
    pub skipped: Vec<PlanSkip>,
    /// The conf repo's problems at that commit.
    pub problems: Vec<PlanProblem>,
}

/// One step of a plan.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanAction {
    /// Its position in the plan, from 0.
    pub id: i32,
    /// Build, deploy or remove.
    pub kind: JobKind,
    /// The stack or image.
    pub subject: String,
    /// The target it runs on.
    pub target: String,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// The ids of the actions that must succeed first.
    pub needs: Vec<i32>,
}

/// Something a plan will not do.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanSkip {
    /// `stack`, `image` or `definition`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// A problem of the conf repo.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanProblem {
    /// The file, relative to the repo's root.
    pub file: String,
    /// The line, from 1, when known.
    pub line: Option<i32>,
    /// What is wrong (and what to do, when there is more to say).
    pub message: String,
}

/// The repository queries.
#[derive(Default)]
pub struct RepositoryQuery;

#[Object]
impl RepositoryQuery {
    /// The conf repo voc follows, and how far each target is.
    async fn repository(&self, ctx: &Context<'_>) -> ApiResult<Repository> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let status = state.follow.repo_status();
        let head = match status.head {
            Some(head) => Some(commit_of(state, head).await?),
            None => None,
        };
        let statuses = state.follow.target_statuses();
        let mut targets = Vec::new();
        for name in state.targets.keys() {
            let store = state.store.clone();
            let target = name.clone();
            let applied = tokio::task::spawn_blocking(move || store.last_applied(&target))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            let loop_status = statuses.get(name).cloned().unwrap_or_default();
            targets.push(RepositoryTarget {
                target: name.clone(),
                last_applied_commit: applied.as_ref().map(|a| a.commit.as_str().to_owned()),
                last_applied_at: applied.map(|a| rfc3339(a.at)),
                last_error: loop_status.last_error,
                reconciling: loop_status.reconciling,
            });
        }
        Ok(Repository {
            url: without_credentials(&state.repo.remote.url),
            branch: state.repo.remote.branch.clone(),
            head,
            last_fetch_at: status.last_fetch_at.map(rfc3339),
            last_error: status.last_error,
            targets,
        })
    }

    /// What the next reconcile of `target` would do: from its last applied
    /// commit to the branch head voc last read.
    async fn plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(crate::conf::model::DEFAULT_TARGET.to_owned())")]
        target: Option<String>,
    ) -> ApiResult<Plan> {
        require(ctx, Role::Viewer)?;
        let target = target.unwrap_or_else(|| crate::conf::model::DEFAULT_TARGET.to_owned());
        let state = ctx.data::<AppState>()?;
        let engine = state
            .targets
            .get(&target)
            .map(|t| t.engine.clone())
            .ok_or_else(|| ApiError::not_found(format!("target {target} is not configured")))?;
        let snapshot = current_snapshot(state)?;
        let start = find_start(&state.store, &target, Some(&engine), &state.repo.clone)
            .await
            .map_err(ApiError::internal)?;
        let clone = state.repo.clone.clone();
        let reachable: BTreeSet<String> = state.targets.keys().cloned().collect();
        let read = snapshot.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let repo = GitRepo::open(&clone)?;
            plan_range(&repo, start, &read.commit, &read.report, &reachable)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let plan = for_target(&prepared.plan, &target);
        Ok(Plan {
            target,
            from: prepared.start.commit().map(|c| c.as_str().to_owned()),
            to: plan.to.clone(),
            scope: match &plan.scope {
                Scope::Changes { from } => format!("changes since {}", &from[..from.len().min(7)]),
                Scope::Everything { why } => format!("everything: {why}"),
            },
            dry_run: plan.dry_run,
            actions: plan
                .actions
                .iter()
                .map(|action| PlanAction {
                    id: to_i32(action.id),
                    kind: job_kind(&action.kind).into(),
                    subject: subject_name(&action.kind).to_owned(),
                    target: action.target.clone(),
                    reasons: action.reasons.clone(),
                    needs: action.needs.iter().copied().map(to_i32).collect(),
                })
                .collect(),
            skipped: plan
                .skipped
                .iter()
                .map(|skipped| {
                    let (kind, name) = match &skipped.subject {
                        Subject::Stack(name) => ("stack", name),
                        Subject::Image(name) => ("image", name),
                        Subject::Definition(name) => ("definition", name),
                    };
                    PlanSkip {
                        kind: kind.to_owned(),
                        name: name.clone(),
                        reason: skipped.reason.clone(),
                    }
                })
                .collect(),
            problems: snapshot
                .report
                .problems
                .iter()
                .map(|problem| PlanProblem {
                    file: problem.file.to_string(),
                    line: problem.line.map(to_i32),
                    message: match &problem.hint {
                        Some(hint) => format!("{} ({hint})", problem.message),
                        None => problem.message.clone(),
                    },
                })
                .collect(),
        })
    }
}

/// The repository mutations.
#[derive(Default)]
pub struct RepositoryMutation;

#[Object]
impl RepositoryMutation {
    /// Fetches the branch and reconciles every target soon, as a webhook
    /// does. Returns at once; follow `repository` or `jobEvents`.
    async fn sync_now(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        require(ctx, Role::Operator)?;
        ctx.data::<AppState>()?.follow.sync_now();
        Ok(true)
    }
}

/// The conf repo as last read, or a clear error before the first read.
pub(crate) fn current_snapshot(state: &AppState) -> ApiResult<std::sync::Arc<ConfSnapshot>> {
    state.conf.borrow().clone().ok_or_else(|| {
        let why = state
            .follow
            .repo_status()
            .last_error
            .map(|error| format!(": {error}"))
            .unwrap_or_default();
        ApiError::new(
            ErrorCode::Conflict,
            format!("voc has not read the conf repo yet{why}; try again in a moment"),
        )
        .into()
    })
}

async fn commit_of(state: &AppState, id: CommitId) -> ApiResult<Commit> {
    let clone = state.repo.clone.clone();
    let info = tokio::task::spawn_blocking(move || GitRepo::open(&clone)?.commit_info(&id))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Commit::from(info))
}

impl From<crate::git::CommitInfo> for Commit {
    fn from(info: crate::git::CommitInfo) -> Self {
        Commit {
            short_sha: info.id.short().to_owned(),
            sha: info.id.as_str().to_owned(),
            message: info.message,
            author: format!("{} <{}>", info.author_name, info.author_email),
            date: rfc3339(info.time.saturating_mul(1000)),
        }
    }
}

fn to_i32(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// `url` without the user name and password of a `scheme://user:pass@host`
/// URL (tokens are often put there); other forms are returned as they are.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn urls_lose_their_credentials_and_nothing_else() {
        let cases = [
            (
                "https://oauth2:glpat-secret@gitlab.example.org/acme/conf.git",
                "https://gitlab.example.org/acme/conf.git",
            ),
            (
                "https://user@github.com/acme/conf.git",
                "https://github.com/acme/conf.git",
            ),
            (
                "ssh://git:p%40ss@host:2222/conf.git",
                "ssh://host:2222/conf.git",
            ),
            (
                "https://github.com/acme/conf.git",
                "https://github.com/acme/conf.git",
            ),
            // An @ in the path is not a credential.
            (
                "https://host/acme/conf@v2.git",
                "https://host/acme/conf@v2.git",
            ),
            (
                "git@github.com:acme/conf.git",
                "git@github.com:acme/conf.git",
            ),
            ("/var/lib/voc/conf.git", "/var/lib/voc/conf.git"),
        ];
        for (url, expected) in cases {
            assert_eq!(without_credentials(url), expected, "{url}");
        }
    }
}
