//! Stacks move freely between voc and the docker CLI: voc lists, updates and
//! removes what `docker stack deploy` made, and `docker stack ls|services|ps|rm`
//! work on what voc made.

use std::time::Duration;

use voc::engine::{Error, ServiceAction};
use voc_tests::{
    BASE_IMAGE, StackGuard, cli_stack_deploy, docker, require_engine, stack_leftovers, unique_name,
    wait_for,
};

use crate::engine_fixture::{compose, deploy, engine, sleeper, spec, spec_from_text, waiting};

#[tokio::test]
async fn a_cli_deployed_stack_is_listed_updated_and_removed_by_voc() {
    require_engine();
    let stack = unique_name("fromcli");
    let compose_text = format!(
        "version: \"3.8\"\nservices:\n  web:\n    image: {BASE_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 1s\n"
    );
    let _guard = cli_stack_deploy(&stack, &compose_text).unwrap();
    let engine = engine().await;
    let name = format!("{stack}_web");

    let stacks = engine.list_stacks().await.unwrap();
    let listed = stacks
        .iter()
        .find(|s| s.name == stack)
        .expect("stack listed");
    assert_eq!(listed.services, 1);
    let services = engine.stack_services(&stack).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].name, name);
    assert_eq!(services[0].desired, 1);
    assert_eq!(services[0].compose_image.as_deref(), Some(BASE_IMAGE));
    wait_for("the task", Duration::from_secs(60), || {
        let tasks = docker(["stack", "ps", &stack, "--format", "{{.CurrentState}}"])?;
        Ok(tasks
            .lines()
            .any(|l| l.starts_with("Running"))
            .then_some(()))
    })
    .unwrap();
    let tasks = engine.stack_tasks(&stack).await.unwrap();
    assert!(
        tasks
            .iter()
            .any(|t| t.name == format!("{name}.1") && t.state == "running"),
        "{tasks:?}"
    );

    // The same file, plus a variable: an update, not a new service.
    let dir = tempfile::tempdir().unwrap();
    let changed = format!("{compose_text}    environment:\n      FROM: voc\n");
    let (report, _) = deploy(
        &engine,
        &spec_from_text(&stack, dir.path(), &changed),
        &waiting(),
    )
    .await;
    let report = report.unwrap();
    assert_eq!(report.services[0].action, ServiceAction::Updated);
    let env = crate::engine_fixture::inspect_service(&name)["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"].clone();
    assert_eq!(env, serde_json::json!(["FROM=voc"]));
    assert_eq!(engine.stack_services(&stack).await.unwrap()[0].running, 1);

    let removed = engine.remove_stack(&stack, &|_| {}).await.unwrap();
    assert!(removed.found);
    assert_eq!(stack_leftovers(&stack).unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_voc_deployed_stack_is_visible_to_and_removable_by_the_cli() {
    require_engine();
    let stack = unique_name("fromvoc");
    let guard = StackGuard::new(&stack);
    let engine = engine().await;
    let file = compose(vec![("web", sleeper()), ("api", sleeper())]);
    deploy(&engine, &spec(&stack, &file), &waiting())
        .await
        .0
        .unwrap();

    let ls = docker(["stack", "ls", "--format", "{{.Name}} {{.Services}}"]).unwrap();
    assert!(ls.lines().any(|l| l == format!("{stack} 2")), "{ls}");
    let services = docker([
        "stack",
        "services",
        &stack,
        "--format",
        "{{.Name}} {{.Replicas}}",
    ])
    .unwrap();
    let mut services: Vec<&str> = services.lines().collect();
    services.sort();
    assert_eq!(
        services,
        [format!("{stack}_api 1/1"), format!("{stack}_web 1/1")]
    );
    let ps = docker([
        "stack",
        "ps",
        &stack,
        "--format",
        "{{.Name}} {{.CurrentState}}",
    ])
    .unwrap();
    assert_eq!(
        ps.lines().filter(|l| l.contains(" Running")).count(),
        2,
        "{ps}"
    );

    docker(["stack", "rm", &stack]).unwrap();
    wait_for("the stack to go", Duration::from_secs(30), || {
        Ok(stack_leftovers(&stack)?.is_empty().then_some(()))
    })
    .unwrap();
    drop(guard);
}

#[tokio::test]
async fn ps_of_an_unknown_stack_says_nothing_found() {
    require_engine();
    let stack = unique_name("nothing");
    let engine = engine().await;
    let err = engine.stack_tasks(&stack).await.unwrap_err();
    assert!(matches!(err, Error::NothingFound { .. }));
    assert_eq!(err.to_string(), format!("nothing found in stack: {stack}"));
    assert!(engine.stack_services(&stack).await.unwrap().is_empty());
    assert!(
        !engine
            .list_stacks()
            .await
            .unwrap()
            .iter()
            .any(|s| s.name == stack)
    );
}
