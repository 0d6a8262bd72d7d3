//! `env_file` files, read as the CLI reads them (`kvfile.Parse`): one
//! `KEY=value` per line, the value kept verbatim (no quotes removed, no
//! trimming), leading whitespace ignored, `#` comments and blank lines
//! skipped; a bare `KEY` takes its value from the variables, or stays
//! without one.

use super::Variables;

/// The variables of one env file, in order; `None` for a bare `KEY` that
/// the variables do not define.
pub(crate) fn parse_env_file(
    text: &[u8],
    variables: &Variables,
) -> Result<Vec<(String, Option<String>)>, String> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut entries = Vec::new();
    for (number, raw) in text.split(|b| *b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| format!("line {} is not valid UTF-8", number + 1))?;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (variable, value) = match line.split_once('=') {
            Some((variable, value)) => (variable.trim_start_matches([' ', '\t']), Some(value)),
            None => (line, None),
        };
        if variable.contains([' ', '\t']) {
            return Err(format!(
                "line {}: variable '{variable}' contains whitespaces",
                number + 1
            ));
        }
        if variable.is_empty() {
            return Err(format!(
                "line {}: no variable name on line '{line}'",
                number + 1
            ));
        }
        let value = match value {
            Some(value) => Some(value.to_owned()),
            None => variables.get(variable).cloned(),
        };
        entries.push((variable.to_owned(), value));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_parse_like_the_cli() {
        let variables: Variables = [("FROM_VARS".to_owned(), "v".to_owned())].into();
        let text = b"\xEF\xBB\xBF# comment\nA=1\n  B=two words \n\nC=\"quoted\"\r\nD=\nE=a=b\nFROM_VARS\nUNSET\n   # indented comment\n";
        let got = parse_env_file(text, &variables).unwrap();
        let want: Vec<(String, Option<String>)> = [
            ("A", Some("1")),
            ("B", Some("two words ")),
            ("C", Some("\"quoted\"")),
            ("D", Some("")),
            ("E", Some("a=b")),
            ("FROM_VARS", Some("v")),
            ("UNSET", None),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_lines_are_errors_with_their_number() {
        let cases: &[(&[u8], &str)] = &[
            (b"A B=1\n", "line 1: variable 'A B' contains whitespaces"),
            (b"A=1\n=2\n", "line 2: no variable name on line '=2'"),
            (b"A=1\nB=\xff\n", "line 2 is not valid UTF-8"),
        ];
        for (text, want) in cases {
            assert_eq!(parse_env_file(text, &Variables::new()).unwrap_err(), *want);
        }
    }
}
