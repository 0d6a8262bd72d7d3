//! What the API's stack mutations write to the conf repo, decided without
//! touching git: the files of a stack (where they go, what
//! `stack-<stack>.json` holds after the change), the commit messages, and
//! the unified diff an upgrade would make. Pure; the API validates and
//! renders first, then commits these edits with
//! [`GitRepo::commit_and_push`](crate::git::GitRepo::commit_and_push).
//!
//! Editing `stack-<stack>.json` keeps what it does not concern: its other
//! fields and their order stay as the user wrote them (only the JSON's
//! layout is normalised to two-space indentation).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::files::{FileRole, role_of};
use crate::conf::model::{DEFAULT_TARGET, RepoPath};

/// The file name of a stack's settings.
pub fn config_file_name(stack: &str) -> String {
    format!("stack-{stack}.json")
}

/// The file name of a stack's Compose file as voc writes it.
pub fn compose_file_name(stack: &str) -> String {
    crate::conf::render::compose_file_name(stack)
}

/// The stack that `path` (a repo path) is a file of, by its name:
/// `docker-compose-<stack>.yml` or `.yaml`, or `stack-<stack>.json`.
pub fn stack_of_file(path: &str) -> Option<String> {
    match role_of(path) {
        FileRole::ComposeFile { stack } | FileRole::StackConfig { stack } => Some(stack),
        _ => None,
    }
}

/// Why a stack's settings file cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file is not a JSON object (a hand edit broke it): voc will not
    /// guess what it meant.
    #[error("{file} is not a JSON object of stack settings ({reason}): fix it by hand first")]
    NotAnObject {
        /// The file.
        file: RepoPath,
        /// The parser's message, or what it is instead.
        reason: String,
    },
}

/// The settings of a stack voc creates from a definition: the definition,
/// the validated options (secrets as placeholders), the encrypted secrets,
/// and the target when it is not the default one.
pub fn new_stack_config(
    target: &str,
    definition: &str,
    options: &Map<String, Value>,
    secrets: &BTreeMap<String, String>,
) -> String {
    let mut config = Map::new();
    if target != DEFAULT_TARGET {
        config.insert("target".to_owned(), Value::String(target.to_owned()));
    }
    set_rendered_fields(&mut config, definition, options, secrets);
    to_text(&config)
}

/// `existing` (the text of `file`) with `definition`, `options` and
/// `secrets` replaced, every other field kept in place.
pub fn update_stack_config(
    existing: &str,
    file: &str,
    definition: &str,
    options: &Map<String, Value>,
    secrets: &BTreeMap<String, String>,
) -> Result<String, EditError> {
    let mut config = parse_object(existing, file)?;
    set_rendered_fields(&mut config, definition, options, secrets);
    Ok(to_text(&config))
}

/// `existing` (the text of `file`, `None` when the stack has no settings
/// file) with `enabled` set. `true` is the default, so enabling a stack
/// without a file only needs `{"enabled": true}` to be explicit.
pub fn set_enabled(existing: Option<&str>, file: &str, enabled: bool) -> Result<String, EditError> {
    let mut config = match existing {
        Some(text) => parse_object(text, file)?,
        None => Map::new(),
    };
    config.insert("enabled".to_owned(), Value::Bool(enabled));
    Ok(to_text(&config))
}

fn set_rendered_fields(
    config: &mut Map<String, Value>,
    definition: &str,
    options: &Map<String, Value>,
    secrets: &BTreeMap<String, String>,
) {
    config.insert(
        "definition".to_owned(),
        Value::String(definition.to_owned()),
    );
    config.insert("options".to_owned(), Value::Object(options.clone()));
    if secrets.is_empty() {
        // `shift_remove`: the fields after it keep their order.
        config.shift_remove("secrets");
    } else {
        let secrets = secrets
            .iter()
            .map(|(variable, sealed)| (variable.clone(), Value::String(sealed.clone())))
            .collect();
        config.insert("secrets".to_owned(), Value::Object(secrets));
    }
}

fn parse_object(text: &str, file: &str) -> Result<Map<String, Value>, EditError> {
    let not_an_object = |reason: String| EditError::NotAnObject {
        file: file.to_owned(),
        reason,
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(not_an_object(format!(
            "it holds {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
        Err(error) => Err(not_an_object(error.to_string())),
    }
}

/// Two-space JSON with a final newline, as people write it.
fn to_text(config: &Map<String, Value>) -> String {
    // Serialising a map of JSON values cannot fail.
    let mut text = serde_json::to_string_pretty(config).unwrap_or_default();
    text.push('\n');
    text
}

/// What a mutation does, for its commit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackChangeKind<'a> {
    /// `createStack`, from a definition at a version.
    Create {
        /// The definition.
        definition: &'a str,
        /// Its version.
        version: &'a str,
    },
    /// `updateStack`: new options.
    Update {
        /// The definition.
        definition: &'a str,
        /// Its version.
        version: &'a str,
    },
    /// `upgradeStack`: rendered again from the definition's current version.
    Upgrade {
        /// The definition.
        definition: &'a str,
        /// Its version.
        version: &'a str,
    },
    /// `deleteStack`.
    Delete,
    /// `setStackEnabled`.
    SetEnabled(bool),
    /// `rollbackStack` to a commit.
    Rollback {
        /// The commit's short id.
        commit: &'a str,
    },
}

/// The commit message of a change to stack `stack`:
/// `voc: create stack shop from definition webapp@1.2.0`, then the user's
/// message (trimmed) after a blank line when there is one.
pub fn commit_message(
    stack: &str,
    kind: &StackChangeKind<'_>,
    user_message: Option<&str>,
) -> String {
    let subject = match kind {
        StackChangeKind::Create {
            definition,
            version,
        } => format!("voc: create stack {stack} from definition {definition}@{version}"),
        StackChangeKind::Update {
            definition,
            version,
        } => format!("voc: update stack {stack} (definition {definition}@{version})"),
        StackChangeKind::Upgrade {
            definition,
            version,
        } => format!("voc: upgrade stack {stack} to definition {definition}@{version}"),
        StackChangeKind::Delete => format!("voc: delete stack {stack}"),
        StackChangeKind::SetEnabled(true) => format!("voc: enable stack {stack}"),
        StackChangeKind::SetEnabled(false) => format!("voc: disable stack {stack}"),
        StackChangeKind::Rollback { commit } => {
            format!("voc: roll back stack {stack} to {commit}")
        }
    };
    match user_message.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => format!("{subject}\n\n{}\n", without_directives(text)),
        None => format!("{subject}\n"),
    }
}

/// The user's part of a commit message with its directives made plain
/// text (`[skip voc]` becomes `(skip voc)`): the API answers with the job
/// that will deploy its commit, so the message must not skip or dry-run
/// that commit, nor ask for other stacks' deploys.
fn without_directives(text: &str) -> String {
    if super::directives::Directives::parse(text).is_empty() {
        return text.to_owned();
    }
    text.replace('[', "(").replace(']', ")")
}

/// Lines of context around each change in [`unified_diff`].
const CONTEXT: usize = 3;

/// Above this many line pairs the diff is not searched for common lines:
/// the whole file is shown replaced (Compose files are far smaller).
const MAX_DIFF_CELLS: usize = 4_000_000;

/// One line of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// In both, at these indexes (old, new).
    Same(usize, usize),
    /// Only in the old text.
    Removed(usize),
    /// Only in the new text.
    Added(usize),
}

/// The unified diff (`--- a/<path>`, `+++ b/<path>`, hunks with three
/// lines of context) from `old` to `new`, or `None` when they are equal.
pub fn unified_diff(old: &str, new: &str, path: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let script = diff_lines(&old_lines, &new_lines);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let changes: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, line)| !matches!(line, Line::Same(..)))
        .map(|(i, _)| i)
        .collect();
    if changes.is_empty() {
        // Only the final newline differs.
        out.push_str("@@ -1 +1 @@\n\\ the files differ only in their final newline\n");
        return Some(out);
    }
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &at in &changes {
        let start = at.saturating_sub(CONTEXT);
        let end = (at + CONTEXT + 1).min(script.len());
        match hunks.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = end,
            _ => hunks.push((start, end)),
        }
    }
    for (start, end) in hunks {
        let lines = &script[start..end];
        let (mut old_start, mut new_start) = position(&script, start);
        let old_count = lines
            .iter()
            .filter(|l| !matches!(l, Line::Added(_)))
            .count();
        let new_count = lines
            .iter()
            .filter(|l| !matches!(l, Line::Removed(_)))
            .count();
        // 1-based, and an empty side names the line before it.
        if old_count > 0 {
            old_start += 1;
        }
        if new_count > 0 {
            new_start += 1;
        }
        out.push_str(&format!(
            "@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"
        ));
        for line in lines {
            match *line {
                Line::Same(i, _) => out.push_str(&format!(" {}\n", old_lines[i])),
                Line::Removed(i) => out.push_str(&format!("-{}\n", old_lines[i])),
                Line::Added(j) => out.push_str(&format!("+{}\n", new_lines[j])),
            }
        }
    }
    Some(out)
}

/// The (old, new) 0-based line indexes at which `script[at]` stands.
fn position(script: &[Line], at: usize) -> (usize, usize) {
    script[..at]
        .iter()
        .fold((0, 0), |(old, new), line| match line {
            Line::Same(..) => (old + 1, new + 1),
            Line::Removed(_) => (old + 1, new),
            Line::Added(_) => (old, new + 1),
        })
}

/// The shortest edit script from `old` to `new` (a longest common
/// subsequence, removals before additions).
fn diff_lines(old: &[&str], new: &[&str]) -> Vec<Line> {
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > MAX_DIFF_CELLS {
        return (0..n)
            .map(Line::Removed)
            .chain((0..m).map(Line::Added))
            .collect();
    }
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let width = m + 1;
    let mut common = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i * width + j] = if old[i] == new[j] {
                common[(i + 1) * width + j + 1] + 1
            } else {
                common[(i + 1) * width + j].max(common[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut script = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            script.push(Line::Same(i, j));
            i += 1;
            j += 1;
        } else if j == m || (i < n && common[(i + 1) * width + j] >= common[i * width + j + 1]) {
            script.push(Line::Removed(i));
            i += 1;
        } else {
            script.push(Line::Added(j));
            j += 1;
        }
    }
    script
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("a test gives an object"),
        }
    }

    #[test]
    fn a_new_stack_config_holds_the_definition_options_and_secrets() {
        let options =
            object(json!({"replicas": 2, "dbPassword": {"$secret": "VOC_SECRET_DB_PASSWORD"}}));
        let secrets =
            BTreeMap::from([("VOC_SECRET_DB_PASSWORD".to_owned(), "c2VhbGVk".to_owned())]);
        let text = new_stack_config("default", "webapp", &options, &secrets);
        assert_eq!(
            text,
            "{\n  \"definition\": \"webapp\",\n  \"options\": {\n    \"replicas\": 2,\n    \"dbPassword\": {\n      \"$secret\": \"VOC_SECRET_DB_PASSWORD\"\n    }\n  },\n  \"secrets\": {\n    \"VOC_SECRET_DB_PASSWORD\": \"c2VhbGVk\"\n  }\n}\n"
        );
        let text = new_stack_config("prod", "redis", &Map::new(), &BTreeMap::new());
        assert_eq!(
            text,
            "{\n  \"target\": \"prod\",\n  \"definition\": \"redis\",\n  \"options\": {}\n}\n"
        );
        // What voc writes is a valid `stack-<stack>.json`.
        let config: crate::conf::StackConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(config.target, "prod");
        assert_eq!(config.definition.as_deref(), Some("redis"));
    }

    #[test]
    fn an_update_keeps_the_other_fields_in_their_order() {
        let existing = r#"{"selfHeal": true, "options": {"old": 1}, "secrets": {"VOC_SECRET_A": "x"}, "dependsOn": ["db"], "definition": "webapp"}"#;
        let options = object(json!({"replicas": 3}));
        let text = update_stack_config(
            existing,
            "s/stack-shop.json",
            "webapp",
            &options,
            &BTreeMap::new(),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"selfHeal": true, "options": {"replicas": 3}, "dependsOn": ["db"], "definition": "webapp"})
        );
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["selfHeal", "options", "dependsOn", "definition"]);
    }

    #[test]
    fn enabling_edits_or_creates_the_settings() {
        assert_eq!(
            set_enabled(None, "stack-x.json", false).unwrap(),
            "{\n  \"enabled\": false\n}\n"
        );
        assert_eq!(
            set_enabled(
                Some("{\"prune\": false, \"enabled\": false}"),
                "stack-x.json",
                true
            )
            .unwrap(),
            "{\n  \"prune\": false,\n  \"enabled\": true\n}\n"
        );
        for broken in ["[1]", "{\"enabled\": ", "\"x\""] {
            let error = set_enabled(Some(broken), "a/stack-x.json", true).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("a/stack-x.json is not a JSON object of stack settings ("),
                "{error}"
            );
        }
    }

    #[test]
    fn paths_and_names_of_stack_files() {
        assert_eq!(compose_file_name("shop"), "docker-compose-shop.yml");
        for (path, stack) in [
            ("docker-compose-shop.yml", Some("shop")),
            ("a/b/docker-compose-shop.yaml", Some("shop")),
            ("a/stack-db-1.json", Some("db-1")),
            ("docker-compose.yml", None),
            ("docker-compose-.yml", None),
            ("stack-.json", None),
            ("image-shop.json", None),
            ("docker-compose-shop.yml.tera", None),
            ("stack-shop.json.bak", None),
        ] {
            assert_eq!(stack_of_file(path).as_deref(), stack, "{path}");
        }
    }

    #[test]
    fn commit_messages_say_what_and_carry_the_users_words() {
        let create = StackChangeKind::Create {
            definition: "webapp",
            version: "1.2.0",
        };
        assert_eq!(
            commit_message("shop", &create, None),
            "voc: create stack shop from definition webapp@1.2.0\n"
        );
        assert_eq!(
            commit_message("shop", &create, Some("  for the launch \n")),
            "voc: create stack shop from definition webapp@1.2.0\n\nfor the launch\n"
        );
        assert_eq!(
            commit_message("shop", &create, Some(" ")),
            commit_message("shop", &create, None)
        );
        let cases = [
            (
                StackChangeKind::Update {
                    definition: "webapp",
                    version: "1.2.0",
                },
                "voc: update stack shop (definition webapp@1.2.0)\n",
            ),
            (
                StackChangeKind::Upgrade {
                    definition: "webapp",
                    version: "1.3.0",
                },
                "voc: upgrade stack shop to definition webapp@1.3.0\n",
            ),
            (StackChangeKind::Delete, "voc: delete stack shop\n"),
            (
                StackChangeKind::SetEnabled(true),
                "voc: enable stack shop\n",
            ),
            (
                StackChangeKind::SetEnabled(false),
                "voc: disable stack shop\n",
            ),
            (
                StackChangeKind::Rollback { commit: "abc1234" },
                "voc: roll back stack shop to abc1234\n",
            ),
        ];
        for (kind, expected) in cases {
            assert_eq!(commit_message("shop", &kind, None), expected);
        }
    }

    #[test]
    fn equal_files_have_no_diff() {
        assert_eq!(unified_diff("a\nb\n", "a\nb\n", "f"), None);
    }

    #[test]
    fn a_diff_shows_each_change_with_three_lines_of_context() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new: String = (1..=20)
            .map(|n| match n {
                2 => "two\n".to_owned(),
                18 => "18\neighteen and a half\n".to_owned(),
                n => format!("{n}\n"),
            })
            .collect();
        let diff = unified_diff(&old, &new, "docker-compose-shop.yml").unwrap();
        assert_eq!(
            diff,
            "--- a/docker-compose-shop.yml\n+++ b/docker-compose-shop.yml\n\
             @@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n\
             @@ -16,5 +16,6 @@\n 16\n 17\n 18\n+eighteen and a half\n 19\n 20\n"
        );
    }

    #[test]
    fn near_changes_share_a_hunk_and_whole_files_can_change() {
        let diff = unified_diff("a\nb\nc\nd\n", "a\nB\nc\nD\n", "f").unwrap();
        assert_eq!(
            diff,
            "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n-d\n+D\n"
        );
        let diff = unified_diff("", "x\n", "f").unwrap();
        assert_eq!(diff, "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n");
        let diff = unified_diff("x\ny\n", "", "f").unwrap();
        assert_eq!(diff, "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-x\n-y\n");
        assert!(unified_diff("x", "x\n", "f").is_some());
    }

    #[test]
    fn directives_in_the_users_message_become_plain_text() {
        let kind = StackChangeKind::Delete;
        let message = commit_message("shop", &kind, Some("cleanup [skip voc] and [deploy-all]"));
        assert_eq!(
            message,
            "voc: delete stack shop\n\ncleanup (skip voc) and (deploy-all)\n"
        );
        assert!(crate::reconcile::directives::Directives::parse(&message).is_empty());
        // Brackets that are no directive stay.
        let message = commit_message("shop", &kind, Some("[WIP] tidy"));
        assert_eq!(message, "voc: delete stack shop\n\n[WIP] tidy\n");
    }
}
