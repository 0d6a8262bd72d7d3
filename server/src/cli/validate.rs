//! `voc validate [PATH]`: checks a conf repo the way voc reads it, and
//! prints every problem at once, one per line with its file and line, then
//! a summary. Exits 1 if there is any problem, so it can be a pre-commit
//! hook.
//!
//! What the repo may name on a server (targets, secret variables) is not
//! known here, so it is not checked: the server checks it when it reads
//! a commit.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use serde_json::json;

use super::Reported;
use super::output::print_json;
use crate::conf::{ConfReport, read_conf};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The conf repo's root folder.
    #[arg(default_value = ".")]
    path: PathBuf,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    if !args.path.is_dir() {
        bail!(
            "{} is not a folder: give the root of a conf repo",
            args.path.display()
        );
    }
    let report = read_conf(&args.path);
    if args.json {
        print_json(&to_json(&report));
    } else {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        for problem in &report.problems {
            println!("{problem}");
        }
        println!("{}", summary(&report));
    }
    if report.is_valid() {
        Ok(())
    } else {
        Err(Reported.into())
    }
}

/// `3 stacks, 1 image, 2 definitions: 2 problems`; the counts include the
/// invalid ones.
fn summary(report: &ConfReport) -> String {
    let conf = &report.conf;
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let problems = match report.problems.len() {
        0 => "no problems".to_owned(),
        n => count(n, "problem", "problems"),
    };
    format!(
        "{}, {}, {}: {problems}",
        count(
            conf.stacks.len() + conf.invalid_stacks.len(),
            "stack",
            "stacks"
        ),
        count(
            conf.images.len() + conf.invalid_images.len(),
            "image",
            "images"
        ),
        count(
            conf.definitions.len() + conf.invalid_definitions.len(),
            "definition",
            "definitions"
        ),
    )
}

fn to_json(report: &ConfReport) -> serde_json::Value {
    let conf = &report.conf;
    json!({
        "root": report.root,
        "valid": report.is_valid(),
        "stacks": conf.stacks.keys().collect::<Vec<_>>(),
        "invalidStacks": conf.invalid_stacks,
        "images": conf.images.keys().collect::<Vec<_>>(),
        "invalidImages": conf.invalid_images,
        "definitions": conf.definitions.keys().collect::<Vec<_>>(),
        "invalidDefinitions": conf.invalid_definitions,
        "problems": report.problems,
        "warnings": report.warnings,
        "summary": summary(report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::{ConfProblem, Subject};

    #[test]
    fn the_summary_counts_everything_found() {
        let mut report = ConfReport::default();
        assert_eq!(
            summary(&report),
            "0 stacks, 0 images, 0 definitions: no problems"
        );
        report.conf.invalid_stacks.insert("a".into());
        report.conf.invalid_images.insert("b".into());
        report.conf.invalid_definitions.insert("c".into());
        report.problems.push(ConfProblem::new("x", "y"));
        assert_eq!(
            summary(&report),
            "1 stack, 1 image, 1 definition: 1 problem"
        );
        report.conf.invalid_stacks.insert("d".into());
        report.problems.push(ConfProblem::new("x", "z"));
        assert_eq!(
            summary(&report),
            "2 stacks, 1 image, 1 definition: 2 problems"
        );
    }

    #[test]
    fn problems_are_json_objects_with_their_subject() {
        let mut report = ConfReport::default();
        report.problems.push(
            ConfProblem::new("stack-shop.json", "unknown field \"x\"")
                .at_line(Some(3))
                .about(Subject::Stack("shop".into())),
        );
        let value = to_json(&report);
        assert_eq!(value["valid"], false);
        assert_eq!(
            value["problems"][0],
            json!({
                "file": "stack-shop.json",
                "line": 3,
                "message": "unknown field \"x\"",
                "hint": null,
                "subject": {"kind": "stack", "name": "shop"},
            })
        );
    }
}
