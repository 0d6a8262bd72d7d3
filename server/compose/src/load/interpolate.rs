//! Interpolation of a whole document: every string value (never a key) is
//! substituted (see [`template`](super::template)), then the values the CLI
//! casts are turned into integers, numbers or booleans.
//!
//! Like the CLI, a cast happens only when substitution changed the string:
//! `replicas: "3"` stays a string (and fails validation), while
//! `replicas: "${N}"` with `N=3` becomes the integer 3.

use super::Variables;
use super::field_path::FieldPath;
use super::report::Report;
use super::template::{TemplateError, substitute};
use super::tree::{Node, Value};

/// How a substituted string is cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    Int,
    Float,
    Bool,
}

/// The CLI's cast table (`interpolateTypeCastMapping`).
const CASTS: &[(&str, Cast)] = &[
    ("services.*.configs.[].mode", Cast::Int),
    ("services.*.secrets.[].mode", Cast::Int),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.ports.[].published", Cast::Int),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.volumes.[].read_only", Cast::Bool),
    ("services.*.volumes.[].volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

/// Substitutes every string of `root` in place, reporting errors and unset
/// variables.
pub(crate) fn interpolate(root: &mut Node, variables: &Variables, report: &mut Report) {
    walk(root, &FieldPath::root(), variables, report);
}

fn walk(node: &mut Node, path: &FieldPath, variables: &Variables, report: &mut Report) {
    let line = node.line;
    match &mut node.value {
        Value::Str(text) => {
            let substituted = match substitute(text, variables) {
                Ok(substituted) => substituted,
                Err(TemplateError::Invalid) => {
                    let message = format!(
                        "has an invalid interpolation format: {text:?}; you may need to escape any $ with another $"
                    );
                    report.problem(path, line, message);
                    return;
                }
                Err(TemplateError::Required { name, message }) => {
                    report.problem(
                        path,
                        line,
                        format!("needs variable {name}, which is missing a value: {message}"),
                    );
                    return;
                }
            };
            for name in &substituted.unset {
                report.warning(
                    path,
                    line,
                    format!("the \"{name}\" variable is not set; defaulting to a blank string"),
                );
            }
            if substituted.text == *text {
                return;
            }
            match CASTS.iter().find(|(pattern, _)| path.matches(pattern)) {
                None => *text = substituted.text,
                Some((_, cast)) => match apply_cast(*cast, &substituted.text) {
                    Some(value) => node.value = value,
                    None => {
                        let wanted = match cast {
                            Cast::Int => "an integer",
                            Cast::Float => "a number",
                            Cast::Bool => "a boolean (true, false, yes, no, on, off, y, n)",
                        };
                        let message = format!(
                            "must be {wanted}, but it is {:?} after interpolation",
                            substituted.text
                        );
                        report.problem(path, line, message);
                        *text = substituted.text;
                    }
                },
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), variables, report);
            }
        }
        Value::Map(entries) => {
            for entry in entries {
                walk(&mut entry.value, &path.key(&entry.key), variables, report);
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

fn apply_cast(cast: Cast, text: &str) -> Option<Value> {
    match cast {
        Cast::Int => go_atoi(text).map(Value::Int),
        Cast::Float => go_parse_float(text).map(Value::Float),
        Cast::Bool => match text.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "on" => Some(Value::Bool(true)),
            "n" | "no" | "false" | "off" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, within 64 bits.
fn go_atoi(text: &str) -> Option<i128> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.strip_prefix('+').unwrap_or(text).parse().ok()?;
    Some(value.into())
}

/// Go's `strconv.ParseFloat` for the forms people write (decimal,
/// exponent, `inf`, `nan`).
fn go_parse_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    if unsigned.is_empty()
        || !unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::tree::parse_document;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn run(text: &str, variables: &Variables) -> (Node, Report) {
        let mut root = parse_document(text).unwrap().unwrap();
        let mut report = Report::new(Path::new("c.yml"));
        interpolate(&mut root, variables, &mut report);
        (root, report)
    }

    fn at<'a>(root: &'a Node, path: &[&str]) -> &'a Value {
        let mut node = root;
        for key in path {
            node = match key.parse::<usize>() {
                Ok(i) => &node.as_seq().unwrap()[i],
                Err(_) => node.get(key).unwrap(),
            };
        }
        &node.value
    }

    #[test]
    fn values_are_substituted_but_keys_are_not() {
        let (root, report) = run(
            "services:\n  web:\n    image: \"nginx:$TAG\"\n    labels:\n      $KEY: \"${TAG}\"\n    command: [\"$TAG\", 5]\n",
            &vars(&[("TAG", "1.2"), ("KEY", "k")]),
        );
        assert!(report.problems.is_empty());
        assert_eq!(
            at(&root, &["services", "web", "image"]),
            &Value::Str("nginx:1.2".into())
        );
        assert_eq!(
            at(&root, &["services", "web", "labels", "$KEY"]),
            &Value::Str("1.2".into())
        );
        assert_eq!(
            at(&root, &["services", "web", "command", "0"]),
            &Value::Str("1.2".into())
        );
        assert_eq!(
            at(&root, &["services", "web", "command", "1"]),
            &Value::Int(5)
        );
    }

    #[test]
    fn cast_paths_become_typed_only_when_substitution_changed_them() {
        let variables = vars(&[
            ("N", "3"),
            ("RO", "Yes"),
            ("R", "0.5"),
            ("P", "8080"),
            ("OFF", "off"),
        ]);
        let (root, report) = run(
            concat!(
                "services:\n  web:\n",
                "    deploy:\n      replicas: \"${N}\"\n      update_config: {max_failure_ratio: \"$R\"}\n",
                "    read_only: \"$RO\"\n    tty: \"true\"\n",
                "    ports: [{target: \"$P\", published: \"$P\"}]\n",
                "    ulimits: {nofile: {soft: \"$N\", hard: \"$N\"}, nproc: \"$N\"}\n",
                "    environment: {A: \"$N\"}\n",
                "networks:\n  n:\n    external: \"$OFF\"\n",
            ),
            &variables,
        );
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let web = ["services", "web"];
        let get = |rest: &[&str]| at(&root, &[&web[..], rest].concat()).clone();
        assert_eq!(get(&["deploy", "replicas"]), Value::Int(3));
        assert_eq!(
            get(&["deploy", "update_config", "max_failure_ratio"]),
            Value::Float(0.5)
        );
        assert_eq!(get(&["read_only"]), Value::Bool(true));
        assert_eq!(get(&["tty"]), Value::Str("true".into()));
        assert_eq!(get(&["ports", "0", "target"]), Value::Int(8080));
        assert_eq!(get(&["ports", "0", "published"]), Value::Int(8080));
        assert_eq!(get(&["ulimits", "nofile", "soft"]), Value::Int(3));
        assert_eq!(get(&["ulimits", "nproc"]), Value::Int(3));
        assert_eq!(get(&["environment", "A"]), Value::Str("3".into()));
        assert_eq!(
            at(&root, &["networks", "n", "external"]),
            &Value::Bool(false)
        );
    }

    #[test]
    fn errors_and_warnings_name_the_path_and_line() {
        let (_, report) = run(
            concat!(
                "services:\n  web:\n",
                "    image: \"x$\"\n",
                "    command: \"${NEED:?set NEED}\"\n",
                "    deploy:\n      replicas: \"$NOPE\"\n",
                "    hostname: \"$UNSET\"\n",
            ),
            &vars(&[("NOPE", "x")]),
        );
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "c.yml:3: services.web.image has an invalid interpolation format: \"x$\"; you may need to escape any $ with another $",
                "c.yml:4: services.web.command needs variable NEED, which is missing a value: set NEED",
                "c.yml:6: services.web.deploy.replicas must be an integer, but it is \"x\" after interpolation",
            ]
        );
        let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "c.yml:7: services.web.hostname: the \"UNSET\" variable is not set; defaulting to a blank string"
            ]
        );
    }

    #[test]
    fn go_number_parsing_matches_strconv() {
        let ints: &[(&str, Option<i128>)] = &[
            ("3", Some(3)),
            ("+3", Some(3)),
            ("-3", Some(-3)),
            ("03", Some(3)),
            ("0x3", None),
            ("3.0", None),
            ("", None),
            (" 3", None),
            ("9223372036854775808", None),
        ];
        for (text, want) in ints {
            assert_eq!(go_atoi(text), *want, "{text}");
        }
        let floats: &[(&str, Option<f64>)] = &[
            ("0.5", Some(0.5)),
            ("1e-1", Some(0.1)),
            ("+1", Some(1.0)),
            (".5", Some(0.5)),
            ("Inf", Some(f64::INFINITY)),
            ("x", None),
            ("", None),
        ];
        for (text, want) in floats {
            assert_eq!(go_parse_float(text), *want, "{text}");
        }
    }
}
