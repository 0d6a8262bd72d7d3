//! `Engine::remove_stack`: everything of the stack goes, networks only once
//! the tasks using them are gone.

use std::sync::Mutex;

use voc::compose::model::{Network, ServiceNetwork};
use voc::engine::{ObjectKind, RemoveEvent};
use voc_tests::{BASE_IMAGE, StackGuard, docker, require_engine, stack_leftovers, unique_name};

use crate::engine_fixture::{compose, deploy, engine, file_object, reference, spec, waiting};

#[tokio::test]
async fn remove_waits_for_tasks_then_removes_networks_secrets_and_configs() {
    require_engine();
    let stack = unique_name("rm");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    // The default stop grace period (10 s, which busybox `sleep` waits out):
    // the containers outlive their services long enough that removing the
    // network at once would fail.
    let mut web = voc::compose::model::Service {
        image: Some(BASE_IMAGE.to_owned()),
        command: Some(vec!["sleep".to_owned(), "3600".to_owned()]),
        ..Default::default()
    };
    web.networks = Some(
        [("back".to_owned(), None::<ServiceNetwork>)]
            .into_iter()
            .collect(),
    );
    web.configs = vec![reference("site")];
    let mut file = compose(vec![("web", web)]);
    file.networks.insert("back".into(), Network::default());
    file.configs
        .insert("site".into(), file_object("hello", None));
    file.secrets
        .insert("unused".into(), file_object("pw", None));
    deploy(&engine, &spec(&stack, &file), &waiting())
        .await
        .0
        .unwrap();
    assert!(!stack_leftovers(&stack).unwrap().is_empty());

    let events = Mutex::new(Vec::new());
    let report = engine
        .remove_stack(&stack, &|e| events.lock().unwrap().push(e))
        .await
        .unwrap();
    let events = events.into_inner().unwrap();

    assert!(report.found);
    assert_eq!(stack_leftovers(&stack).unwrap(), Vec::<String>::new());
    let filter = format!("label=com.docker.stack.namespace={stack}");
    assert_eq!(
        docker(["ps", "-aq", "--filter", &filter]).unwrap().trim(),
        "",
        "containers left behind"
    );
    let kinds: Vec<ObjectKind> = report.removed.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [
            ObjectKind::Service,
            ObjectKind::Secret,
            ObjectKind::Config,
            ObjectKind::Network
        ]
    );
    let waited = events
        .iter()
        .position(|e| matches!(e, RemoveEvent::WaitingForTasks { .. }));
    let network_gone = events
        .iter()
        .position(|e| {
            matches!(
                e,
                RemoveEvent::Removed {
                    kind: ObjectKind::Network,
                    ..
                }
            )
        })
        .expect("network removed event");
    assert!(
        waited.is_some_and(|w| w < network_gone),
        "networks removed without waiting: {events:?}"
    );
}

#[tokio::test]
async fn removing_a_stack_that_does_not_exist_finds_nothing() {
    require_engine();
    let stack = unique_name("ghost");
    let engine = engine().await;
    let events = Mutex::new(Vec::new());
    let report = engine
        .remove_stack(&stack, &|e| events.lock().unwrap().push(e))
        .await
        .unwrap();
    assert!(!report.found);
    assert_eq!(events.into_inner().unwrap(), [RemoveEvent::NothingFound]);
}
