//! Waiting for convergence: a healthy stack converges; an image that cannot
//! be pulled, a task that keeps failing, and an update swarm rolls back fail
//! the deploy, naming the service and quoting the task's error.

use std::time::{Duration, Instant};

use voc::compose::model::{Deploy, UpdateConfig};
use voc::engine::{DeployEvent, DeployOptions, Error, ServiceAction};
use voc_tests::{OPEN_REGISTRY, StackGuard, docker, require_engine, unique_name};

use crate::engine_fixture::{compose, deploy, engine, inspect_service, sleeper, spec, waiting};

/// The error of the newest task of `service` that has one, as
/// `docker service ps` shows it.
fn newest_task_error(service: &str) -> String {
    let out = docker([
        "service",
        "ps",
        "--no-trunc",
        "--format",
        "{{.Error}}",
        service,
    ])
    .unwrap();
    out.lines()
        .map(|l| l.trim().trim_matches('"'))
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn healthy_services_converge_and_report_progress() {
    require_engine();
    let stack = unique_name("healthy");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut web = sleeper();
    web.deploy = Some(Deploy {
        replicas: Some(2),
        ..Deploy::default()
    });
    let file = compose(vec![("web", web)]);

    let started = Instant::now();
    let (report, events) = deploy(&engine, &spec(&stack, &file), &waiting()).await;
    let report = report.unwrap();
    assert!(report.converged);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "returned before the stability window"
    );
    let name = format!("{stack}_web");
    assert!(
        events.contains(&DeployEvent::Waiting {
            service: name.clone(),
            running: 2,
            desired: 2
        }),
        "{events:?}"
    );
    assert!(
        events.contains(&DeployEvent::ServiceConverged {
            service: name.clone()
        }),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&DeployEvent::Converged));
    let running = docker([
        "service",
        "ls",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Replicas}}",
    ])
    .unwrap();
    assert_eq!(running.trim(), "2/2");
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_with_the_task_error() {
    require_engine();
    let stack = unique_name("noimg");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut web = sleeper();
    web.image = Some(format!("{OPEN_REGISTRY}/voc-missing-{stack}:nope"));
    let (result, events) = deploy(
        &engine,
        &spec(&stack, &compose(vec![("web", web)])),
        &waiting(),
    )
    .await;

    let name = format!("{stack}_web");
    let err = result.expect_err("an image that does not exist must fail the deploy");
    let Error::ServiceFailed { service, reason } = &err else {
        panic!("expected a service failure, got {err:?}")
    };
    assert_eq!(service, &name);
    let task_error = newest_task_error(&name);
    assert!(
        task_error.contains("No such image"),
        "task error: {task_error}"
    );
    assert!(
        reason.contains(&format!("\"{task_error}\"")),
        "{err} does not quote {task_error:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeployEvent::TaskFailed { .. })),
        "{events:?}"
    );
    assert!(!events.contains(&DeployEvent::Converged));
}

#[tokio::test]
async fn a_task_that_keeps_failing_fails_the_deploy() {
    require_engine();
    let stack = unique_name("false");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut web = sleeper();
    web.command = Some(vec!["false".to_owned()]);
    // `false` runs for an instant; on a loaded machine swarm can report the
    // task running for longer than a 1 s window before it reports the
    // exit, so this test keeps the default window's length.
    let options = DeployOptions {
        stability: Some(Duration::from_secs(5)),
        ..waiting()
    };
    let (result, _) = deploy(
        &engine,
        &spec(&stack, &compose(vec![("web", web)])),
        &options,
    )
    .await;

    let err = result.expect_err("a failing command must fail the deploy");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("service `{stack}_web` failed: ")),
        "{message}"
    );
    assert!(message.contains("\"task: non-zero exit (1)\""), "{message}");
}

#[tokio::test]
async fn an_update_swarm_rolls_back_fails_the_deploy() {
    require_engine();
    let stack = unique_name("rollback");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let with_command = |command: &[&str]| {
        let mut web = sleeper();
        web.command = Some(command.iter().map(|s| s.to_string()).collect());
        web.deploy = Some(Deploy {
            update_config: Some(UpdateConfig {
                failure_action: Some("rollback".to_owned()),
                monitor: Some("2s".to_owned()),
                ..UpdateConfig::default()
            }),
            ..Deploy::default()
        });
        compose(vec![("web", web)])
    };
    deploy(
        &engine,
        &spec(&stack, &with_command(&["sleep", "3600"])),
        &waiting(),
    )
    .await
    .0
    .unwrap();

    // A task failure makes swarm roll back; voc must not call that a success.
    let mut options = waiting();
    options.max_task_failures = 20;
    let (result, _) = deploy(&engine, &spec(&stack, &with_command(&["false"])), &options).await;
    let err = result.expect_err("a rolled back update must fail the deploy");
    let message = err.to_string();
    assert!(message.contains("rolled the update back"), "{message}");
    assert!(message.contains("non-zero exit (1)"), "{message}");
    let live = inspect_service(&format!("{stack}_web"));
    assert_eq!(
        live["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"],
        serde_json::json!(["sleep", "3600"])
    );

    // Left unchanged afterwards (the live spec is the rolled-back one, which
    // is not this file's), redeploying the good file converges again.
    let (report, _) = deploy(
        &engine,
        &spec(&stack, &with_command(&["sleep", "3600"])),
        &waiting(),
    )
    .await;
    let report = report.unwrap();
    assert!(report.converged);
    assert_ne!(report.services[0].action, ServiceAction::Created);
}

#[tokio::test]
async fn a_timeout_names_what_did_not_converge() {
    require_engine();
    let stack = unique_name("timeout");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut web = sleeper();
    // No node matches: the task stays pending forever.
    web.deploy = Some(Deploy {
        placement: voc::compose::model::Placement {
            constraints: vec!["node.labels.voc-no-such-label==yes".to_owned()],
            ..Default::default()
        },
        ..Deploy::default()
    });
    let mut options = waiting();
    options.wait = Some(Duration::from_secs(3));
    let (result, _) = deploy(
        &engine,
        &spec(&stack, &compose(vec![("web", web)])),
        &options,
    )
    .await;
    let err = result.expect_err("a pending task must time out");
    assert_eq!(
        err.to_string(),
        format!("timed out after 3s waiting for {stack}_web (0/1 running)")
    );
}
