//! Interpolation variables from the command line.
//!
//! voc never reads its own environment for `${VAR}` unless asked to
//! (`--env`): a Compose file must render the same wherever it is deployed.

use anyhow::{Context, bail};

use crate::compose::load::Variables;

/// Parses one `--var K=V` argument.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    if key.is_empty() {
        return Err(format!("`{text}` has an empty variable name"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Builds the variables: the process environment first when `from_env`,
/// then the files of `--var-file` in order, then each `--var`, later ones
/// winning.
pub fn collect(
    assignments: &[(String, String)],
    files: &[std::path::PathBuf],
    from_env: bool,
) -> anyhow::Result<Variables> {
    let mut variables = Variables::new();
    if from_env {
        variables.extend(std::env::vars());
    }
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading variables file {}", file.display()))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_assignment(line) {
                Ok((key, value)) => {
                    variables.insert(key, value);
                }
                Err(problem) => bail!("{}:{}: {problem}", file.display(), number + 1),
            }
        }
    }
    variables.extend(assignments.iter().cloned());
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_split_at_the_first_equals_sign() {
        assert_eq!(parse_assignment("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(parse_assignment("A="), Ok(("A".into(), String::new())));
        assert!(parse_assignment("A").is_err());
        assert!(parse_assignment("=x").is_err());
    }

    #[test]
    fn later_sources_win_and_files_skip_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vars");
        std::fs::write(&file, "# comment\n\nA=from-file\nB=file\n").unwrap();
        let vars = collect(
            &[("A".into(), "from-flag".into())],
            std::slice::from_ref(&file),
            false,
        )
        .unwrap();
        assert_eq!(vars.get("A").map(String::as_str), Some("from-flag"));
        assert_eq!(vars.get("B").map(String::as_str), Some("file"));

        std::fs::write(&file, "oops\n").unwrap();
        let error = collect(&[], &[file], false).unwrap_err().to_string();
        assert!(
            error.ends_with("vars:1: `oops` is not KEY=VALUE"),
            "{error}"
        );
    }
}
