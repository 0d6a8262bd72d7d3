//! `voc validate`: the real binary on conf repos in temp folders, as a
//! pre-commit hook runs it. A valid repo exits 0; a broken one prints every
//! problem at once, each with its file and line, and exits 1.
//!
//! Validation never talks to Docker, so these tests do not call
//! `require_engine`.

use std::path::Path;
use std::process::{Command, Output};

use tempfile::TempDir;
use voc_tests::voc_binary;

/// A conf repo in a temp folder.
fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp folder");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Runs `voc validate ARGS...` in `dir`.
fn validate(dir: &Path, args: &[&str]) -> Output {
    let voc = voc_binary().expect("building voc");
    Command::new(voc)
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running voc validate")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const COMPOSE: &str = "version: \"3.8\"\nservices:\n  web:\n    image: busybox\n";

fn good_repo() -> TempDir {
    repo(&[
        (
            "shop/docker-compose-shop.yml",
            "services:\n  web:\n    image: shop/api:${TAG}\n    env_file: web.env\n",
        ),
        ("shop/web.env", "GREETING=hello\n"),
        (
            "shop/stack-shop.json",
            "{\n  \"variables\": { \"TAG\": \"1.0\" },\n  \"dependsOn\": [\"db\"]\n}\n",
        ),
        ("db/docker-compose-db.yml", COMPOSE),
        ("api/Dockerfile-api", "FROM busybox\n"),
        ("api/image-api.json", "{ \"tag\": \"shop/api:1.0\" }\n"),
        (
            "definitions/webapp/definition.json",
            r#"{"title": "Web app", "version": "1.0.0", "options": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string"}, "replicas": {"type": "integer", "default": 1}}}}"#,
        ),
        (
            "definitions/webapp/docker-compose.yml.tera",
            "services:\n  web:\n    image: {{ options.image }}\n",
        ),
    ])
}

#[test]
fn a_valid_conf_repo_passes_with_a_summary() {
    let dir = good_repo();
    let output = validate(dir.path(), &[]);
    assert_eq!(
        stdout(&output),
        "2 stacks, 1 image, 1 definition: no problems\n",
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn the_path_argument_names_the_repo() {
    let dir = good_repo();
    let elsewhere = tempfile::tempdir().expect("temp folder");
    let path = dir.path().to_str().expect("UTF-8 temp path");
    let output = validate(elsewhere.path(), &[path]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).starts_with("2 stacks"),
        "{}",
        stdout(&output)
    );
}

fn broken_repo() -> TempDir {
    repo(&[
        // A field of the wrong type, on line 6.
        (
            "shop/docker-compose-shop.yml",
            "version: \"3.8\"\nservices:\n  web:\n    image: busybox\n    deploy:\n      replicas: many\n",
        ),
        // An unknown field, on line 3.
        (
            "shop/stack-shop.json",
            "{\n  \"enabled\": true,\n  \"enabeld\": false\n}\n",
        ),
        // A Dockerfile without its image file.
        ("api/Dockerfile-x", "FROM busybox\n"),
        // The same stack name in two folders.
        ("one/docker-compose-twice.yml", COMPOSE),
        ("two/docker-compose-twice.yml", COMPOSE),
        // A dependency cycle.
        ("cycle/docker-compose-a.yml", COMPOSE),
        ("cycle/stack-a.json", "{\n  \"dependsOn\": [\"b\"]\n}\n"),
        ("cycle/docker-compose-b.yml", COMPOSE),
        ("cycle/stack-b.json", "{\n  \"dependsOn\": [\"a\"]\n}\n"),
        // And one valid stack, which is not reported.
        ("docker-compose-ok.yml", COMPOSE),
    ])
}

#[test]
fn every_problem_of_a_broken_repo_is_printed_at_once_with_file_and_line() {
    let dir = broken_repo();
    let output = validate(dir.path(), &[]);
    let out = stdout(&output);
    let expected = [
        "api/Dockerfile-x: image \"x\" has no image-x.json (add image-x.json beside Dockerfile-x with at least a \"tag\")",
        "cycle/stack-a.json:2: dependency cycle: a -> b -> a (remove one of these dependencies: stacks in a cycle can never be deployed)",
        "cycle/stack-b.json:2: dependency cycle: b -> a -> b (remove one of these dependencies: stacks in a cycle can never be deployed)",
        "shop/docker-compose-shop.yml:6: services.web.deploy.replicas must be an integer",
        "shop/stack-shop.json:3: unknown field \"enabeld\" (did you mean \"enabled\"?)",
        "two/docker-compose-twice.yml: stack \"twice\" has two Compose files: one/docker-compose-twice.yml and two/docker-compose-twice.yml (a name must be unique in the repo: rename or remove one of them)",
        "5 stacks, 1 image, 0 definitions: 6 problems",
    ];
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{out}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(expected),
            "expected a line starting with\n  {expected}\ngot\n  {line}\nin\n{out}"
        );
    }
    assert_eq!(output.status.code(), Some(1));
    // The problems are the whole story: no extra error line.
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("error:"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn json_output_lists_every_problem_with_its_subject() {
    let dir = broken_repo();
    let output = validate(dir.path(), &["--json"]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(value["valid"], false);
    assert_eq!(value["stacks"], serde_json::json!(["ok"]));
    assert_eq!(
        value["invalidStacks"],
        serde_json::json!(["a", "b", "shop", "twice"])
    );
    assert_eq!(value["invalidImages"], serde_json::json!(["x"]));
    let problems = value["problems"].as_array().expect("a list of problems");
    assert_eq!(problems.len(), 6, "{value:#}");
    let unknown = problems
        .iter()
        .find(|p| p["file"] == "shop/stack-shop.json")
        .expect("the unknown field");
    assert_eq!(unknown["line"], 3);
    assert_eq!(unknown["message"], "unknown field \"enabeld\"");
    assert_eq!(unknown["hint"], "did you mean \"enabled\"?");
    assert_eq!(
        unknown["subject"],
        serde_json::json!({"kind": "stack", "name": "shop"})
    );
}

#[test]
fn a_path_that_is_not_a_folder_is_an_error() {
    let dir = tempfile::tempdir().expect("temp folder");
    let output = validate(dir.path(), &["missing"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: missing is not a folder"),
        "{stderr}"
    );
}
