//! Stack definitions: reading them (`stackDefinitions`, `stackDefinition`)
//! and trying one out (`previewStack`: render and validate, no commit).
//!
//! Also [`current_conf`], the conf repo at the newest commit voc knows of,
//! which every stack mutation reads before it writes.

use std::ops::Deref;
use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use serde_json::{Map, Value};

use super::caller::{Role, require};
use super::error::{ApiError, ApiResult, FieldProblem};
use crate::conf::definition::{DEFINITIONS_FOLDER, META_FILE, TEMPLATE_FILE};
use crate::conf::model::DefinitionEntry;
use crate::conf::render::{RenderError, definition_schema_defaults, render_stack};
use crate::conf::{ReadOptions, read_conf_with};
use crate::git::GitRepo;
use crate::serve::{AppState, ConfSnapshot};

/// The conf repo at one commit, as [`current_conf`] found it: the
/// snapshot the follow loop published, or one read for this call (its
/// folder lives as long as this value).
pub(crate) struct ConfView {
    snapshot: Arc<ConfSnapshot>,
    _folder: Option<tempfile::TempDir>,
}

impl ConfView {
    /// The conf at `commit`, read from `folder` (kept while the view lives).
    pub(crate) fn new(
        commit: crate::git::CommitId,
        report: crate::conf::ConfReport,
        folder: tempfile::TempDir,
    ) -> ConfView {
        ConfView {
            snapshot: Arc::new(ConfSnapshot {
                commit,
                report,
                files: None,
            }),
            _folder: Some(folder),
        }
    }
}

impl Deref for ConfView {
    type Target = ConfSnapshot;

    fn deref(&self) -> &ConfSnapshot {
        &self.snapshot
    }
}

/// The conf repo at the newest commit of the followed branch that voc
/// knows of: `refs/remotes/origin/<branch>` in voc's clone, which every
/// fetch and every push through the API moves. That is the follow loop's
/// snapshot when it is up to date; otherwise (before its first read, or
/// right after a push it has not read yet) that commit is exported and
/// read here, so a mutation always sees the API's own earlier writes.
pub(crate) async fn current_conf(state: &AppState) -> ApiResult<ConfView> {
    let published = state.conf.borrow().clone();
    let repo = Arc::clone(&state.repo);
    let options = ReadOptions {
        targets: Some(state.targets.keys().cloned().collect()),
        ..ReadOptions::default()
    };
    tokio::task::spawn_blocking(move || -> anyhow::Result<ConfView> {
        let clone = GitRepo::open(&repo.clone)?;
        let tracking = format!("refs/remotes/origin/{}", repo.remote.branch);
        let head = match clone.resolve(&tracking) {
            Ok(head) => head,
            // A clone that never fetched the branch: fetch it now.
            Err(_) => clone.fetch(&repo.remote)?,
        };
        if let Some(snapshot) = published.filter(|snapshot| snapshot.commit == head) {
            return Ok(ConfView {
                snapshot,
                _folder: None,
            });
        }
        let folder = tempfile::Builder::new().prefix("voc-conf-").tempdir()?;
        clone.export(&head, folder.path())?;
        let report = read_conf_with(folder.path(), &options);
        Ok(ConfView::new(head, report, folder))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::internal(format!("reading the conf repo: {error:#}")).into())
}

/// The definition `name` of `conf`: `NOT_FOUND` when there is none,
/// `VALIDATION` (with its problems) when its folder is not valid.
pub(crate) fn find_definition<'a>(
    conf: &'a ConfSnapshot,
    name: &str,
) -> ApiResult<&'a DefinitionEntry> {
    if let Some(definition) = conf.report.conf.definitions.get(name) {
        return Ok(definition);
    }
    if conf.report.conf.invalid_definitions.contains(name) {
        let subject = crate::conf::Subject::Definition(name.to_owned());
        let problems = FieldProblem::of_subject(&conf.report, &subject);
        return Err(ApiError::validation(
            format!(
                "definition {name} cannot be used until its problems are fixed in the conf repo"
            ),
            problems,
        )
        .into());
    }
    Err(ApiError::not_found(format!(
        "there is no stack definition {name} (a folder {DEFINITIONS_FOLDER}/{name}/ at commit {})",
        conf.commit.short()
    ))
    .into())
}

/// The options as a JSON object, or a `VALIDATION` error.
pub(crate) fn options_object(options: Value) -> ApiResult<Map<String, Value>> {
    match options {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(ApiError::validation(
            "options must be a JSON object of option values",
            vec![FieldProblem {
                field: Some("options".to_owned()),
                file: None,
                line: None,
                message: "must be a JSON object".to_owned(),
            }],
        )
        .into()),
    }
}

/// Each problem of a failed render, with the field (`name`,
/// `options.<option>`, or the Compose path), file and line it concerns.
pub(crate) fn render_problems(
    definition: &DefinitionEntry,
    error: &RenderError,
) -> Vec<FieldProblem> {
    let problem =
        |field: Option<String>, file: Option<String>, line, message: String| FieldProblem {
            field,
            file,
            line,
            message,
        };
    match error {
        RenderError::InvalidStackName { .. } => {
            vec![problem(
                Some("name".to_owned()),
                None,
                None,
                error.to_string(),
            )]
        }
        RenderError::InvalidDefinition { problems, .. } => problems
            .iter()
            .map(|message| {
                problem(
                    None,
                    Some(format!("{}/{META_FILE}", definition.folder)),
                    None,
                    message.clone(),
                )
            })
            .collect(),
        RenderError::InvalidOptions(problems) => problems
            .iter()
            .map(|option| {
                problem(
                    Some(format!("options.{}", option.option)),
                    None,
                    None,
                    option.message.clone(),
                )
            })
            .collect(),
        RenderError::Template { line, message } => vec![problem(
            None,
            Some(format!("{}/{TEMPLATE_FILE}", definition.folder)),
            *line,
            message.clone(),
        )],
        RenderError::InvalidCompose { problems, .. } => problems
            .iter()
            .map(|compose| {
                let path = &compose.location.path;
                problem(
                    (!path.is_empty()).then(|| path.clone()),
                    Some(compose.location.file.display().to_string()),
                    compose.location.line,
                    if path.is_empty() {
                        compose.message.clone()
                    } else {
                        format!("{path} {}", compose.message)
                    },
                )
            })
            .collect(),
    }
}

/// A failed render as a `VALIDATION` error for stack `stack`.
pub(crate) fn render_error(
    definition: &DefinitionEntry,
    stack: &str,
    error: &RenderError,
) -> async_graphql::Error {
    ApiError::validation(
        format!(
            "stack {stack} cannot be rendered from definition {}: {error}",
            definition.name
        ),
        render_problems(definition, error),
    )
    .into()
}

/// A stack definition of the conf repo.
#[derive(SimpleObject)]
pub struct StackDefinition {
    /// Its name (its folder `definitions/<name>/`).
    name: String,
    /// A short title for people.
    title: String,
    /// What it deploys.
    description: String,
    /// Its version (stacks record which one rendered them).
    version: String,
    /// The options, as a JSON Schema (`writeOnly` options are secrets).
    options_schema: Json<Value>,
    /// The options' defaults, for a form's initial values (secrets left
    /// out).
    defaults: Json<Map<String, Value>>,
    /// The Tera template of the Compose file.
    template: String,
    /// Its README, when it has one.
    readme: Option<String>,
    /// The stacks rendered from it, by name.
    stacks: Vec<String>,
}

impl StackDefinition {
    fn of(conf: &ConfSnapshot, definition: &DefinitionEntry) -> StackDefinition {
        StackDefinition {
            name: definition.name.clone(),
            title: definition.meta.title.clone(),
            description: definition.meta.description.clone(),
            version: definition.meta.version.clone(),
            options_schema: Json(definition.meta.options.clone()),
            defaults: Json(definition_schema_defaults(definition)),
            template: definition.template.clone(),
            readme: definition.readme.clone(),
            stacks: conf
                .report
                .conf
                .stacks
                .values()
                .filter(|stack| stack.config.definition.as_deref() == Some(&definition.name))
                .map(|stack| stack.name.clone())
                .collect(),
        }
    }
}

/// One thing wrong with a preview.
#[derive(SimpleObject)]
pub struct Problem {
    /// The field: `name`, `options.<option>`, or a path in the Compose
    /// file (`services.web.deploy.replicas`).
    field: Option<String>,
    /// The file, when the problem is in one.
    file: Option<String>,
    /// The line in that file, from 1.
    line: Option<usize>,
    /// What is wrong.
    message: String,
}

impl From<FieldProblem> for Problem {
    fn from(problem: FieldProblem) -> Problem {
        Problem {
            field: problem.field,
            file: problem.file,
            line: problem.line,
            message: problem.message,
        }
    }
}

/// A stack rendered from a definition without committing it.
#[derive(SimpleObject)]
pub struct StackPreview {
    /// True if the stack could be created with these options.
    valid: bool,
    /// The rendered Compose file (secrets as `${VOC_SECRET_...}`): when
    /// valid, and when it rendered but does not validate (then the
    /// problems' lines are lines of this text); null when the options or
    /// the template failed before a file was made.
    compose: Option<String>,
    /// What `docker stack deploy` would warn about.
    warnings: Vec<String>,
    /// Why it is not valid: each problem with its field and line.
    problems: Vec<Problem>,
}

/// Queries about stack definitions.
#[derive(Default)]
pub struct DefinitionsQuery;

#[Object]
impl DefinitionsQuery {
    /// The valid stack definitions of the conf repo's branch head.
    async fn stack_definitions(&self, ctx: &Context<'_>) -> ApiResult<Vec<StackDefinition>> {
        require(ctx, Role::Viewer)?;
        let conf = current_conf(ctx.data::<AppState>()?).await?;
        Ok(conf
            .report
            .conf
            .definitions
            .values()
            .map(|definition| StackDefinition::of(&conf, definition))
            .collect())
    }

    /// One stack definition (`NOT_FOUND` when there is none).
    async fn stack_definition(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> ApiResult<Option<StackDefinition>> {
        require(ctx, Role::Viewer)?;
        let conf = current_conf(ctx.data::<AppState>()?).await?;
        let definition = find_definition(&conf, &name)?;
        Ok(Some(StackDefinition::of(&conf, definition)))
    }
}

/// Mutations about stack definitions that commit nothing.
#[derive(Default)]
pub struct DefinitionsMutation;

#[Object]
impl DefinitionsMutation {
    /// Renders a stack from `definition` with `options` and validates it
    /// as `createStack` would, committing nothing. The problems are data
    /// here (`valid: false`), not errors: a form calls this as its user
    /// types. `name` defaults to the definition's name.
    async fn preview_stack(
        &self,
        ctx: &Context<'_>,
        definition: String,
        options: Json<Value>,
        name: Option<String>,
    ) -> ApiResult<StackPreview> {
        require(ctx, Role::Operator)?;
        let conf = current_conf(ctx.data::<AppState>()?).await?;
        let entry = find_definition(&conf, &definition)?;
        let options = options_object(options.0)?;
        let name = name.unwrap_or_else(|| definition.clone());
        Ok(match render_stack(entry, &name, &options) {
            Ok(rendered) => StackPreview {
                valid: true,
                compose: Some(rendered.compose),
                warnings: rendered.warnings.iter().map(ToString::to_string).collect(),
                problems: Vec::new(),
            },
            Err(error) => StackPreview {
                valid: false,
                // A file that rendered but does not validate is shown with
                // its problems at their lines.
                compose: match &error {
                    RenderError::InvalidCompose { compose, .. } => Some(compose.clone()),
                    _ => None,
                },
                warnings: Vec::new(),
                problems: render_problems(entry, &error)
                    .into_iter()
                    .map(Problem::from)
                    .collect(),
            },
        })
    }
}
