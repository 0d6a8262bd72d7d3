//! The JSON conf files (`stack-<name>.json`, `definition.json`,
//! `image-<name>.json`) read so that every problem gets its line.
//!
//! serde_json gives a line only for the first error of a `from_str`, and
//! none for problems found after parsing (a missing dependency, a bad
//! default in a schema). So a [`JsonDocument`] keeps, beside the parsed
//! value, the line of every member and element (by JSON pointer), and
//! [`deserialize_fields`] deserializes an object one field at a time, so
//! that every unknown field and every field of the wrong type is reported,
//! not only the first.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::model::ConfProblem;
use super::suggest::did_you_mean;

/// A parsed JSON file and where each of its values is.
#[derive(Debug, Clone)]
pub struct JsonDocument {
    /// The parsed value.
    pub value: Value,
    /// Line of each member (its key) and element, by JSON pointer.
    lines: HashMap<String, usize>,
    /// Members whose key appears more than once in their object (serde_json
    /// keeps the last one silently): pointer, and the line of each repeat.
    pub duplicates: Vec<(String, usize)>,
}

/// Why a file is not JSON at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSyntaxError {
    /// 1-based line.
    pub line: usize,
    /// serde_json's message, without its position.
    pub message: String,
}

impl JsonDocument {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<JsonDocument, JsonSyntaxError> {
        let value: Value = serde_json::from_str(text).map_err(|error| JsonSyntaxError {
            line: error.line().max(1),
            message: without_position(&error),
        })?;
        let mut scanner = Scanner {
            text: text.as_bytes(),
            at: 0,
            line: 1,
            lines: HashMap::new(),
            duplicates: Vec::new(),
        };
        scanner.skip_whitespace();
        scanner.lines.insert(String::new(), scanner.line);
        scanner.value("");
        Ok(JsonDocument {
            value,
            lines: scanner.lines,
            duplicates: scanner.duplicates,
        })
    }

    /// The line of the value at `pointer` (`/dependsOn/1`), or of its
    /// nearest ancestor that has one.
    pub fn line(&self, pointer: &str) -> Option<usize> {
        let mut pointer = pointer;
        loop {
            if let Some(line) = self.lines.get(pointer) {
                return Some(*line);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// Reports the keys that appear twice in one object (the last one
    /// wins, which is rarely what was meant).
    pub fn duplicate_problems(&self, file: &str) -> Vec<ConfProblem> {
        self.duplicates
            .iter()
            .map(|(pointer, line)| {
                ConfProblem::new(
                    file,
                    format!("field {} appears more than once", display_pointer(pointer)),
                )
                .at_line(Some(*line))
                .with_hint("keep only one of them: JSON would silently use the last")
            })
            .collect()
    }
}

/// `pointer` extended by one key or index, escaped as RFC 6901 says.
pub fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// A pointer as people read it: `"options.properties.replicas"`.
pub fn display_pointer(pointer: &str) -> String {
    let path: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|part| part.replace("~1", "/").replace("~0", "~"))
        .collect();
    format!("\"{}\"", path.join("."))
}

/// serde_json's message without its ` at line L column C` suffix.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// The value deserialized from what was valid, and every problem.
#[derive(Debug)]
pub struct Fields<T> {
    /// `T` made of the valid fields (the others take their skeleton
    /// value), `None` when even that fails.
    pub value: Option<T>,
    /// Every problem, with its line.
    pub problems: Vec<ConfProblem>,
}

/// Deserializes the object `document` into `T` one field at a time, so
/// that every unknown field (with a "did you mean") and every field of the
/// wrong type is reported with its line.
///
/// `skeleton` holds a valid value for each required field of `T`: each
/// field is tried on its own, over the skeleton. `what` describes the
/// document for the message when it is not an object
/// (`a JSON object of stack settings`).
pub fn deserialize_fields<T: DeserializeOwned>(
    document: &JsonDocument,
    file: &str,
    skeleton: &Map<String, Value>,
    what: &str,
) -> Fields<T> {
    let Value::Object(object) = &document.value else {
        return Fields {
            value: None,
            problems: vec![
                ConfProblem::new(
                    file,
                    format!("must be {what}, not {}", kind_of(&document.value)),
                )
                .at_line(document.line("")),
            ],
        };
    };
    let mut problems = document.duplicate_problems(file);
    // The fields that deserialize; a known field of the wrong type takes
    // its skeleton value, so that it is not also reported missing.
    let mut valid = Map::new();
    for (key, value) in object {
        let mut trial = skeleton.clone();
        trial.insert(key.clone(), value.clone());
        let line = document.line(&child("", key));
        match serde_json::from_value::<T>(Value::Object(trial)) {
            Ok(_) => {
                valid.insert(key.clone(), value.clone());
            }
            Err(error) => {
                let message = error.to_string();
                let is_unknown = message.starts_with("unknown field");
                if let (false, Some(stand_in)) = (is_unknown, skeleton.get(key)) {
                    valid.insert(key.clone(), stand_in.clone());
                }
                let problem = if is_unknown {
                    let known = expected_names(&message);
                    let hint = did_you_mean(key, known.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("the known fields are {}", quoted_list(&known)));
                    ConfProblem::new(file, format!("unknown field \"{key}\"")).with_hint(hint)
                } else {
                    let hint = message
                        .starts_with("unknown variant")
                        .then(|| unknown_variant(&message))
                        .flatten()
                        .and_then(|(variant, known)| {
                            did_you_mean(&variant, known.iter().map(String::as_str))
                        });
                    let problem = ConfProblem::new(file, format!("field \"{key}\": {message}"));
                    match hint {
                        Some(hint) => problem.with_hint(hint),
                        None => problem,
                    }
                };
                problems.push(problem.at_line(line));
            }
        }
    }
    let value = match serde_json::from_value::<T>(Value::Object(valid)) {
        Ok(value) => Some(value),
        Err(error) => {
            let message = error.to_string();
            let problem = match message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.strip_suffix('`'))
            {
                Some(field) => ConfProblem::new(file, format!("field \"{field}\" is missing"))
                    .with_hint(format!("add \"{field}\"")),
                None => ConfProblem::new(file, message),
            };
            problems.push(problem.at_line(document.line("")));
            None
        }
    };
    Fields { value, problems }
}

/// The names serde lists after "expected" in an "unknown field" or
/// "unknown variant" message (`` expected one of `a`, `b` ``).
pub fn expected_names(message: &str) -> Vec<String> {
    let Some((_, expected)) = message.split_once("expected") else {
        return Vec::new();
    };
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The variant and the known ones, from serde's "unknown variant" message.
fn unknown_variant(message: &str) -> Option<(String, Vec<String>)> {
    let variant = message.split('`').nth(1)?.to_owned();
    Some((variant, expected_names(message)))
}

/// `"a", "b" and "c"`.
pub fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// "a string", "an integer"...: what a value is, for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Walks JSON text that serde_json has already accepted, recording the
/// line of every member and element. It never fails: on anything
/// unexpected it stops, and the lines found so far are still right.
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
    lines: HashMap<String, usize>,
    duplicates: Vec<(String, usize)>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.at += 1;
        }
    }

    /// The value starting at the cursor (after whitespace).
    fn value(&mut self, pointer: &str) {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(pointer),
            Some(b'[') => self.array(pointer),
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                // A number, `true`, `false` or `null`.
                while let Some(byte) = self.peek() {
                    if matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.at += 1;
                }
            }
            None => {}
        }
    }

    fn object(&mut self, pointer: &str) {
        self.at += 1;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') => {
                    self.at += 1;
                    return;
                }
                _ => return,
            }
            let line = self.line;
            let Some(key) = self.string() else { return };
            let member = child(pointer, &key);
            if self.lines.contains_key(&member) {
                self.duplicates.push((member.clone(), line));
            } else {
                self.lines.insert(member.clone(), line);
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return;
            }
            self.at += 1;
            self.value(&member);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return;
                }
                _ => return,
            }
        }
    }

    fn array(&mut self, pointer: &str) {
        self.at += 1;
        let mut index = 0usize;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b']') => {
                    self.at += 1;
                    return;
                }
                None => return,
                Some(_) => {}
            }
            let element = child(pointer, &index.to_string());
            self.lines.insert(element.clone(), self.line);
            self.value(&element);
            index += 1;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return;
                }
                _ => return,
            }
        }
    }

    /// A string at the cursor, decoded (escapes included).
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.at += 1;
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'\\' => self.at += 1,
                b'"' => {
                    let raw = std::str::from_utf8(self.text.get(start..self.at)?).ok()?;
                    return serde_json::from_str(raw).ok();
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    const TEXT: &str = r#"{
  "enabled": true,
  "dependsOn": [
    "db",
    "cache"
  ],
  "variables": {"A": "1", "B/C": "2",
    "D": {"E": [1, {"F": null}]}
  },
  "esc\"aped": "x\ny"
}"#;

    #[test]
    fn every_member_and_element_has_its_line() {
        let document = JsonDocument::parse(TEXT).unwrap();
        let cases = [
            ("", Some(1)),
            ("/enabled", Some(2)),
            ("/dependsOn", Some(3)),
            ("/dependsOn/0", Some(4)),
            ("/dependsOn/1", Some(5)),
            ("/variables", Some(7)),
            ("/variables/A", Some(7)),
            ("/variables/B~1C", Some(7)),
            ("/variables/D", Some(8)),
            ("/variables/D/E/1/F", Some(8)),
            ("/esc\"aped", Some(10)),
            // Unknown pointers fall back to their nearest ancestor.
            ("/dependsOn/7", Some(3)),
            ("/nothing/here", Some(1)),
        ];
        for (pointer, line) in cases {
            assert_eq!(document.line(pointer), line, "{pointer}");
        }
        assert!(document.duplicates.is_empty());
    }

    #[test]
    fn repeated_keys_are_found() {
        let document =
            JsonDocument::parse("{\"a\": 1,\n\"b\": {\"c\": 1, \"c\": 2},\n\"a\": 3}").unwrap();
        assert_eq!(
            document.duplicates,
            [("/b/c".to_owned(), 2), ("/a".to_owned(), 3)]
        );
        let problems = document.duplicate_problems("x.json");
        assert_eq!(
            problems[0].to_string(),
            "x.json:2: field \"b.c\" appears more than once (keep only one of them: JSON would silently use the last)"
        );
    }

    #[test]
    fn syntax_errors_have_their_line_and_no_position_in_the_message() {
        let error = JsonDocument::parse("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(error.message, "expected `:`");
        let error = JsonDocument::parse("").unwrap_err();
        assert_eq!(error.line, 1);
    }

    #[test]
    fn pointers_are_escaped_and_displayed() {
        assert_eq!(child("", "a/b~c"), "/a~1b~0c");
        assert_eq!(display_pointer("/options/a~1b~0c/0"), "\"options.a/b~c.0\"");
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Sample {
        title: String,
        #[serde(default)]
        count: u32,
        #[serde(default)]
        mode: Mode,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        #[default]
        Always,
        Never,
    }

    fn sample(text: &str) -> Fields<Sample> {
        let document = JsonDocument::parse(text).unwrap();
        let skeleton: Map<String, Value> = serde_json::from_str(r#"{"title": ""}"#).unwrap();
        deserialize_fields(&document, "s.json", &skeleton, "a JSON object")
    }

    fn lines(fields: &Fields<Sample>) -> Vec<String> {
        fields.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_valid_object_deserializes() {
        let fields = sample(r#"{"title": "t", "count": 2, "mode": "never"}"#);
        assert_eq!(
            fields.value,
            Some(Sample {
                title: "t".into(),
                count: 2,
                mode: Mode::Never
            })
        );
        assert!(fields.problems.is_empty());
    }

    #[test]
    fn every_bad_field_is_reported_with_its_line() {
        let cases: &[(&str, &[&str])] = &[
            (
                "{\n\"title\": \"t\",\n\"cuont\": 1,\n\"count\": \"x\",\n\"zzz\": 0\n}",
                &[
                    "s.json:3: unknown field \"cuont\" (did you mean \"count\"?)",
                    "s.json:4: field \"count\": invalid type: string \"x\", expected u32",
                    "s.json:5: unknown field \"zzz\" (the known fields are \"title\", \"count\" and \"mode\")",
                ],
            ),
            (
                "{\"title\": \"t\",\n\"mode\": \"nevr\"}",
                &[
                    "s.json:2: field \"mode\": unknown variant `nevr`, expected `always` or `never` (did you mean \"never\"?)",
                ],
            ),
            (
                "{\n\"count\": 1}",
                &["s.json:1: field \"title\" is missing (add \"title\")"],
            ),
            ("\n[1]", &["s.json:2: must be a JSON object, not an array"]),
            (
                "{\"title\": 5}",
                &["s.json:1: field \"title\": invalid type: integer `5`, expected a string"],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(lines(&sample(text)), *expected, "{text}");
        }
    }

    #[test]
    fn the_valid_fields_still_make_a_value() {
        let fields = sample(r#"{"title": "t", "count": -1, "typo": 1}"#);
        assert_eq!(
            fields.value,
            Some(Sample {
                title: "t".into(),
                count: 0,
                mode: Mode::Always
            })
        );
        // A required field of the wrong type is not reported missing too.
        let fields = sample(r#"{"title": 5}"#);
        assert_eq!(fields.problems.len(), 1);
    }

    #[test]
    fn serde_lists_of_names_are_read() {
        let cases: &[(&str, &[&str])] = &[
            ("unknown field `x`, expected one of `a`, `b`", &["a", "b"]),
            ("unknown field `x`, expected `a`", &["a"]),
            ("unknown field `x`, there are no fields", &[]),
        ];
        for (message, names) in cases {
            assert_eq!(expected_names(message), *names);
        }
        assert_eq!(quoted_list(&["a".into()]), "\"a\"");
        assert_eq!(quoted_list(&[]), "none");
    }

    #[test]
    fn values_are_described_by_their_kind() {
        let cases = [
            (serde_json::json!(null), "null"),
            (serde_json::json!(true), "a boolean"),
            (serde_json::json!(1), "an integer"),
            (serde_json::json!(-1), "an integer"),
            (serde_json::json!(1.5), "a number"),
            (serde_json::json!("s"), "a string"),
            (serde_json::json!([]), "an array"),
            (serde_json::json!({}), "an object"),
        ];
        for (value, kind) in cases {
            assert_eq!(kind_of(&value), kind);
        }
    }
}
