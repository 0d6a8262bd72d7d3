//! The naming rule for stacks, images, definitions and targets:
//! `^[a-z0-9][a-z0-9_-]{0,39}$`.
//!
//! Names become Docker object names (`<stack>_<service>`, at most 63
//! characters after prefixing, DNS-label rules), so anything else is
//! rejected, with a message that says which part of the rule broke.
//! Where the name is in a file's name, the walker turns the error into a
//! problem with a rename hint; this module only knows names.

use std::fmt;

/// The longest name allowed.
pub const MAX_NAME_LEN: usize = 40;

/// Which part of the naming rule a name breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty (`docker-compose-.yml`).
    Empty,
    /// It has upper-case letters.
    Uppercase,
    /// It starts with `_` or `-`.
    BadStart(char),
    /// It has a character other than `a-z`, `0-9`, `_` and `-`.
    BadCharacter(char),
    /// It is longer than [`MAX_NAME_LEN`] characters (the count).
    TooLong(usize),
}

impl fmt::Display for NameError {
    /// The end of a sentence that starts with the name: `"Shop" must be lowercase`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "is empty"),
            NameError::Uppercase => write!(f, "must be lowercase"),
            NameError::BadStart(c) => {
                write!(
                    f,
                    "must start with a lowercase letter or a digit, not `{c}`"
                )
            }
            NameError::BadCharacter(c) => write!(
                f,
                "may only contain lowercase letters, digits, `_` and `-`, not `{}`",
                c.escape_default()
            ),
            NameError::TooLong(len) => {
                write!(
                    f,
                    "is {len} characters long, at most {MAX_NAME_LEN} are allowed"
                )
            }
        }
    }
}

/// Checks `name` against `^[a-z0-9][a-z0-9_-]{0,39}$`; the error says which
/// part of the rule it breaks (the first, in the order a person would fix
/// them: case, first character, other characters, length).
pub fn check_name(name: &str) -> Result<(), NameError> {
    let Some(first) = name.chars().next() else {
        return Err(NameError::Empty);
    };
    if name.chars().any(|c| c.is_uppercase()) {
        return Err(NameError::Uppercase);
    }
    if let Some(bad) = name.chars().find(|&c| !is_name_char(c)) {
        return Err(NameError::BadCharacter(bad));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(NameError::BadStart(first));
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        return Err(NameError::TooLong(len));
    }
    Ok(())
}

/// A valid name close to an invalid one, for a rename hint: lowercased,
/// other characters turned into `-`, leading `_`/`-` dropped, cut to
/// [`MAX_NAME_LEN`]. `None` when nothing sensible is left.
pub fn suggest_name(name: &str) -> Option<String> {
    let mapped: String = name
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if is_name_char(c) { c } else { '-' })
        .collect();
    let trimmed = mapped.trim_start_matches(['-', '_']);
    let suggestion: String = trimmed.chars().take(MAX_NAME_LEN).collect();
    let suggestion = suggestion.trim_end_matches('-').to_owned();
    (check_name(&suggestion).is_ok() && suggestion != name).then_some(suggestion)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_against_each_part_of_the_rule() {
        let long = "a".repeat(41);
        let cases: &[(&str, Result<(), NameError>)] = &[
            ("shop", Ok(())),
            ("a", Ok(())),
            ("0", Ok(())),
            ("my_app-2", Ok(())),
            ("9lives", Ok(())),
            (&"a".repeat(40), Ok(())),
            ("", Err(NameError::Empty)),
            ("Shop", Err(NameError::Uppercase)),
            ("SHOP.api", Err(NameError::Uppercase)),
            ("_shop", Err(NameError::BadStart('_'))),
            ("-shop", Err(NameError::BadStart('-'))),
            ("shop.api", Err(NameError::BadCharacter('.'))),
            ("shop api", Err(NameError::BadCharacter(' '))),
            ("café", Err(NameError::BadCharacter('é'))),
            (".shop", Err(NameError::BadCharacter('.'))),
            (&long, Err(NameError::TooLong(41))),
        ];
        for (name, expected) in cases {
            assert_eq!(&check_name(name), expected, "{name:?}");
        }
    }

    #[test]
    fn errors_read_as_the_end_of_a_sentence() {
        let cases = [
            (NameError::Empty, "is empty"),
            (NameError::Uppercase, "must be lowercase"),
            (
                NameError::BadStart('-'),
                "must start with a lowercase letter or a digit, not `-`",
            ),
            (
                NameError::BadCharacter('.'),
                "may only contain lowercase letters, digits, `_` and `-`, not `.`",
            ),
            (
                NameError::TooLong(41),
                "is 41 characters long, at most 40 are allowed",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn suggestions_are_valid_names_close_to_the_original() {
        let cases = [
            ("Shop", Some("shop")),
            ("shop.api", Some("shop-api")),
            ("_shop", Some("shop")),
            ("My Shop", Some("my-shop")),
            ("shop", None),
            ("", None),
            ("...", None),
        ];
        for (name, expected) in cases {
            assert_eq!(suggest_name(name).as_deref(), expected, "{name:?}");
        }
        let long = suggest_name(&"A".repeat(50)).unwrap();
        assert_eq!(long.len(), MAX_NAME_LEN);
    }
}
