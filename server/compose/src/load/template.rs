//! `${VAR}` substitution in one string, with the docker CLI's exact rules.
//!
//! The CLI matches `$` followed by `$` (an escaped dollar), by a name with
//! an optional modifier (`$NAME`, `$NAME-default`...), or by the same in
//! braces (`${NAME:-default}`); names are `[_A-Za-z][_A-Za-z0-9]*`. Any
//! other `$` is an invalid template. The modifier runs to the first `}`
//! even without braces, so `$TAG-alpine` means "TAG, or `alpine` if TAG is
//! unset", not "TAG followed by -alpine". The substitution is tried as
//! `:-` (default if unset or empty), `-` (default if unset), `:?` (error if
//! unset or empty), `?` (error if unset), each splitting at the first
//! occurrence of its separator anywhere in the expression, in that order:
//! `${A:?x-y}` is read as "the variable `A:?x`, default `y`". Those quirks
//! are reproduced on purpose, so a file means the same to voc and the CLI.
//!
//! One deliberate difference: the CLI loses an error when a later
//! expression in the same string succeeds (`${A:?} $B` gives no error);
//! voc reports it.

use super::Variables;

/// Why a string cannot be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateError {
    /// A `$` that starts no valid expression.
    Invalid,
    /// `${NAME?message}` or `${NAME:?message}` with NAME unset (or empty).
    Required { name: String, message: String },
}

/// The result of substituting one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    /// The text after substitution.
    pub text: String,
    /// Variables used without a default that are not set (they became "").
    pub unset: Vec<String>,
}

/// Substitutes every expression of `template` from `variables`.
pub(crate) fn substitute(
    template: &str,
    variables: &Variables,
) -> Result<Substituted, TemplateError> {
    let mut text = String::with_capacity(template.len());
    let mut unset = Vec::new();
    let mut error = None;
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (expression, consumed) = match parse_expression(after) {
            Parsed::Escaped => {
                text.push('$');
                rest = &after[1..];
                continue;
            }
            Parsed::Expression { body, consumed } => (body, consumed),
            Parsed::Invalid => {
                error.get_or_insert(TemplateError::Invalid);
                rest = after;
                continue;
            }
        };
        match evaluate(expression, variables) {
            Ok(Evaluated::Value(value)) => text.push_str(&value),
            Ok(Evaluated::Unset(name)) => unset.push(name),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
        rest = &after[consumed..];
    }
    text.push_str(rest);
    match error {
        Some(e) => Err(e),
        None => Ok(Substituted { text, unset }),
    }
}

enum Parsed<'a> {
    Escaped,
    Expression { body: &'a str, consumed: usize },
    Invalid,
}

/// Matches what follows a `$` like the CLI's regular expression.
fn parse_expression(after: &str) -> Parsed<'_> {
    if after.starts_with('$') {
        return Parsed::Escaped;
    }
    if let Some(len) = expression_len(after) {
        return Parsed::Expression {
            body: &after[..len],
            consumed: len,
        };
    }
    if let Some(inner) = after.strip_prefix('{')
        && let Some(len) = expression_len(inner)
        && inner[len..].starts_with('}')
    {
        return Parsed::Expression {
            body: &inner[..len],
            consumed: len + 2,
        };
    }
    Parsed::Invalid
}

/// The length of `name[modifier]` at the start of `text`, where the
/// modifier is `:?[-?][^}]*`.
fn expression_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if !matches!(bytes.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    let mut len = 1;
    while len < bytes.len() && (bytes[len].is_ascii_alphanumeric() || bytes[len] == b'_') {
        len += 1;
    }
    let modifier_start = match (bytes.get(len), bytes.get(len + 1)) {
        (Some(b':'), Some(b'-' | b'?')) => Some(len + 2),
        (Some(b'-' | b'?'), _) => Some(len + 1),
        _ => None,
    };
    if let Some(start) = modifier_start {
        len = start + text[start..].find('}').unwrap_or(text.len() - start);
    }
    Some(len)
}

enum Evaluated {
    Value(String),
    Unset(String),
}

fn evaluate(expression: &str, variables: &Variables) -> Result<Evaluated, TemplateError> {
    let lookup = |name: &str| variables.get(name).map(String::as_str);
    if let Some((name, default)) = expression.split_once(":-") {
        return Ok(Evaluated::Value(match lookup(name) {
            Some(value) if !value.is_empty() => value.to_owned(),
            _ => default.to_owned(),
        }));
    }
    if let Some((name, default)) = expression.split_once('-') {
        return Ok(Evaluated::Value(lookup(name).unwrap_or(default).to_owned()));
    }
    if let Some((name, message)) = expression.split_once(":?") {
        return match lookup(name) {
            Some(value) if !value.is_empty() => Ok(Evaluated::Value(value.to_owned())),
            _ => Err(required(name, message)),
        };
    }
    if let Some((name, message)) = expression.split_once('?') {
        return match lookup(name) {
            Some(value) => Ok(Evaluated::Value(value.to_owned())),
            None => Err(required(name, message)),
        };
    }
    Ok(match lookup(expression) {
        Some(value) => Evaluated::Value(value.to_owned()),
        None => Evaluated::Unset(expression.to_owned()),
    })
}

fn required(name: &str, message: &str) -> TemplateError {
    TemplateError::Required {
        name: name.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Variables {
        [
            ("TAG", "1.2"),
            ("EMPTY", ""),
            ("NAME", "web"),
            ("A_1", "a1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn ok(template: &str) -> String {
        substitute(template, &vars()).unwrap().text
    }

    #[test]
    fn every_form_substitutes_like_the_cli() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("$$", "$"),
            ("$$TAG", "$TAG"),
            ("a$$$TAG", "a$1.2"),
            ("$TAG", "1.2"),
            ("${TAG}", "1.2"),
            ("x${TAG}y", "x1.2y"),
            ("$TAG.x", "1.2.x"),
            ("$TAG:x", "1.2:x"),
            ("$A_1", "a1"),
            ("${UNSET}", ""),
            ("$UNSET", ""),
            ("${UNSET:-def}", "def"),
            ("${EMPTY:-def}", "def"),
            ("${TAG:-def}", "1.2"),
            ("${UNSET-def}", "def"),
            ("${EMPTY-def}", ""),
            ("${TAG-def}", "1.2"),
            ("${UNSET:-}", ""),
            ("${UNSET:-a b:c}", "a b:c"),
            ("${UNSET:-${x}", "${x"),
            ("${EMPTY?msg}", ""),
            ("${TAG:?msg}", "1.2"),
            ("${TAG?msg}", "1.2"),
            // The modifier runs to the first `}` even without braces.
            ("$TAG-alpine", "1.2"),
            ("$UNSET-alpine", "alpine"),
            ("$UNSET-a}b", "a}b"),
            // Separators are searched in the whole expression, in order.
            ("${UNSET:?a-b}", "b"),
            ("${UNSET?a:-b}", "b"),
            ("${TAG-a:-b}", "b"),
            ("${tag}", ""),
        ];
        for (template, want) in cases {
            assert_eq!(ok(template), *want, "{template}");
        }
    }

    #[test]
    fn unset_variables_without_default_are_listed() {
        let got = substitute("$A ${B} ${C:-x} $TAG $A", &vars()).unwrap();
        assert_eq!(got.text, "  x 1.2 ");
        assert_eq!(got.unset, ["A", "B", "A"]);
    }

    #[test]
    fn invalid_templates_are_errors() {
        for template in [
            "$", "a $ b", "$1", "${}", "${TAG", "${TAG:x}", "${TAG:}", "${-x}", "$-", "${ TAG}",
            "$TAG $",
        ] {
            assert_eq!(
                substitute(template, &vars()),
                Err(TemplateError::Invalid),
                "{template}"
            );
        }
    }

    #[test]
    fn missing_required_variables_are_errors_with_their_message() {
        let cases: &[(&str, &str, &str)] = &[
            ("${UNSET:?need it}", "UNSET", "need it"),
            ("${EMPTY:?need it}", "EMPTY", "need it"),
            ("${UNSET?}", "UNSET", ""),
            ("$UNSET?why", "UNSET", "why"),
            // The CLI loses this one because `$TAG` succeeds afterwards.
            ("${UNSET:?x} $TAG", "UNSET", "x"),
        ];
        for (template, name, message) in cases {
            assert_eq!(
                substitute(template, &vars()),
                Err(TemplateError::Required {
                    name: (*name).into(),
                    message: (*message).into()
                }),
                "{template}"
            );
        }
    }
}
