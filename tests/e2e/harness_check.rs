//! Checks of the test environment and of the harness itself: the engine is
//! what the other tests assume, and a `StackGuard` really cleans up.

use std::time::Duration;

use voc_tests::{
    AUTH_REGISTRY, AUTH_REGISTRY_PASSWORD, AUTH_REGISTRY_USER, BASE_IMAGE, OPEN_REGISTRY,
    cli_stack_deploy, docker, docker_json, http_status, require_engine, stack_leftovers,
    unique_name, wait_for,
};

#[test]
fn engine_is_a_swarm_manager_with_base_image_and_registries() {
    require_engine();

    let info = docker_json(["info", "--format", "{{json .Swarm}}"]).unwrap();
    assert_eq!(info["LocalNodeState"], "active", "swarm: {info}");
    assert_eq!(info["ControlAvailable"], true, "not a manager: {info}");

    let image = docker_json(["image", "inspect", BASE_IMAGE]).unwrap();
    assert_eq!(
        image[0]["Config"]["Cmd"],
        serde_json::json!(["sh"]),
        "{image}"
    );
    let out = docker([
        "run",
        "--rm",
        BASE_IMAGE,
        "sh",
        "-c",
        "which sleep httpd wget",
    ])
    .unwrap();
    assert_eq!(
        out.lines().count(),
        3,
        "applets missing in {BASE_IMAGE}: {out}"
    );

    assert_eq!(
        http_status(OPEN_REGISTRY, "/v2/", None).unwrap(),
        200,
        "{OPEN_REGISTRY}"
    );
    assert_eq!(
        http_status(AUTH_REGISTRY, "/v2/", None).unwrap(),
        401,
        "{AUTH_REGISTRY} without credentials"
    );
    assert_eq!(
        http_status(AUTH_REGISTRY, "/v2/", Some((AUTH_REGISTRY_USER, "wrong"))).unwrap(),
        401,
        "{AUTH_REGISTRY} with a wrong password"
    );
    assert_eq!(
        http_status(
            AUTH_REGISTRY,
            "/v2/",
            Some((AUTH_REGISTRY_USER, AUTH_REGISTRY_PASSWORD))
        )
        .unwrap(),
        200,
        "{AUTH_REGISTRY} with credentials"
    );
}

#[test]
fn cli_deployed_stack_is_cleaned_up_by_guard() {
    require_engine();
    let name = unique_name("guard");
    let compose = format!(
        r#"version: "3.8"
services:
  sleeper:
    image: {BASE_IMAGE}
    command: ["sleep", "3600"]
    networks: [back]
networks:
  back:
    driver: overlay
"#
    );

    let guard = cli_stack_deploy(&name, &compose).unwrap();

    let service = format!("{name}_sleeper");
    let inspect = docker_json(["service", "inspect", &service]).unwrap();
    assert_eq!(
        inspect[0]["Spec"]["Labels"]["com.docker.stack.namespace"],
        name.as_str()
    );
    let network = docker_json(["network", "inspect", &format!("{name}_back")]).unwrap();
    assert_eq!(network[0]["Driver"], "overlay");
    wait_for("the task to run", Duration::from_secs(60), || {
        let states = docker(["service", "ps", &service, "--format", "{{.CurrentState}}"])?;
        Ok(states
            .lines()
            .any(|s| s.starts_with("Running"))
            .then_some(()))
    })
    .unwrap();
    let mut left = stack_leftovers(&name).unwrap();
    left.sort();
    assert_eq!(
        left,
        [
            format!("network {name}_back"),
            format!("service {name}_sleeper")
        ]
    );

    drop(guard);

    assert_eq!(stack_leftovers(&name).unwrap(), Vec::<String>::new());
    let containers = docker([
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.stack.namespace={name}"),
    ])
    .unwrap();
    assert_eq!(containers.trim(), "", "task containers left behind");
}

#[test]
fn guard_cleans_up_when_the_test_panics() {
    require_engine();
    let name = unique_name("panic");
    let compose = format!(
        "version: \"3.8\"\nservices:\n  sleeper:\n    image: {BASE_IMAGE}\n    command: [\"sleep\", \"3600\"]\n"
    );
    let deployed_name = name.clone();
    let outcome = std::panic::catch_unwind(move || {
        let _guard = cli_stack_deploy(&deployed_name, &compose).unwrap();
        docker(["service", "inspect", &format!("{deployed_name}_sleeper")]).unwrap();
        panic!("a test failing while its stack is up");
    });

    assert!(outcome.is_err());
    assert_eq!(stack_leftovers(&name).unwrap(), Vec::<String>::new());
}
