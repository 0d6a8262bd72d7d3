//! The mutations that write stacks to the conf repo: `createStack`,
//! `updateStack`, `upgradeStack`, `deleteStack`, `setStackEnabled`,
//! `rollbackStack`, and the `stackUpgradeDiff` query.
//!
//! Each one reads the conf at the newest known commit
//! ([`current_conf`]), validates (names, the definition, the options
//! against its schema, the rendered file through the Compose loader),
//! encrypts `writeOnly` values to voc's key, and only then builds its
//! edits ([`crate::reconcile::edit`]) and commits them in one shared
//! sequence ([`commit_change`]): author the caller, committer voc's
//! configured identity, pushed with a lease (creations expect the files
//! absent, edits expect them as they were read), then the deploy or
//! removal job asked of the follow loop. Nothing is committed when
//! anything before the push fails, and a commit touches only the stack's
//! files.

use std::path::Path;

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use serde_json::{Map, Value};

use super::caller::{Caller, Role, require};
use super::definitions::{ConfView, current_conf, find_definition, options_object, render_error};
use super::error::{ApiError, ApiResult, FieldProblem};
use crate::conf::check_name;
use crate::conf::model::{DEFAULT_TARGET, StackEntry};
use crate::conf::render::options::is_secret_placeholder;
use crate::conf::render::{RenderedStack, render_stack, secret_variable};
use crate::git::{self, Author, CommitId, CommitRequest, Expect, FileEdit, GitRepo};
use crate::reconcile::edit::{
    self, StackChangeKind, commit_message, new_stack_config, set_enabled, stack_of_file,
    unified_diff, update_stack_config,
};
use crate::reconcile::files::stack_config_beside;
use crate::reconcile::follow::ExpectedJob;
use crate::serve::AppState;
use crate::store::JobKind;

/// What a stack mutation committed.
#[derive(SimpleObject)]
pub struct StackChange {
    /// The stack.
    stack: String,
    /// The commit on the branch: the new one, or when `created` is false
    /// the head that already held the change.
    commit: String,
    /// False when the change was already on the branch (nothing new was
    /// committed).
    created: bool,
    /// The job that deploys or removes the stack for this commit (follow
    /// it with `jobEvents`); null when none was queued (see `warnings`).
    job_id: Option<ID>,
    /// What the caller should know (a job that could not be queued).
    warnings: Vec<String>,
}

/// `createStack`'s input.
#[derive(InputObject)]
pub struct CreateStackInput {
    /// The new stack's name (Docker's rules: `^[a-z0-9][a-z0-9_-]{0,39}$`).
    name: String,
    /// The stack definition to render it from.
    definition: String,
    /// The options, checked against the definition's schema.
    #[graphql(default_with = "Json(Value::Object(Map::new()))")]
    options: Json<Value>,
    /// The Docker target, by name from the server configuration.
    #[graphql(default_with = "DEFAULT_TARGET.to_owned()")]
    target: String,
    /// Added to the commit message.
    message: Option<String>,
}

/// `updateStack`'s input.
#[derive(InputObject)]
pub struct UpdateStackInput {
    /// The stack's options, all of them (an option left out takes its
    /// default). A secret given as its placeholder
    /// `{"$secret": "VOC_SECRET_<NAME>"}` keeps its stored value.
    options: Json<Value>,
    /// Added to the commit message.
    message: Option<String>,
}

/// A change ready to commit: everything validated.
struct PreparedChange {
    stack: String,
    message: String,
    edits: Vec<FileEdit>,
    jobs: Vec<ExpectedJob>,
}

/// Mutations that write stacks to the conf repo.
#[derive(Default)]
pub struct StackEditsMutation;

#[Object]
impl StackEditsMutation {
    /// Creates stack `name` from a definition: commits
    /// `docker-compose-<name>.yml` and `stack-<name>.json` at the repo
    /// root, then queues its deploy.
    async fn create_stack(
        &self,
        ctx: &Context<'_>,
        input: CreateStackInput,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        check_stack_name(&input.name)?;
        if !state.targets.contains_key(&input.target) {
            return Err(field_error(
                "target",
                format!(
                    "there is no target {} in voc's configuration (known: {})",
                    input.target,
                    state.targets.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let conf = current_conf(state).await?;
        let definition = find_definition(&conf, &input.definition)?;
        check_name_free(&conf, &input.name).await?;
        let options = options_object(input.options.0)?;
        let rendered = render_stack(definition, &input.name, &options)
            .map_err(|error| render_error(definition, &input.name, &error))?;
        let secrets = seal_secrets(state, &input.name, &rendered, None)?;
        let compose_path = edit::compose_file_name(&input.name);
        let config_path = edit::config_file_name(&input.name);
        let config = new_stack_config(&input.target, &definition.name, &rendered.options, &secrets);
        let change = PreparedChange {
            stack: input.name.clone(),
            message: commit_message(
                &input.name,
                &StackChangeKind::Create {
                    definition: &definition.name,
                    version: &definition.meta.version,
                },
                input.message.as_deref(),
            ),
            edits: vec![
                FileEdit::write(compose_path, rendered.compose).expecting(Expect::Absent),
                FileEdit::write(config_path, config).expecting(Expect::Absent),
            ],
            jobs: vec![job(JobKind::Deploy, &input.name, &input.target)],
        };
        commit_change(state, caller, change).await
    }

    /// Renders stack `name` again with new options (same definition, its
    /// current version) and commits both of its files where they are.
    async fn update_stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateStackInput,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let conf = current_conf(state).await?;
        let options = options_object(input.options.0)?;
        let change = rerender(state, &conf, &name, Some(options), input.message).await?;
        commit_change(state, caller, change).await
    }

    /// Renders stack `name` again from its definition's current version,
    /// with the options it has, and commits the result.
    async fn upgrade_stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        message: Option<String>,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let conf = current_conf(state).await?;
        let change = rerender(state, &conf, &name, None, message).await?;
        commit_change(state, caller, change).await
    }

    /// Deletes stack `name`'s Compose and settings files (hand-written
    /// stacks too); the follow loop then removes it from the swarm.
    async fn delete_stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        message: Option<String>,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let conf = current_conf(state).await?;
        let (paths, target) = match conf.report.conf.stacks.get(&name) {
            Some(stack) => (stack_paths(stack), stack.config.target.clone()),
            // An invalid stack has no entry: its files, by name.
            None => (
                files_of_stack(&conf.report.root, &name).await?,
                DEFAULT_TARGET.to_owned(),
            ),
        };
        if paths.is_empty() {
            return Err(stack_not_found(&conf, &name));
        }
        let edits = paths
            .into_iter()
            .map(|path| FileEdit::delete(path).expecting(Expect::AsAt(conf.commit.clone())))
            .collect();
        let change = PreparedChange {
            stack: name.clone(),
            message: commit_message(&name, &StackChangeKind::Delete, message.as_deref()),
            edits,
            jobs: vec![job(JobKind::Remove, &name, &target)],
        };
        commit_change(state, caller, change).await
    }

    /// Sets `enabled` in stack `name`'s `stack-<name>.json` (created beside
    /// its Compose file when missing): false removes it from the swarm and
    /// keeps its files.
    async fn set_stack_enabled(
        &self,
        ctx: &Context<'_>,
        name: String,
        enabled: bool,
        message: Option<String>,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        let conf = current_conf(state).await?;
        let stack = find_stack(&conf, &name)?;
        let path = stack
            .config_file
            .clone()
            .unwrap_or_else(|| stack_config_beside(&stack.compose_file, &name));
        let existing = match &stack.config_file {
            Some(file) => Some(read_file(&conf.report.root, file).await?),
            None => None,
        };
        let text = set_enabled(existing.as_deref(), &path, enabled)
            .map_err(|error| field_error("name", error.to_string()))?;
        let kind = if enabled {
            JobKind::Deploy
        } else {
            JobKind::Remove
        };
        let change = PreparedChange {
            stack: name.clone(),
            message: commit_message(
                &name,
                &StackChangeKind::SetEnabled(enabled),
                message.as_deref(),
            ),
            edits: vec![FileEdit::write(path, text).expecting(Expect::AsAt(conf.commit.clone()))],
            jobs: vec![job(kind, &name, &stack.config.target)],
        };
        commit_change(state, caller, change).await
    }

    /// Commits stack `name`'s files as they were at `commit` (a new commit
    /// on the branch; history is not rewritten). Files the stack has now
    /// and did not have then are deleted.
    async fn rollback_stack(
        &self,
        ctx: &Context<'_>,
        name: String,
        commit: String,
        message: Option<String>,
    ) -> ApiResult<StackChange> {
        let caller = require(ctx, Role::Operator)?;
        let state = ctx.data::<AppState>()?;
        check_stack_name(&name)?;
        let conf = current_conf(state).await?;
        let then = conf_at(state, &commit).await?;
        let Some(old) = then.report.conf.stacks.get(&name) else {
            let reason = if then.report.conf.invalid_stacks.contains(&name) {
                "has problems there"
            } else {
                "is not there"
            };
            return Err(field_error(
                "commit",
                format!(
                    "stack {name} {reason} (commit {}): pick a commit where it is valid",
                    then.commit.short()
                ),
            ));
        };
        let mut paths = stack_paths(old);
        let now = match conf.report.conf.stacks.get(&name) {
            Some(stack) => stack_paths(stack),
            None => files_of_stack(&conf.report.root, &name).await?,
        };
        paths.extend(now);
        let (kind, target) = if old.config.enabled {
            (JobKind::Deploy, old.config.target.clone())
        } else {
            (JobKind::Remove, old.config.target.clone())
        };
        let at = then.commit.clone();
        let head = conf.commit.clone();
        let clone = state.repo.clone.clone();
        let edits = tokio::task::spawn_blocking(move || -> git::error::Result<Vec<FileEdit>> {
            let repo = GitRepo::open(&clone)?;
            Ok(repo
                .restore_files(&at, &paths)?
                .into_iter()
                .map(|edit| edit.expecting(Expect::AsAt(head.clone())))
                .collect())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let change = PreparedChange {
            stack: name.clone(),
            message: commit_message(
                &name,
                &StackChangeKind::Rollback {
                    commit: then.commit.short(),
                },
                message.as_deref(),
            ),
            edits,
            jobs: vec![job(kind, &name, &target)],
        };
        commit_change(state, caller, change).await
    }
}

/// Queries about stack edits.
#[derive(Default)]
pub struct StackEditsQuery;

#[Object]
impl StackEditsQuery {
    /// The unified diff `upgradeStack` would commit to stack `name`'s
    /// Compose file; null when it is up to date with its definition.
    async fn stack_upgrade_diff(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> ApiResult<Option<String>> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let conf = current_conf(state).await?;
        let stack = find_stack(&conf, &name)?;
        let (definition, options) = definition_of(&conf, stack)?;
        let rendered = render_stack(definition, &name, &options)
            .map_err(|error| render_error(definition, &name, &error))?;
        let current = read_file(&conf.report.root, &stack.compose_file).await?;
        Ok(unified_diff(
            &current,
            &rendered.compose,
            &stack.compose_file,
        ))
    }
}

/// `updateStack` (`options` given) and `upgradeStack` (the stored ones):
/// stack `name` rendered again from its definition's current version.
async fn rerender(
    state: &AppState,
    conf: &ConfView,
    name: &str,
    options: Option<Map<String, Value>>,
    message: Option<String>,
) -> ApiResult<PreparedChange> {
    let stack = find_stack(conf, name)?;
    let (definition, stored) = definition_of(conf, stack)?;
    let is_upgrade = options.is_none();
    let options = options.unwrap_or(stored);
    let rendered = render_stack(definition, name, &options)
        .map_err(|error| render_error(definition, name, &error))?;
    let secrets = seal_secrets(state, name, &rendered, Some(stack))?;
    let config_path = stack
        .config_file
        .clone()
        .unwrap_or_else(|| stack_config_beside(&stack.compose_file, name));
    let existing = match &stack.config_file {
        Some(file) => read_file(&conf.report.root, file).await?,
        None => "{}".to_owned(),
    };
    let config = update_stack_config(
        &existing,
        &config_path,
        &definition.name,
        &rendered.options,
        &secrets,
    )
    .map_err(|error| field_error("name", error.to_string()))?;
    let version = &definition.meta.version;
    let kind = if is_upgrade {
        StackChangeKind::Upgrade {
            definition: &definition.name,
            version,
        }
    } else {
        StackChangeKind::Update {
            definition: &definition.name,
            version,
        }
    };
    let read = Expect::AsAt(conf.commit.clone());
    Ok(PreparedChange {
        stack: name.to_owned(),
        message: commit_message(name, &kind, message.as_deref()),
        edits: vec![
            FileEdit::write(stack.compose_file.clone(), rendered.compose).expecting(read.clone()),
            FileEdit::write(config_path, config).expecting(read),
        ],
        jobs: if stack.config.enabled {
            vec![job(JobKind::Deploy, name, &stack.config.target)]
        } else {
            Vec::new()
        },
    })
}

/// The shared end of every stack mutation: commit and push the change
/// (author: the caller; committer: voc), then ask the follow loop for
/// the jobs it causes.
async fn commit_change(
    state: &AppState,
    caller: &Caller,
    change: PreparedChange,
) -> ApiResult<StackChange> {
    let request = CommitRequest {
        message: change.message,
        author: author_of(caller),
        committer: Some(Author {
            name: state.config.author.name.clone(),
            email: state.config.author.email.clone(),
        }),
        edits: change.edits,
    };
    let repo = std::sync::Arc::clone(&state.repo);
    let pushed = tokio::task::spawn_blocking(move || {
        GitRepo::open(&repo.clone)?.commit_and_push(&repo.remote, &request)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| push_error(&change.stack, error))?;
    let mut warnings = Vec::new();
    let job_id = if pushed.created && !change.jobs.is_empty() {
        match state.follow.expect_jobs(&pushed.commit, &change.jobs) {
            Ok(ids) => ids.first().map(|id| ID(id.0.to_string())),
            Err(error) => {
                warnings.push(format!(
                    "commit {} is pushed, but no job could be queued for it ({error}): the next reconcile applies it",
                    pushed.commit.short()
                ));
                None
            }
        }
    } else {
        None
    };
    Ok(StackChange {
        stack: change.stack,
        commit: pushed.commit.to_string(),
        created: pushed.created,
        job_id,
        warnings,
    })
}

/// The commit's author: the caller, with a stand-in address when their
/// account has none (git needs one).
fn author_of(caller: &Caller) -> Author {
    let email = if caller.email.trim().is_empty() {
        format!("{}@voc.invalid", caller.name)
    } else {
        caller.email.clone()
    };
    Author {
        name: caller.name.clone(),
        email,
    }
}

/// A failed commit as an API error: a file changed meanwhile is a
/// `CONFLICT` naming it; the rest is voc's (or the remote's) failure.
fn push_error(stack: &str, error: git::error::Error) -> async_graphql::Error {
    match &error {
        git::error::Error::Conflict { path, head, .. } => ApiError::conflict(format!(
            "stack {stack}: {path} changed on the branch since voc read it (the branch is now at {}): nothing was committed; read the stack again and retry",
            head.short()
        )),
        git::error::Error::InvalidIdentity { .. } => ApiError::validation(
            format!("your account's name or e-mail cannot be a commit author: {error}"),
            Vec::new(),
        ),
        _ => ApiError::internal(format!("committing stack {stack}: {:#}", anyhow::Error::new(error))),
    }
    .into()
}

/// Each secret of `rendered` encrypted to voc's key, by variable: the new
/// values, and for those given as their placeholder the value `stack`
/// already stores (a `VALIDATION` error when it stores none).
fn seal_secrets(
    state: &AppState,
    name: &str,
    rendered: &RenderedStack,
    stack: Option<&StackEntry>,
) -> ApiResult<std::collections::BTreeMap<String, String>> {
    let mut sealed = std::collections::BTreeMap::new();
    for secret in rendered.secret_options.values() {
        let text = state
            .secret_key
            .encrypt(&secret.value)
            .map_err(ApiError::internal)?;
        sealed.insert(secret.variable.clone(), text);
    }
    let kept = rendered
        .options
        .iter()
        .filter(|(option, value)| {
            is_secret_placeholder(value) && !rendered.secret_options.contains_key(*option)
        })
        .map(|(option, _)| option);
    for option in kept {
        let variable = secret_variable(option);
        match stack.and_then(|stack| stack.config.secrets.get(&variable)) {
            Some(stored) => {
                sealed.insert(variable, stored.clone());
            }
            None => {
                return Err(field_error(
                    &format!("options.{option}"),
                    format!(
                        "stack {name} has no stored value for the secret option {option}: give its value"
                    ),
                ));
            }
        }
    }
    Ok(sealed)
}

/// A `VALIDATION` error about one field.
fn field_error(field: &str, message: String) -> async_graphql::Error {
    ApiError::validation(
        message.clone(),
        vec![FieldProblem {
            field: Some(field.to_owned()),
            file: None,
            line: None,
            message,
        }],
    )
    .into()
}

/// `VALIDATION` unless `name` follows the naming rule.
fn check_stack_name(name: &str) -> ApiResult<()> {
    check_name(name).map_err(|why| field_error("name", format!("stack name \"{name}\" {why}")))
}

/// `CONFLICT` when the repo has a stack called `name`, valid or not.
async fn check_name_free(conf: &ConfView, name: &str) -> ApiResult<()> {
    let taken = match conf.report.conf.stacks.get(name) {
        Some(stack) => Some(stack.compose_file.clone()),
        None => files_of_stack(&conf.report.root, name)
            .await?
            .into_iter()
            .next(),
    };
    match taken {
        Some(file) => Err(ApiError::conflict(format!(
            "the name {name} is taken: the conf repo has {file} (commit {})",
            conf.commit.short()
        ))
        .into()),
        None => Ok(()),
    }
}

/// The valid stack `name`: `NOT_FOUND`, or `VALIDATION` when its files
/// have problems (voc edits only what it can read).
fn find_stack<'a>(conf: &'a ConfView, name: &str) -> ApiResult<&'a StackEntry> {
    if let Some(stack) = conf.report.conf.stacks.get(name) {
        return Ok(stack);
    }
    if conf.report.conf.invalid_stacks.contains(name) {
        let subject = crate::conf::Subject::Stack(name.to_owned());
        let problems = FieldProblem::of_subject(&conf.report, &subject);
        return Err(ApiError::validation(
            format!("stack {name} has problems in the conf repo: fix them in git first"),
            problems,
        )
        .into());
    }
    Err(stack_not_found(conf, name))
}

fn stack_not_found(conf: &ConfView, name: &str) -> async_graphql::Error {
    ApiError::not_found(format!(
        "there is no stack {name} in the conf repo (commit {})",
        conf.commit.short()
    ))
    .into()
}

/// The definition stack `stack` was made from, and its stored options.
fn definition_of<'a>(
    conf: &'a ConfView,
    stack: &StackEntry,
) -> ApiResult<(&'a crate::conf::DefinitionEntry, Map<String, Value>)> {
    let Some(definition) = &stack.config.definition else {
        return Err(field_error(
            "name",
            format!(
                "stack {} was not made from a stack definition: edit {} in git instead",
                stack.name, stack.compose_file
            ),
        ));
    };
    let entry = find_definition(conf, definition)?;
    Ok((entry, stack.config.options.clone().unwrap_or_default()))
}

/// The Compose and settings files of `stack`.
fn stack_paths(stack: &StackEntry) -> Vec<String> {
    std::iter::once(stack.compose_file.clone())
        .chain(stack.config_file.clone())
        .collect()
}

/// One job for the follow loop.
fn job(kind: JobKind, stack: &str, target: &str) -> ExpectedJob {
    ExpectedJob {
        kind,
        subject: stack.to_owned(),
        target: target.to_owned(),
    }
}

/// The text of `file` (a repo path) in the checkout `root`.
async fn read_file(root: &Path, file: &str) -> ApiResult<String> {
    let path = root.join(file);
    tokio::fs::read_to_string(&path).await.map_err(|error| {
        ApiError::internal(format!("reading {file} of the conf repo: {error}")).into()
    })
}

/// Every file of the checkout `root` whose name makes it a file of stack
/// `name` (`docker-compose-<name>.yml`, `.yaml`, `stack-<name>.json`),
/// in any folder, `.git` skipped.
async fn files_of_stack(root: &Path, name: &str) -> ApiResult<Vec<String>> {
    let root = root.to_path_buf();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    if entry.file_name() != ".git" {
                        folders.push(path);
                    }
                    continue;
                }
                let Ok(relative) = path.strip_prefix(&root) else {
                    continue;
                };
                let relative = relative.to_string_lossy().replace('\\', "/");
                if stack_of_file(&relative).as_deref() == Some(name.as_str()) {
                    found.push(relative);
                }
            }
        }
        found.sort();
        Ok::<_, std::io::Error>(found)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::internal(format!("listing the conf repo's files: {error}")).into())
}

/// The conf repo at `revision` (a commit id, short or full, in voc's
/// clone): `VALIDATION` when it names no commit there.
async fn conf_at(state: &AppState, revision: &str) -> ApiResult<ConfView> {
    if revision.len() < 4
        || revision.len() > 40
        || !revision.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Err(field_error(
            "commit",
            format!("\"{revision}\" is not a commit id (hexadecimal, 4 to 40 digits)"),
        ));
    }
    let clone = state.repo.clone.clone();
    let rev = revision.to_owned();
    let targets = state.targets.keys().cloned().collect();
    let found = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<(CommitId, tempfile::TempDir, crate::conf::ConfReport)>> {
        let repo = GitRepo::open(&clone)?;
        let Ok(commit) = repo.resolve(&rev) else {
            return Ok(None);
        };
        let folder = tempfile::Builder::new().prefix("voc-conf-").tempdir()?;
        repo.export(&commit, folder.path())?;
        let options = crate::conf::ReadOptions {
            targets: Some(targets),
            ..Default::default()
        };
        let report = crate::conf::read_conf_with(folder.path(), &options);
        Ok(Some((commit, folder, report)))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::internal(format!("reading commit {revision}: {error:#}")))?;
    match found {
        Some((commit, folder, report)) => Ok(ConfView::new(commit, report, folder)),
        None => Err(field_error(
            "commit",
            format!("commit {revision} is not in the conf repo's history"),
        )),
    }
}
