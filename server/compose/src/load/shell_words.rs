//! Splitting a `command` or `entrypoint` string into words, as the CLI
//! does with `github.com/google/shlex`: spaces separate words, single
//! quotes keep everything, double quotes keep everything but backslash
//! escapes, a backslash escapes the next character, and `#` at the start
//! of a word starts a comment. There is no variable expansion.

/// The words of `text`, or why it cannot be split.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Start,
        Word,
        Escaping,
        EscapingQuoted,
        DoubleQuoted,
        SingleQuoted,
        Comment,
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in text.chars() {
        let space = matches!(c, ' ' | '\t' | '\r' | '\n');
        state = match state {
            State::Start => match c {
                _ if space => State::Start,
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escaping,
                '#' => State::Comment,
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Word => match c {
                _ if space => {
                    words.push(std::mem::take(&mut word));
                    State::Start
                }
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escaping,
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Escaping => {
                word.push(c);
                State::Word
            }
            State::EscapingQuoted => {
                word.push(c);
                State::DoubleQuoted
            }
            State::DoubleQuoted => match c {
                '"' => State::Word,
                '\\' => State::EscapingQuoted,
                _ => {
                    word.push(c);
                    State::DoubleQuoted
                }
            },
            State::SingleQuoted => match c {
                '\'' => State::Word,
                _ => {
                    word.push(c);
                    State::SingleQuoted
                }
            },
            State::Comment => {
                if c == '\n' {
                    State::Start
                } else {
                    State::Comment
                }
            }
        };
    }
    match state {
        State::Start | State::Comment => {}
        State::Word => words.push(word),
        State::Escaping | State::EscapingQuoted => {
            return Err("ends with a lone backslash; escape it as \\\\".into());
        }
        State::DoubleQuoted | State::SingleQuoted => {
            return Err("has a quote that is never closed".into());
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_google_shlex() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("echo hello", &["echo", "hello"]),
            ("  a\tb\r\nc ", &["a", "b", "c"]),
            ("sh -c 'echo $HOME; ls'", &["sh", "-c", "echo $HOME; ls"]),
            ("a \"b c\" d", &["a", "b c", "d"]),
            ("a\"b\"c", &["abc"]),
            ("\"\"", &[""]),
            ("''", &[""]),
            ("a\\ b", &["a b"]),
            ("\"a\\\"b\"", &["a\"b"]),
            ("\"a\\nb\"", &["anb"]),
            ("'a\\nb'", &["a\\nb"]),
            ("echo # comment", &["echo"]),
            ("echo a#b", &["echo", "a#b"]),
            ("# all comment\nls", &["ls"]),
        ];
        for (text, want) in cases {
            assert_eq!(split_words(text).unwrap(), *want, "{text:?}");
        }
    }

    #[test]
    fn unterminated_quotes_and_escapes_are_errors() {
        for text in ["'a", "\"a", "a\\", "\"a\\"] {
            assert!(split_words(text).is_err(), "{text:?}");
        }
    }
}
