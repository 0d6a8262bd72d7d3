//! Values into YAML that cannot change the document's structure.
//!
//! Tera escapes only HTML, and only strings: an array prints as
//! `[a, b]` with its strings raw, so `{{ options.domain | split(pat=".") }}`
//! would reach the output unescaped. So instead of Tera's escape function,
//! voc rewrites the parsed template ([`secure_template`]): every `{{ ... }}`
//! gets a last filter, [`YamlValue`], which turns whatever the expression
//! evaluated to into one YAML node:
//!
//! - a string becomes a double-quoted scalar, written as a JSON string
//!   literal (valid YAML) in which every character YAML would not keep
//!   as-is (control characters, DEL, C1 controls, NEL, U+2028/2029, BOM,
//!   U+FFFE/FFFF) is a `\u` escape; and every `$` is doubled, so Compose
//!   interpolation gives back the user's `$` instead of reading a variable;
//! - a number or a boolean is written bare, `null` as `null`;
//! - a list or an object becomes a JSON flow collection, its strings
//!   written as above.
//!
//! What a template cannot take back: the output of `{{ ... }}` is a whole
//! YAML value; it must stand where a value starts (after `: `, `- `, `[`,
//! `,` or at a line start) and end where a value ends. `redis:{{ v }}` is
//! refused with a hint to write `{{ "redis:" ~ v }}`; the check
//! ([`check_placement`]) looks at the template text next to each
//! `{{ ... }}`.
//!
//! Exceptions, on purpose:
//! - `{{ x | safe }}` prints `x` raw. The template is repo content, as
//!   trusted as a hand-written Compose file, and `safe` is its author's
//!   explicit choice (for a value an `enum` or a `pattern` already
//!   constrains). An option value under `safe` can change the structure.
//! - Macro calls print their body, whose own `{{ ... }}` are secured.
//! - `{% filter ... %}` sections filter the rendered text (secured values
//!   included) and print the result: same trust as `safe`.
//!
//! Secrets: a `writeOnly` option is, in the template context, a marker
//! (`NUL voc-secret:VARIABLE NUL`). Option strings cannot contain NUL
//! (validation refuses it), so a NUL reaching [`YamlValue`] comes from a
//! marker; the marker is written as the `${VARIABLE}` reference itself,
//! inside the quoted string (`{{ "postgres://app:" ~ options.password }}`
//! works too).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::Value;
use tera::ast::{Expr, ExprVal, FunctionCall, Node};

/// The name the filter is registered under.
pub const FILTER_NAME: &str = "__voc_yaml_value";

/// The start of a secret marker, after its NUL.
const MARKER_PREFIX: &str = "voc-secret:";

/// The value that stands for the secret carried by `variable` in the
/// template context.
pub fn secret_marker(variable: &str) -> String {
    format!("\0{MARKER_PREFIX}{variable}\0")
}

/// The filter that writes any value as one YAML node.
pub struct YamlValue {
    /// The variables of the stack's secrets: the markers it accepts.
    pub secrets: BTreeSet<String>,
}

impl tera::Filter for YamlValue {
    fn filter(&self, value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
        let mut out = String::new();
        write_node(value, &self.secrets, &mut out).map_err(tera::Error::msg)?;
        Ok(Value::String(out))
    }

    /// Its output is final: Tera must not escape it again.
    fn is_safe(&self) -> bool {
        true
    }
}

/// Writes `value` as one YAML node.
fn write_node(value: &Value, secrets: &BTreeSet<String>, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, secrets, out)?,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_node(item, secrets, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, secrets, out)?;
                out.push_str(": ");
                write_node(item, secrets, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Writes `s` as a double-quoted scalar that YAML reads back as `s` and
/// Compose interpolates back to `s` (secret markers become references).
fn write_string(s: &str, secrets: &BTreeSet<String>, out: &mut String) -> Result<(), String> {
    // Markers come in pairs of NUL: an odd count is a NUL of its own.
    if s.split('\0').count().is_multiple_of(2) {
        return Err("a value contains a NUL character".to_owned());
    }
    out.push('"');
    // Splitting on NUL alternates text and marker bodies.
    for (i, part) in s.split('\0').enumerate() {
        if i % 2 == 1 {
            let variable = part
                .strip_prefix(MARKER_PREFIX)
                .filter(|variable| secrets.contains(*variable))
                .ok_or("a value contains a NUL character")?;
            let _ = write!(out, "${{{variable}}}");
            continue;
        }
        for c in part.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '$' => out.push_str("$$"),
                c if is_yaml_printable(c) => out.push(c),
                // Outside the BMP everything YAML forbids is handled
                // above, so every escape here fits in four digits.
                c => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
            }
        }
    }
    out.push('"');
    Ok(())
}

/// True if YAML keeps `c` as-is inside a double-quoted scalar: printable
/// (YAML 1.1 `c-printable`), not a line break (NEL, LS and PS are line
/// breaks in YAML 1.1 and would be folded), not a BOM.
fn is_yaml_printable(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{7e}'
        | '\u{a0}'..='\u{2027}'
        | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}'
        | '\u{10000}'..='\u{10ffff}')
}

/// Appends the [`YamlValue`] filter to every `{{ ... }}` in `nodes` (and
/// the bodies they nest), except the exceptions of the module doc.
pub fn secure_nodes(nodes: &mut [Node]) {
    for node in nodes {
        match node {
            Node::VariableBlock(_, expr) => secure_expr(expr),
            Node::MacroDefinition(_, definition, _) => secure_nodes(&mut definition.body),
            Node::FilterSection(_, section, _) => secure_nodes(&mut section.body),
            Node::Block(_, block, _) => secure_nodes(&mut block.body),
            Node::Forloop(_, forloop, _) => {
                secure_nodes(&mut forloop.body);
                if let Some(empty) = &mut forloop.empty_body {
                    secure_nodes(empty);
                }
            }
            Node::If(condition, _) => {
                for (_, _, body) in &mut condition.conditions {
                    secure_nodes(body);
                }
                if let Some((_, body)) = &mut condition.otherwise {
                    secure_nodes(body);
                }
            }
            Node::Super
            | Node::Text(_)
            | Node::Extends(..)
            | Node::Include(..)
            | Node::ImportMacro(..)
            | Node::Set(..)
            | Node::Raw(..)
            | Node::Break(_)
            | Node::Continue(_)
            | Node::Comment(..) => {}
        }
    }
}

/// Secures one printed expression.
fn secure_expr(expr: &mut Expr) {
    let is_macro = matches!(expr.val, ExprVal::MacroCall(_));
    // `not x` is a boolean; a filter would run before the `not`, on `x`.
    if expr.is_marked_safe() || is_macro || expr.negated {
        return;
    }
    expr.filters.push(FunctionCall {
        name: FILTER_NAME.to_owned(),
        args: HashMap::new(),
    });
}

/// Secures a whole parsed template: its body, its macros and its blocks
/// (Tera keeps copies of those beside the body).
pub fn secure_template(template: &mut tera::Template) {
    secure_nodes(&mut template.ast);
    for definition in template.macros.values_mut() {
        secure_nodes(&mut definition.body);
    }
    for block in template.blocks.values_mut() {
        secure_nodes(&mut block.body);
    }
    for chain in template.blocks_definitions.values_mut() {
        for (_, block) in chain {
            secure_nodes(&mut block.body);
        }
    }
}

/// A `{{ ... }}` that is not a whole YAML value, in the template text:
/// its 1-based line and the text of the tag. Tags marked `safe` are
/// skipped (the author took over), as are `{{` inside `{% raw %}` and
/// comments.
pub fn check_placement(template: &str) -> Option<(usize, String)> {
    let mut rest = template;
    let mut offset = 0;
    let mut in_raw = false;
    while let Some(start) = find_tag(rest) {
        let (tag_start, open) = start;
        let absolute = offset + tag_start;
        let after_open = &template[absolute + open.len()..];
        let close = match open {
            "{#" => "#}",
            "{%" => "%}",
            _ => "}}",
        };
        // An unclosed tag: Tera's parser reports it.
        let length = after_open.find(close)?;
        let inner = &after_open[..length];
        let end = absolute + open.len() + length + close.len();
        match open {
            "{%" => {
                let word = inner.trim_matches(|c: char| c == '-' || c.is_whitespace());
                if word == "raw" {
                    in_raw = true;
                } else if word == "endraw" {
                    in_raw = false;
                }
            }
            "{{" if !in_raw && !is_safe_tag(inner) => {
                let trims_left = inner.starts_with('-');
                let trims_right = inner.ends_with('-');
                let before = &template[..absolute];
                let before = if trims_left {
                    before.trim_end()
                } else {
                    before
                };
                let after = &template[end..];
                let after = if trims_right {
                    after.trim_start()
                } else {
                    after
                };
                // After another tag the text before that tag decides; it
                // is not followed here.
                let starts_value = before.ends_with("%}")
                    || before.ends_with("#}")
                    || before
                        .chars()
                        .next_back()
                        .is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '[' | '{' | ','));
                let ends_value =
                    after.chars().next().is_none_or(|c| {
                        matches!(c, ' ' | '\t' | '\n' | '\r' | ',' | ']' | '}' | ':')
                    }) || after.starts_with("{%")
                        || after.starts_with("{#");
                if !starts_value || !ends_value {
                    let line = template[..absolute].matches('\n').count() + 1;
                    return Some((line, template[absolute..end].to_owned()));
                }
            }
            _ => {}
        }
        offset = end;
        rest = &template[end..];
    }
    None
}

/// The next `{{`, `{%` or `{#` in `text`: its position and which.
fn find_tag(text: &str) -> Option<(usize, &'static str)> {
    ["{{", "{%", "{#"]
        .into_iter()
        .filter_map(|open| text.find(open).map(|at| (at, open)))
        .min_by_key(|(at, _)| *at)
}

/// True if the expression inside `{{ ... }}` ends with the `safe` filter.
fn is_safe_tag(inner: &str) -> bool {
    let inner = inner.trim_matches(|c: char| c == '-' || c.is_whitespace());
    inner
        .rsplit_once('|')
        .is_some_and(|(_, last)| last.trim() == "safe")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(value: Value) -> String {
        let mut out = String::new();
        let secrets = BTreeSet::from(["VOC_SECRET_PW".to_owned()]);
        write_node(&value, &secrets, &mut out).unwrap();
        out
    }

    #[test]
    fn values_are_written_as_one_yaml_node() {
        let cases = [
            (json!("plain"), r#""plain""#),
            (json!("a\nb: c"), r#""a\nb: c""#),
            (json!("say \"hi\" 'x'"), r#""say \"hi\" 'x'""#),
            (json!("back\\slash"), r#""back\\slash""#),
            (json!("${VAR} $$ $"), r#""$${VAR} $$$$ $$""#),
            (json!("tab\there\r"), r#""tab\there\r""#),
            (json!("bell\u{7}del\u{7f}"), r#""bell\u0007del\u007f""#),
            (
                json!("nel\u{85}ls\u{2028}ps\u{2029}bom\u{feff}"),
                r#""nel\u0085ls\u2028ps\u2029bom\ufeff""#,
            ),
            (json!("é 😀 中"), "\"é 😀 中\""),
            (json!(42), "42"),
            (json!(-1.5), "-1.5"),
            (json!(true), "true"),
            (json!(null), "null"),
            (json!(["a: b", 1, ["- c"]]), r#"["a: b", 1, ["- c"]]"#),
            (json!({"k: x": "v\n"}), r#"{"k: x": "v\n"}"#),
            (
                json!(format!("pw={}!", secret_marker("VOC_SECRET_PW"))),
                r#""pw=${VOC_SECRET_PW}!""#,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(node(value.clone()), expected, "{value}");
        }
    }

    #[test]
    fn nul_that_is_not_a_known_marker_is_refused() {
        let secrets = BTreeSet::from(["VOC_SECRET_PW".to_owned()]);
        for bad in [
            "a\0b",
            "\0voc-secret:VOC_SECRET_OTHER\0",
            "\0voc-secret:VOC_SECRET_PW",
        ] {
            let mut out = String::new();
            assert!(
                write_node(&json!(bad), &secrets, &mut out).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tags_that_are_not_whole_values_are_found() {
        let cases: &[(&str, Option<(usize, &str)>)] = &[
            ("a: {{ x }}\n", None),
            ("- {{ x }}\n", None),
            ("a: [{{ x }}, {{ y }}]\n", None),
            ("a: {{ x }} # comment\n", None),
            ("{{ k }}: v\n", None),
            ("{{ k }}\n", None),
            ("a: {{ x }}{% if y %}\n{% endif %}", None),
            ("a: {{- x }}\n", Some((1, "{{- x }}"))),
            ("a: {% if y %}{{ x }}{% endif %}\n", None),
            ("a: {{ x | safe }}\n", None),
            ("a:\n  b: redis:{{ v }}\n", Some((2, "{{ v }}"))),
            ("a: \"{{ v }}\"\n", Some((1, "{{ v }}"))),
            ("a: {{ v }}x\n", Some((1, "{{ v }}"))),
            ("{% raw %}a: b{{ v }}{% endraw %}\n", None),
            ("{# b{{ v }} #}\na: 1\n", None),
        ];
        for (template, expected) in cases {
            let found = check_placement(template);
            assert_eq!(
                found.as_ref().map(|(l, t)| (*l, t.as_str())),
                *expected,
                "{template}"
            );
        }
    }
}
