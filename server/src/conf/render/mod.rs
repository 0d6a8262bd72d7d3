//! A stack from a stack definition: options in, the Compose file that voc
//! commits out, validated like a hand-written one.
//!
//! [`render_stack`] runs, stopping at the first step that fails:
//!
//! 1. the stack name against the naming rule, and the options schema
//!    against the subset of JSON Schema voc enforces ([`options`] lists it);
//! 2. the options against the schema: every problem at once, each a
//!    sentence naming the option; defaults filled; unknown options
//!    rejected;
//! 3. the template, with Tera: it sees `options.<name>` (every declared
//!    option; `null` when not given and without default), `stack.name`,
//!    `definition.name` and `definition.version`. Every `{{ ... }}` prints
//!    one YAML node that no value can turn into more keys, items or
//!    documents ([`scalar`] explains how, and the two exceptions a template
//!    author can choose: `| safe` and `{% filter %}`). Tera's `get_env` is
//!    disabled: the server's environment must not leak into a committed
//!    file;
//! 4. the result, with a first-line comment saying where it comes from,
//!    through the Compose loader of `docker stack deploy`
//!    ([`voc_compose::load_sources`]); its problems carry lines of the
//!    rendered text.
//!
//! The rendered file must not reference files (`env_file`, a secret's or a
//! config's `file`, a relative bind mount): a generated stack has no folder
//! of its own in the conf repo, and voc must not read the server's files
//! while rendering. Such a file fails the loader (it is rendered as if it
//! lived in a folder that cannot exist) and is refused if the file is
//! found anyway. Use named volumes, `external` secrets and configs, or
//! options.
//!
//! Secrets (`writeOnly` options): the rendered file holds
//! `${VOC_SECRET_<NAME>}` where the value would be; [`RenderedStack`]
//! holds the placeholder in `options` and the plain value in
//! `secret_options`. The caller completes the round trip: it encrypts
//! each [`SecretValue::value`] (age, to voc's key), commits it with the
//! stack (under [`SecretValue::variable`]), and at deploy time decrypts it
//! into the stack's interpolation variables. A secret given as its
//! placeholder keeps the value already stored.

pub mod options;
pub mod scalar;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use voc_compose::{ComposeSource, Problem, Variables, Warning, load_sources};

use super::definition::{TEMPLATE_FILE, check_template};
use super::model::DefinitionEntry;
use super::name::{NameError, check_name};
pub use options::{
    OptionProblem, SECRET_PLACEHOLDER_KEY, SecretValue, check_schema_support, secret_variable,
};

/// The folder the rendered file is loaded as if it lived in: below a file
/// (`/dev/null`), so it cannot exist and no relative reference resolves.
const NOWHERE: &str = "/dev/null/voc-definition";

/// The value the loader sees for each secret: the real one is not needed
/// to validate, and must not appear in a problem's message.
const SECRET_STAND_IN: &str = "voc-secret";

/// A stack rendered from a definition, ready to commit.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedStack {
    /// `docker-compose-<stack>.yml`: a first-line comment naming the
    /// definition and its version, then the rendered template.
    pub compose: String,
    /// The options for `stack-<stack>.json`: validated, defaults filled,
    /// each secret replaced by `{"$secret": "VOC_SECRET_<NAME>"}`.
    pub options: Map<String, Value>,
    /// The secrets given now, by option name, for the caller to encrypt.
    /// A secret given as its placeholder is not here (its stored value is
    /// kept).
    pub secret_options: BTreeMap<String, SecretValue>,
    /// What `docker stack deploy` would warn about in the rendered file.
    pub warnings: Vec<Warning>,
}

/// Why a stack could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The stack name breaks the naming rule.
    #[error("stack name \"{name}\" {reason}")]
    InvalidStackName {
        /// The name.
        name: String,
        /// Which rule.
        reason: NameError,
    },
    /// The definition's options schema uses what voc cannot enforce (a
    /// problem of the definition, not of the options).
    #[error("definition \"{definition}\" cannot be used: {}", .problems.join("; "))]
    InvalidDefinition {
        /// The definition.
        definition: String,
        /// Each problem, a sentence.
        problems: Vec<String>,
    },
    /// The options do not fit the schema: every problem.
    #[error("{}", join(.0))]
    InvalidOptions(Vec<OptionProblem>),
    /// The template does not parse, is misused, or fails to render.
    #[error("{}", match .line { Some(line) => format!("{TEMPLATE_FILE}:{line}: {message}"), None => format!("{TEMPLATE_FILE}: {message}") })]
    Template {
        /// The template's line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The rendered file is not a valid Compose file: its problems, with
    /// lines of the rendered text.
    #[error("the rendered Compose file is not valid: {}", join(.problems))]
    InvalidCompose {
        /// Each problem, with its line in `compose`.
        problems: Vec<Problem>,
        /// The rendered text, so that a preview can show the problems at
        /// their lines.
        compose: String,
    },
}

/// `a; b; c`.
fn join(items: &[impl fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The defaults of `definition`'s options, for a form's initial values
/// (secrets left out).
pub fn definition_schema_defaults(definition: &DefinitionEntry) -> Map<String, Value> {
    options::schema_defaults(&definition.meta.options)
}

/// The name of the Compose file of stack `stack`.
pub fn compose_file_name(stack: &str) -> String {
    format!("docker-compose-{stack}.yml")
}

/// Renders stack `stack_name` from `definition` with `options` (see the
/// module doc for the steps).
pub fn render_stack(
    definition: &DefinitionEntry,
    stack_name: &str,
    options: &Map<String, Value>,
) -> Result<RenderedStack, RenderError> {
    check_name(stack_name).map_err(|reason| RenderError::InvalidStackName {
        name: stack_name.to_owned(),
        reason,
    })?;
    let schema = &definition.meta.options;
    let unsupported = check_schema_support(schema);
    if !unsupported.is_empty() {
        return Err(RenderError::InvalidDefinition {
            definition: definition.name.clone(),
            problems: unsupported,
        });
    }
    let validated =
        options::validate_options(schema, options).map_err(RenderError::InvalidOptions)?;

    let mut template_options = Map::new();
    let declared = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (name, _) in declared {
        let value = match validated.options.get(name) {
            Some(value) if options::is_secret_placeholder(value) => {
                Value::String(scalar::secret_marker(&secret_variable(name)))
            }
            Some(value) => value.clone(),
            None => Value::Null,
        };
        template_options.insert(name.clone(), value);
    }
    let secret_variables = validated
        .options
        .iter()
        .filter(|(_, value)| options::is_secret_placeholder(value))
        .map(|(name, _)| secret_variable(name))
        .collect();
    let body = render_template(
        definition,
        stack_name,
        Value::Object(template_options),
        secret_variables,
    )?;

    // A leading comment tag leaves empty lines; the header takes its place.
    let body = body.trim_start_matches(['\n', '\r']);
    let compose = format!(
        "# Generated by voc from definition {}@{}: do not edit, voc renders it again from stack-{stack_name}.json.\n{body}{}",
        definition.name,
        definition.meta.version,
        if body.ends_with('\n') { "" } else { "\n" }
    );
    let variables: Variables = validated
        .options
        .iter()
        .filter(|(_, value)| options::is_secret_placeholder(value))
        .map(|(name, _)| (secret_variable(name), SECRET_STAND_IN.to_owned()))
        .collect();
    let warnings = check_compose(&compose, stack_name, &variables)?;
    Ok(RenderedStack {
        compose,
        options: validated.options,
        secret_options: validated.secrets,
        warnings,
    })
}

/// Step 3: the template rendered with the prepared options.
fn render_template(
    definition: &DefinitionEntry,
    stack_name: &str,
    options: Value,
    secrets: std::collections::BTreeSet<String>,
) -> Result<String, RenderError> {
    let template_error = |line, message| RenderError::Template { line, message };
    if let Some(problem) = check_template(&definition.template, TEMPLATE_FILE) {
        return Err(template_error(problem.line, problem.message));
    }
    if let Some((line, tag)) = scalar::check_placement(&definition.template) {
        return Err(template_error(
            Some(line),
            format!(
                "{tag} must be a whole YAML value (it prints a quoted value): build the value inside the tag, as in {{{{ \"redis:\" ~ options.version }}}}"
            ),
        ));
    }
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::new());
    tera.add_raw_template(TEMPLATE_FILE, &definition.template)
        .map_err(|error| template_error(None, innermost(&error)))?;
    // `templates` is Tera 1's (hidden but public) store of parsed
    // templates; the rewrite must happen after parsing and before
    // rendering, and Tera has no other hook for it.
    if let Some(template) = tera.templates.get_mut(TEMPLATE_FILE) {
        scalar::secure_template(template);
    }
    tera.register_filter(scalar::FILTER_NAME, scalar::YamlValue { secrets });
    tera.register_function(
        "get_env",
        |_: &std::collections::HashMap<String, Value>| -> tera::Result<Value> {
            Err(tera::Error::msg(
                "get_env is disabled in stack definitions: a committed file must not depend on the server's environment",
            ))
        },
    );
    let mut context = tera::Context::new();
    context.insert("options", &options);
    context.insert("stack", &serde_json::json!({ "name": stack_name }));
    context.insert(
        "definition",
        &serde_json::json!({ "name": definition.name, "version": definition.meta.version }),
    );
    let body = tera
        .render(TEMPLATE_FILE, &context)
        .map_err(|error| template_error(None, innermost(&error)))?;
    if body.contains('\0') {
        return Err(template_error(
            None,
            "a secret option is printed raw (with `| safe` or inside `{% filter %}`): print it as {{ options.<name> }}".to_owned(),
        ));
    }
    Ok(body)
}

/// The most specific message of a Tera error (Tera wraps the cause in
/// "Failed to render ...").
fn innermost(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    message
}

/// Step 4: the rendered file through the loader; its warnings, or every
/// problem with the file named as it will be committed.
fn check_compose(
    compose: &str,
    stack_name: &str,
    variables: &Variables,
) -> Result<Vec<Warning>, RenderError> {
    let file_name = compose_file_name(stack_name);
    let path = Path::new(NOWHERE).join(&file_name);
    let committed = PathBuf::from(&file_name);
    let rename = |file: &mut PathBuf| {
        if file == &path {
            file.clone_from(&committed);
        }
    };
    let source = ComposeSource {
        path: path.clone(),
        text: compose.to_owned(),
    };
    let loaded =
        load_sources(&[source], variables).map_err(|error| RenderError::InvalidCompose {
            problems: error
                .problems
                .into_iter()
                .map(|mut problem| {
                    rename(&mut problem.location.file);
                    problem
                })
                .collect(),
            compose: compose.to_owned(),
        })?;
    let mut problems = Vec::new();
    for file in &loaded.file.files_read {
        problems.push(file_problem(
            &committed,
            format!(
                "reads the file {}: a stack definition must not reference files (use named volumes, external secrets and configs, or options)",
                file.display()
            ),
        ));
    }
    for (service, definition) in &loaded.file.services {
        for volume in &definition.volumes {
            if let Some(source) = &volume.source
                && source.starts_with(NOWHERE)
            {
                problems.push(file_problem(
                    &committed,
                    format!(
                        "service {service} bind-mounts a relative path: a stack definition must not reference files of the repo (use a named volume or an absolute host path)"
                    ),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(RenderError::InvalidCompose {
            problems,
            compose: compose.to_owned(),
        });
    }
    Ok(loaded
        .warnings
        .into_iter()
        .map(|mut warning| {
            rename(&mut warning.location.file);
            warning
        })
        .collect())
}

/// A problem with the whole file.
fn file_problem(file: &Path, message: String) -> Problem {
    Problem {
        location: voc_compose::Location {
            file: file.to_path_buf(),
            line: None,
            path: String::new(),
        },
        message,
    }
}

#[cfg(test)]
mod tests;
