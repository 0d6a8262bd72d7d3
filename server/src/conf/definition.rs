//! A stack definition: the folder `definitions/<name>/` with
//! `definition.json` (title, description, version, and the options as a
//! JSON Schema), the template `docker-compose.yml.tera` and an optional
//! `README.md`.
//!
//! Checked here: the metadata's fields, that the options schema is the
//! subset voc understands (an object schema whose properties each have a
//! known `type`, whose `required` names exist and whose `default`s and
//! `enum`s fit their type), and that the template parses. Rendering it,
//! and validating a stack's options against the schema, belong to the
//! layer that renders stacks.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::json::{JsonDocument, child, deserialize_fields, kind_of, quoted_list};
use super::model::{ConfProblem, DefinitionEntry, DefinitionMeta, Subject};
use super::name::{check_name, suggest_name};
use super::repo_path::read_repo_file;
use super::suggest::did_you_mean;

/// The folder that holds the definitions, at the repo root.
pub const DEFINITIONS_FOLDER: &str = "definitions";
/// The metadata file of a definition.
pub const META_FILE: &str = "definition.json";
/// The template of a definition.
pub const TEMPLATE_FILE: &str = "docker-compose.yml.tera";
/// The optional description of a definition, for the UI.
pub const README_FILE: &str = "README.md";

/// The JSON types an option may have.
const TYPES: [&str; 6] = ["string", "integer", "number", "boolean", "array", "object"];

/// Reads and checks `definitions/<name>/` under the canonical `root`: the
/// entry when it is valid, and every problem (about the definition).
pub fn read_definition(root: &Path, name: &str) -> (Option<DefinitionEntry>, Vec<ConfProblem>) {
    let folder = format!("{DEFINITIONS_FOLDER}/{name}");
    let mut problems = Vec::new();
    if let Err(why) = check_name(name) {
        let problem = ConfProblem::new(&folder, format!("definition name \"{name}\" {why}"));
        problems.push(match suggest_name(name) {
            Some(fixed) => {
                problem.with_hint(format!("rename the folder to {DEFINITIONS_FOLDER}/{fixed}"))
            }
            None => problem,
        });
    }

    let meta_file = format!("{folder}/{META_FILE}");
    let meta = match read_text(root, &meta_file, &mut problems) {
        Some(text) => read_meta(&text, &meta_file, &mut problems),
        None => {
            if !root.join(&meta_file).exists() {
                problems.push(
                    ConfProblem::new(&folder, format!("definition \"{name}\" has no {META_FILE}"))
                        .with_hint(format!("add {meta_file} with a \"title\", a \"version\" and the \"options\" as a JSON Schema")),
                );
            }
            None
        }
    };

    let template_file = format!("{folder}/{TEMPLATE_FILE}");
    let template = match read_text(root, &template_file, &mut problems) {
        Some(text) => {
            if let Some(problem) = check_template(&text, &template_file) {
                problems.push(problem);
            }
            Some(text)
        }
        None => {
            if !root.join(&template_file).exists() {
                problems.push(
                    ConfProblem::new(
                        &folder,
                        format!("definition \"{name}\" has no {TEMPLATE_FILE}"),
                    )
                    .with_hint(format!(
                        "add {template_file}, the Compose file as a Tera template"
                    )),
                );
            }
            None
        }
    };

    let readme_file = format!("{folder}/{README_FILE}");
    let readme = read_text(root, &readme_file, &mut problems);

    let problems: Vec<ConfProblem> = problems
        .into_iter()
        .map(|p| p.about(Subject::Definition(name.to_owned())))
        .collect();
    let entry = match (meta, template) {
        (Some(meta), Some(template)) if problems.is_empty() => Some(DefinitionEntry {
            name: name.to_owned(),
            folder,
            meta,
            template,
            readme,
        }),
        _ => None,
    };
    (entry, problems)
}

/// The text of `file` if it exists; a problem if it cannot be read, is
/// not UTF-8, or links out of the repo.
fn read_text(root: &Path, file: &str, problems: &mut Vec<ConfProblem>) -> Option<String> {
    if !root.join(file).exists() {
        return None;
    }
    read_repo_file(root, file)
        .map_err(|problem| problems.push(problem))
        .ok()
}

/// `definition.json`: its fields, then the options schema.
fn read_meta(text: &str, file: &str, problems: &mut Vec<ConfProblem>) -> Option<DefinitionMeta> {
    let document = match JsonDocument::parse(text) {
        Ok(document) => document,
        Err(error) => {
            problems.push(
                ConfProblem::new(file, format!("is not valid JSON: {}", error.message))
                    .at_line(Some(error.line)),
            );
            return None;
        }
    };
    let skeleton = match json!({ "title": "", "version": "", "options": {} }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let fields = deserialize_fields::<DefinitionMeta>(
        &document,
        file,
        &skeleton,
        "a JSON object with a \"title\", a \"version\" and the \"options\"",
    );
    problems.extend(fields.problems);
    for field in ["title", "version"] {
        let text = document.value.get(field).and_then(Value::as_str);
        if text.is_some_and(|text| text.trim().is_empty()) {
            problems.push(
                ConfProblem::new(file, format!("\"{field}\" is empty"))
                    .at_line(document.line(&child("", field))),
            );
        }
    }
    let meta = fields.value?;
    problems.extend(check_options_schema(&meta.options, &document, file));
    Some(meta)
}

/// Checks `options`, the JSON Schema of a definition's options.
pub fn check_options_schema(
    options: &Value,
    document: &JsonDocument,
    file: &str,
) -> Vec<ConfProblem> {
    let mut problems = Vec::new();
    let at = |pointer: &str| document.line(pointer);
    let mut problem = |pointer: &str, message: String| {
        problems.push(ConfProblem::new(file, message).at_line(at(pointer)));
    };
    let Value::Object(schema) = options else {
        problem(
            "/options",
            format!(
                "\"options\" must be a JSON Schema object ({{\"type\": \"object\", \"properties\": {{...}}}}), not {}",
                kind_of(options)
            ),
        );
        return problems;
    };
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "object" => {}
        Some(other) => problem(
            "/options/type",
            format!(
                "\"options.type\" must be \"object\", not {}",
                describe(other)
            ),
        ),
        None => problem(
            "/options",
            "\"options\" must have \"type\": \"object\"".to_owned(),
        ),
    }
    let empty = Map::new();
    let properties = match schema.get("properties") {
        None => &empty,
        Some(Value::Object(properties)) => properties,
        Some(other) => {
            problem(
                "/options/properties",
                format!(
                    "\"options.properties\" must be an object (option name: schema), not {}",
                    kind_of(other)
                ),
            );
            &empty
        }
    };
    match schema.get("required") {
        None => {}
        Some(Value::Array(required)) => {
            for (i, entry) in required.iter().enumerate() {
                let pointer = format!("/options/required/{i}");
                match entry {
                    Value::String(name) if properties.contains_key(name) => {}
                    Value::String(name) => {
                        let hint = did_you_mean(name, properties.keys().map(String::as_str));
                        let message = format!(
                            "\"options.required\" names \"{name}\", which is not in \"options.properties\""
                        );
                        problems.push(
                            ConfProblem::new(file, message)
                                .at_line(at(&pointer))
                                .with_hint(hint.unwrap_or_else(|| format!("add \"{name}\" to \"options.properties\", or remove it from \"required\""))),
                        );
                    }
                    other => problems.push(
                        ConfProblem::new(
                            file,
                            format!(
                                "\"options.required\" must list option names, not {}",
                                kind_of(other)
                            ),
                        )
                        .at_line(at(&pointer)),
                    ),
                }
            }
        }
        Some(other) => problem(
            "/options/required",
            format!(
                "\"options.required\" must be a list of option names, not {}",
                kind_of(other)
            ),
        ),
    }
    for (name, property) in properties {
        let pointer = child("/options/properties", name);
        problems.extend(check_property(name, property, &pointer, document, file));
    }
    problems
}

/// One option's schema: a known `type`, and a `default` and `enum` of
/// that type.
fn check_property(
    name: &str,
    property: &Value,
    pointer: &str,
    document: &JsonDocument,
    file: &str,
) -> Vec<ConfProblem> {
    let mut problems = Vec::new();
    let mut problem = |pointer: &str, message: String, hint: Option<String>| {
        let problem = ConfProblem::new(file, message).at_line(document.line(pointer));
        problems.push(match hint {
            Some(hint) => problem.with_hint(hint),
            None => problem,
        });
    };
    let Value::Object(property) = property else {
        problem(
            pointer,
            format!(
                "option \"{name}\" must be a schema object ({{\"type\": ...}}), not {}",
                kind_of(property)
            ),
            None,
        );
        return problems;
    };
    let types_pointer = format!("{pointer}/type");
    let known_types = || format!("use one of {}", quoted_list(&TYPES.map(String::from)));
    let types: Vec<&str> = match property.get("type") {
        None => {
            problem(
                pointer,
                format!("option \"{name}\" has no \"type\""),
                Some(known_types()),
            );
            return problems;
        }
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) if !kinds.is_empty() && kinds.iter().all(Value::is_string) => {
            kinds.iter().filter_map(Value::as_str).collect()
        }
        Some(other) => {
            problem(
                &types_pointer,
                format!(
                    "the \"type\" of option \"{name}\" must be a type name, not {}",
                    kind_of(other)
                ),
                Some(known_types()),
            );
            return problems;
        }
    };
    let unknown: Vec<&str> = types
        .iter()
        .copied()
        .filter(|t| !TYPES.contains(t))
        .collect();
    for kind in &unknown {
        let hint = did_you_mean(kind, TYPES).unwrap_or_else(known_types);
        problem(
            &types_pointer,
            format!("option \"{name}\" has an unknown type \"{kind}\""),
            Some(hint),
        );
    }
    if !unknown.is_empty() {
        return problems;
    }
    let expected = types
        .iter()
        .map(|kind| with_article(kind))
        .collect::<Vec<_>>()
        .join(" or ");
    if let Some(default) = property.get("default")
        && !types.iter().any(|kind| has_type(default, kind))
    {
        problem(
            &format!("{pointer}/default"),
            format!(
                "the default of option \"{name}\" is {}, not {expected}",
                describe(default)
            ),
            None,
        );
    }
    match property.get("enum") {
        None => {}
        Some(Value::Array(values)) => {
            for (i, value) in values.iter().enumerate() {
                if !types.iter().any(|kind| has_type(value, kind)) {
                    problem(
                        &format!("{pointer}/enum/{i}"),
                        format!(
                            "option \"{name}\" lists {} in its \"enum\", which is not {expected}",
                            describe(value)
                        ),
                        None,
                    );
                }
            }
            if let Some(default) = property.get("default")
                && !values.contains(default)
            {
                problem(
                    &format!("{pointer}/default"),
                    format!(
                        "the default of option \"{name}\" ({}) is not one of its \"enum\" values",
                        describe(default)
                    ),
                    None,
                );
            }
        }
        Some(other) => problem(
            &format!("{pointer}/enum"),
            format!(
                "the \"enum\" of option \"{name}\" must be a list of values, not {}",
                kind_of(other)
            ),
            None,
        ),
    }
    problems
}

/// True if `value` is of the JSON Schema type `kind` (`1.0` is an integer,
/// as JSON Schema says).
fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// A value for messages: `the string "1"`, `the integer 2`, `an array`.
fn describe(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the string {value}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("the integer {value}"),
        Value::Number(_) => format!("the number {value}"),
        Value::Bool(_) => format!("the boolean {value}"),
        other => kind_of(other).to_owned(),
    }
}

/// `a string`, `an integer`: a type name as the end of a sentence.
fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// Parses the template with Tera; the problem (with its line when Tera
/// gives one) if it does not parse.
pub fn check_template(text: &str, file: &str) -> Option<ConfProblem> {
    let mut tera = tera::Tera::default();
    let error = tera.add_raw_template(TEMPLATE_FILE, text).err()?;
    // Tera wraps the parser's error ("Failed to parse ..."); the innermost
    // message says what is wrong, in pest's format with ` --> line:column`.
    let mut innermost = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        innermost = cause.to_string();
        source = cause.source();
    }
    let line = innermost
        .split_once("--> ")
        .and_then(|(_, rest)| rest.split(':').next())
        .and_then(|line| line.trim().parse::<usize>().ok());
    let what = innermost
        .lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("= "))
        .map(str::to_owned)
        .unwrap_or_else(|| innermost.trim().to_owned());
    Some(
        ConfProblem::new(file, format!("the template does not parse: {what}"))
            .at_line(line)
            .with_hint("see https://keats.github.io/tera/docs/#templates for the syntax"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_problems(options: &str) -> Vec<String> {
        let text = format!("{{\"title\": \"t\", \"version\": \"1\",\n\"options\": {options}\n}}");
        let document = JsonDocument::parse(&text).unwrap();
        let options = document.value["options"].clone();
        check_options_schema(&options, &document, "d.json")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_documented_schema_is_valid() {
        let problems = schema_problems(
            r#"{
    "type": "object",
    "required": ["image", "domain"],
    "properties": {
      "image":    { "type": "string", "title": "Image", "pattern": "^[a-z0-9./:_-]+$" },
      "domain":   { "type": "string", "format": "hostname", "title": "Public host name" },
      "replicas": { "type": "integer", "minimum": 1, "maximum": 20, "default": 1 },
      "tier":     { "type": "string", "enum": ["small", "large"], "default": "small" },
      "dbPassword": { "type": "string", "writeOnly": true, "title": "Database password" }
    }
  }"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn each_schema_rule_is_checked_on_its_line() {
        let cases: &[(&str, &[&str])] = &[
            (r#"{"type": "object"}"#, &[]),
            (
                r#"{"type": "object", "properties": {"a": {"type": ["string", "null"]}}}"#,
                &[
                    "d.json:2: option \"a\" has an unknown type \"null\" (use one of \"string\", \"integer\", \"number\", \"boolean\", \"array\" and \"object\")",
                ],
            ),
            (
                "[]",
                &[
                    "d.json:2: \"options\" must be a JSON Schema object ({\"type\": \"object\", \"properties\": {...}}), not an array",
                ],
            ),
            (
                "{}",
                &["d.json:2: \"options\" must have \"type\": \"object\""],
            ),
            (
                r#"{"type": "array"}"#,
                &["d.json:2: \"options.type\" must be \"object\", not the string \"array\""],
            ),
            (
                "{\"type\": \"object\",\n\"properties\": [1]}",
                &[
                    "d.json:3: \"options.properties\" must be an object (option name: schema), not an array",
                ],
            ),
            (
                "{\"type\": \"object\", \"properties\": {\"domain\": {\"type\": \"string\"}},\n\"required\": [\n\"domian\", 3]}",
                &[
                    "d.json:4: \"options.required\" names \"domian\", which is not in \"options.properties\" (did you mean \"domain\"?)",
                    "d.json:4: \"options.required\" must list option names, not an integer",
                ],
            ),
            (
                "{\"type\": \"object\", \"required\": \"x\"}",
                &["d.json:2: \"options.required\" must be a list of option names, not a string"],
            ),
            (
                "{\"type\": \"object\", \"properties\": {\n\"a\": {\"title\": \"A\"},\n\"b\": {\"type\": \"int\"},\n\"c\": {\"type\": \"strng\"},\n\"d\": \"string\",\n\"e\": {\"type\": 1}}}",
                &[
                    "d.json:3: option \"a\" has no \"type\" (use one of \"string\", \"integer\", \"number\", \"boolean\", \"array\" and \"object\")",
                    "d.json:4: option \"b\" has an unknown type \"int\" (use one of \"string\", \"integer\", \"number\", \"boolean\", \"array\" and \"object\")",
                    "d.json:5: option \"c\" has an unknown type \"strng\" (did you mean \"string\"?)",
                    "d.json:6: option \"d\" must be a schema object ({\"type\": ...}), not a string",
                    "d.json:7: the \"type\" of option \"e\" must be a type name, not an integer (use one of \"string\", \"integer\", \"number\", \"boolean\", \"array\" and \"object\")",
                ],
            ),
            (
                "{\"type\": \"object\", \"properties\": {\n\"n\": {\"type\": \"integer\",\n\"default\": \"1\"},\n\"f\": {\"type\": \"integer\", \"default\": 1.0},\n\"g\": {\"type\": \"number\", \"default\": 1.5},\n\"h\": {\"type\": \"boolean\", \"default\": 0},\n\"i\": {\"type\": [\"string\", \"integer\"], \"default\": 2}}}",
                &[
                    "d.json:4: the default of option \"n\" is the string \"1\", not an integer",
                    "d.json:7: the default of option \"h\" is the integer 0, not a boolean",
                ],
            ),
            (
                "{\"type\": \"object\", \"properties\": {\n\"t\": {\"type\": \"string\", \"enum\": [\"small\",\n2], \"default\": \"medium\"},\n\"u\": {\"type\": \"string\", \"enum\": \"small\"}}}",
                &[
                    "d.json:4: option \"t\" lists the integer 2 in its \"enum\", which is not a string",
                    "d.json:4: the default of option \"t\" (the string \"medium\") is not one of its \"enum\" values",
                    "d.json:5: the \"enum\" of option \"u\" must be a list of values, not a string",
                ],
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(schema_problems(options), *expected, "{options}");
        }
    }

    #[test]
    fn template_syntax_errors_have_their_line() {
        assert_eq!(
            check_template("services:\n  web:\n    image: {{ options.image }}\n", "t"),
            None
        );
        let problem =
            check_template("services:\n  web:\n    image: {{ options.image }\n", "t").unwrap();
        assert_eq!(problem.line, Some(3), "{problem}");
        assert!(
            problem
                .message
                .starts_with("the template does not parse: expected"),
            "{problem}"
        );
        let problem = check_template("{% if x %}\nservices: {}\n", "t").unwrap();
        assert!(
            problem.message.starts_with("the template does not parse: "),
            "{problem}"
        );
        let problem = check_template("{% extends \"base\" %}\n", "t").unwrap();
        assert_eq!(problem.line, None, "{problem}");
    }

    fn folder(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let root = dir.path().canonicalize().unwrap();
        (dir, root)
    }

    const META: &str = r#"{"title": "Web", "version": "1.0.0", "options": {"type": "object", "properties": {"image": {"type": "string"}}}}"#;

    #[test]
    fn a_valid_definition_is_read() {
        let (_dir, root) = folder(&[
            ("definitions/web/definition.json", META),
            (
                "definitions/web/docker-compose.yml.tera",
                "services:\n  web:\n    image: {{ options.image }}\n",
            ),
            ("definitions/web/README.md", "# Web"),
        ]);
        let (entry, problems) = read_definition(&root, "web");
        assert!(problems.is_empty(), "{problems:?}");
        let entry = entry.unwrap();
        assert_eq!(entry.folder, "definitions/web");
        assert_eq!(entry.meta.title, "Web");
        assert_eq!(entry.readme.as_deref(), Some("# Web"));
    }

    /// Files of a repo (path, text).
    type Files<'a> = &'a [(&'a str, &'a str)];

    #[test]
    fn every_problem_of_a_definition_is_reported() {
        let cases: &[(Files<'_>, &str, &[&str])] = &[
            (
                &[("definitions/web/README.md", "")],
                "web",
                &[
                    "definitions/web: definition \"web\" has no definition.json (add definitions/web/definition.json with a \"title\", a \"version\" and the \"options\" as a JSON Schema)",
                    "definitions/web: definition \"web\" has no docker-compose.yml.tera (add definitions/web/docker-compose.yml.tera, the Compose file as a Tera template)",
                ],
            ),
            (
                &[
                    ("definitions/Web/definition.json", META),
                    ("definitions/Web/docker-compose.yml.tera", "{{ x }}"),
                ],
                "Web",
                &[
                    "definitions/Web: definition name \"Web\" must be lowercase (rename the folder to definitions/web)",
                ],
            ),
            (
                &[
                    (
                        "definitions/web/definition.json",
                        "{\"title\": \"\",\n\"versoin\": \"1\", \"options\": {\"type\": \"object\"}}",
                    ),
                    ("definitions/web/docker-compose.yml.tera", "{{ x }"),
                ],
                "web",
                &[
                    "definitions/web/definition.json:2: unknown field \"versoin\" (did you mean \"version\"?)",
                    "definitions/web/definition.json:1: field \"version\" is missing (add \"version\")",
                    "definitions/web/definition.json:1: \"title\" is empty",
                ],
            ),
        ];
        for (files, name, expected) in cases {
            let (_dir, root) = folder(files);
            let (entry, problems) = read_definition(&root, name);
            assert!(entry.is_none());
            let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            // The template problem's exact text is Tera's.
            lines.retain(|l| !l.contains("the template does not parse"));
            assert_eq!(lines, *expected);
            assert!(
                problems
                    .iter()
                    .all(|p| p.subject == Some(Subject::Definition((*name).to_owned())))
            );
        }
    }
}
