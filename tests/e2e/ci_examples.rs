//! The CI examples of `docs/ci.md` (`examples/ci/`): each is valid YAML,
//! clones the whole history, and runs `voc apply` on the range its CI
//! names, with both ways of reaching the swarm.
//!
//! Reading files never talks to Docker, so these tests do not call
//! `require_engine`.

use std::path::Path;

use yaml_serde::Value;

fn example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("reading the example");
    yaml_serde::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// The lines of a job's or a step's script.
fn lines(script: &Value) -> Vec<String> {
    match script {
        Value::String(text) => text.lines().map(str::to_owned).collect(),
        Value::Sequence(items) => items.iter().flat_map(lines).collect(),
        _ => Vec::new(),
    }
}

fn voc_apply_lines(script: &Value) -> Vec<String> {
    lines(script)
        .into_iter()
        .filter(|l| l.trim_start().starts_with("voc apply "))
        .collect()
}

#[test]
fn the_gitlab_example_applies_the_pushed_range_over_the_socket_or_tls() {
    let ci = example("gitlab-ci.yml");
    assert_eq!(
        ci["variables"]["GIT_DEPTH"], "0",
        "a shallow clone can miss the range's start"
    );

    let template = &ci[".voc:apply"];
    assert_eq!(
        voc_apply_lines(&template["script"]),
        [r#"voc apply --from "$FROM" --to "$CI_COMMIT_SHA" --report voc-report.json"#]
    );
    let script = lines(&template["script"]);
    assert!(
        script.contains(&r#"FROM="$CI_COMMIT_BEFORE_SHA""#.to_owned()),
        "{script:?}"
    );
    assert_eq!(template["artifacts"]["paths"][0], "voc-report.json");
    assert_eq!(template["artifacts"]["when"], "always");

    let socket = &ci["voc:apply:socket"];
    let tls = &ci["voc:apply:tls"];
    for job in [socket, tls] {
        assert_eq!(job["extends"], ".voc:apply");
        let rule = job["rules"][0]["if"].as_str().expect("a rule");
        assert!(rule.contains(r#"$CI_PIPELINE_SOURCE == "push""#), "{rule}");
    }
    assert_eq!(
        socket["variables"]["DOCKER_HOST"],
        "unix:///var/run/docker.sock"
    );
    assert_eq!(tls["variables"]["DOCKER_HOST"], "tcp://$SWARM_HOST:2376");
    assert_eq!(tls["variables"]["DOCKER_TLS_VERIFY"], "1");
    let cert_path = tls["variables"]["DOCKER_CERT_PATH"]
        .as_str()
        .expect("DOCKER_CERT_PATH");
    let setup = lines(&tls["before_script"]).join("\n");
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        assert!(
            setup.contains(&format!("\"$DOCKER_CERT_PATH/{file}\"")),
            "{file} in {cert_path}"
        );
    }
}

#[test]
fn the_github_example_applies_the_pushed_range_over_the_socket_or_tls() {
    let workflow = example("github-workflow.yml");
    assert!(workflow["on"]["push"].is_mapping(), "runs on pushes");
    let job = &workflow["jobs"]["apply"];
    let steps = job["steps"].as_sequence().expect("steps");

    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("a checkout step");
    assert_eq!(
        checkout["with"]["fetch-depth"], 0,
        "a shallow clone can miss the range's start"
    );

    let apply: Vec<&Value> = steps
        .iter()
        .filter(|s| !voc_apply_lines(&s["run"]).is_empty())
        .collect();
    assert_eq!(apply.len(), 1);
    assert_eq!(
        voc_apply_lines(&apply[0]["run"]),
        [r#"voc apply --from "$FROM" --to "$TO" --report voc-report.json"#]
    );
    assert_eq!(apply[0]["env"]["FROM"], "${{ github.event.before }}");
    assert_eq!(apply[0]["env"]["TO"], "${{ github.sha }}");

    let host = job["env"]["DOCKER_HOST"].as_str().expect("DOCKER_HOST");
    assert!(
        host.contains("tcp://{0}:2376") && host.contains("unix:///var/run/docker.sock"),
        "{host}"
    );
    let tls = steps
        .iter()
        .map(|s| lines(&s["run"]).join("\n"))
        .find(|run| run.contains("DOCKER_TLS_VERIFY=1"))
        .expect("a step that turns TLS on");
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        assert!(tls.contains(&format!("\"$certs/{file}\"")), "{file}");
    }
    assert!(tls.contains("DOCKER_CERT_PATH=$certs"));
}
