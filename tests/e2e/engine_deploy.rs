//! `Engine::deploy_stack` against the real engine: no-op detection,
//! pruning, content-versioned secrets and configs, checks before writing,
//! and per-stack serialisation.

use std::collections::BTreeMap;
use std::sync::Mutex;

use voc::engine::{DeployEvent, Error, ObjectKind, ServiceAction};
use voc_tests::{BASE_IMAGE, StackGuard, docker, require_engine, unique_name};

use crate::engine_fixture::{
    compose, deploy, detached, engine, file_object, inspect_service, reference, service_version,
    sleeper, spec, spec_from_text, stack_objects, waiting, with_env,
};

fn actions(report: &voc::engine::DeployReport) -> Vec<(String, ServiceAction)> {
    report
        .services
        .iter()
        .map(|s| (s.name.clone(), s.action))
        .collect()
}

#[tokio::test]
async fn unchanged_redeploy_sends_nothing_and_a_change_updates_only_that_service() {
    require_engine();
    let stack = unique_name("noop");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let (web, db) = (format!("{stack}_web"), format!("{stack}_db"));
    let first = spec(
        &stack,
        &compose(vec![("web", sleeper()), ("db", sleeper())]),
    );

    let (report, _) = deploy(&engine, &first, &waiting()).await;
    let report = report.unwrap();
    assert_eq!(
        actions(&report),
        [
            (db.clone(), ServiceAction::Created),
            (web.clone(), ServiceAction::Created)
        ]
    );
    let before = (service_version(&web), service_version(&db));

    let (again, events) = deploy(&engine, &first, &waiting()).await;
    let again = again.unwrap();
    assert_eq!(
        actions(&again),
        [
            (db.clone(), ServiceAction::Unchanged),
            (web.clone(), ServiceAction::Unchanged)
        ]
    );
    assert!(again.is_noop(), "{again:?}");
    assert!(events.contains(&DeployEvent::Converged), "{events:?}");
    assert_eq!(
        (service_version(&web), service_version(&db)),
        before,
        "an unchanged deploy wrote to a service"
    );

    // A new commit label alone is not a change either.
    let mut labelled = waiting();
    labelled.labels = BTreeMap::from([("io.voc.commit".to_owned(), "abc123".to_owned())]);
    let (same, _) = deploy(&engine, &first, &labelled).await;
    assert!(same.unwrap().is_noop());
    assert_eq!((service_version(&web), service_version(&db)), before);

    let changed = spec(
        &stack,
        &compose(vec![
            ("web", with_env(sleeper(), "COLOR", "blue")),
            ("db", sleeper()),
        ]),
    );
    let (report, _) = deploy(&engine, &changed, &labelled).await;
    assert_eq!(
        actions(&report.unwrap()),
        [
            (db.clone(), ServiceAction::Unchanged),
            (web.clone(), ServiceAction::Updated)
        ]
    );
    assert_eq!(
        service_version(&db),
        before.1,
        "the unchanged service was written to"
    );
    assert!(service_version(&web) > before.0);
    let web_spec = inspect_service(&web);
    assert_eq!(
        web_spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"],
        serde_json::json!(["COLOR=blue"])
    );
    assert_eq!(web_spec["Spec"]["Labels"]["io.voc.commit"], "abc123");
    assert_eq!(
        web_spec["Spec"]["Labels"]["com.docker.stack.namespace"],
        stack.as_str()
    );
}

#[tokio::test]
async fn prune_removes_a_service_the_spec_no_longer_declares() {
    require_engine();
    let stack = unique_name("prune");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let both = spec(
        &stack,
        &compose(vec![("web", sleeper()), ("old", sleeper())]),
    );
    deploy(&engine, &both, &detached()).await.0.unwrap();
    assert_eq!(
        stack_objects("service", &stack),
        [format!("{stack}_old"), format!("{stack}_web")]
    );

    let web_only = spec(&stack, &compose(vec![("web", sleeper())]));
    let mut keep = detached();
    keep.prune = false;
    deploy(&engine, &web_only, &keep).await.0.unwrap();
    assert_eq!(
        stack_objects("service", &stack).len(),
        2,
        "prune = false removed a service"
    );

    let (report, events) = deploy(&engine, &web_only, &detached()).await;
    let report = report.unwrap();
    assert_eq!(stack_objects("service", &stack), [format!("{stack}_web")]);
    assert!(
        report
            .services
            .iter()
            .any(|s| s.name == format!("{stack}_old") && s.action == ServiceAction::Removed),
        "{report:?}"
    );
    assert!(events.contains(&DeployEvent::Service {
        name: format!("{stack}_old"),
        action: ServiceAction::Removed
    }));
}

#[tokio::test]
async fn changed_config_and_secret_get_new_versions_and_old_ones_are_removed() {
    require_engine();
    let stack = unique_name("files");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let file = |content: &str| {
        let mut service = sleeper();
        service.configs = vec![reference("site")];
        service.secrets = vec![reference("token")];
        let mut file = compose(vec![("web", service)]);
        file.configs
            .insert("site".into(), file_object(content, None));
        file.secrets.insert(
            "token".into(),
            file_object(&format!("secret {content}"), None),
        );
        file
    };
    let web = format!("{stack}_web");

    let v1 = spec(&stack, &file("one"));
    deploy(&engine, &v1, &waiting()).await.0.unwrap();
    let (config_v1, secret_v1) = (v1.configs[0].name.clone(), v1.secrets[0].name.clone());
    assert_eq!(
        stack_objects("config", &stack),
        std::slice::from_ref(&config_v1)
    );
    assert_eq!(
        stack_objects("secret", &stack),
        std::slice::from_ref(&secret_v1)
    );

    let v2 = spec(&stack, &file("two"));
    let (config_v2, secret_v2) = (v2.configs[0].name.clone(), v2.secrets[0].name.clone());
    assert_ne!(config_v1, config_v2);
    let (report, _) = deploy(&engine, &v2, &waiting()).await;
    let report = report.unwrap();
    assert_eq!(actions(&report), [(web.clone(), ServiceAction::Updated)]);
    let container = &inspect_service(&web)["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(container["Configs"][0]["ConfigName"], config_v2.as_str());
    assert_eq!(container["Secrets"][0]["SecretName"], secret_v2.as_str());
    assert_eq!(
        stack_objects("config", &stack),
        std::slice::from_ref(&config_v2),
        "old config version left behind"
    );
    assert_eq!(
        stack_objects("secret", &stack),
        std::slice::from_ref(&secret_v2),
        "old secret version left behind"
    );
    assert!(
        report.removed.contains(&(ObjectKind::Config, config_v1)),
        "{report:?}"
    );
    assert!(
        report.removed.contains(&(ObjectKind::Secret, secret_v1)),
        "{report:?}"
    );
    assert!(
        report.created.contains(&(ObjectKind::Config, config_v2)),
        "{report:?}"
    );
}

#[tokio::test]
async fn explicitly_named_config_with_new_content_fails_before_services_are_touched() {
    require_engine();
    let stack = unique_name("named");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let config_name = format!("{stack}_fixed");
    let file = |content: &str, env: &str| {
        let mut service = with_env(sleeper(), "V", env);
        service.configs = vec![reference("site")];
        let mut file = compose(vec![("web", service)]);
        file.configs
            .insert("site".into(), file_object(content, Some(&config_name)));
        file
    };
    // Waiting, so that swarm's allocator has given the new service its
    // addresses (an update of its own, which bumps the version) before the
    // version is read.
    deploy(&engine, &spec(&stack, &file("one", "1")), &waiting())
        .await
        .0
        .unwrap();
    let web = format!("{stack}_web");
    let version = service_version(&web);

    // Same content, other labels: only the labels change.
    let mut relabelled = file("one", "1");
    relabelled.configs[0]
        .labels
        .insert("tier".into(), "front".into());
    let (report, _) = deploy(&engine, &spec(&stack, &relabelled), &detached()).await;
    let report = report.unwrap();
    assert!(
        report
            .services
            .iter()
            .all(|s| s.action == ServiceAction::Unchanged),
        "{report:?}"
    );
    let labels =
        voc_tests::docker_json(["config", "inspect", &config_name]).unwrap()[0]["Spec"]["Labels"]
            .clone();
    assert_eq!(labels["tier"], "front");

    let (result, _) = deploy(&engine, &spec(&stack, &file("two", "2")), &detached()).await;
    match result {
        Err(Error::ContentChanged {
            kind: ObjectKind::Config,
            name,
        }) => assert_eq!(name, config_name),
        other => panic!("expected a content change error, got {other:?}"),
    }
    assert_eq!(
        service_version(&web),
        version,
        "the service was updated despite the failed check"
    );
}

#[tokio::test]
async fn explicitly_named_secret_with_new_content_fails_before_services_are_touched() {
    require_engine();
    let stack = unique_name("nsecret");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let secret_name = format!("{stack}_pw");
    let file = |content: &str, env: &str| {
        let mut service = with_env(sleeper(), "V", env);
        service.secrets = vec![reference("pw")];
        let mut file = compose(vec![("web", service)]);
        file.secrets
            .insert("pw".into(), file_object(content, Some(&secret_name)));
        file
    };
    // Waiting, for the reason given in the config test above.
    deploy(&engine, &spec(&stack, &file("one", "1")), &waiting())
        .await
        .0
        .unwrap();
    let web = format!("{stack}_web");
    let version = service_version(&web);
    // Same content (which swarm never returns for secrets) passes.
    deploy(&engine, &spec(&stack, &file("one", "1")), &detached())
        .await
        .0
        .unwrap();

    let (result, _) = deploy(&engine, &spec(&stack, &file("two", "2")), &detached()).await;
    let err = result.expect_err("a secret with new content must fail the deploy");
    assert!(
        matches!(
            &err,
            Error::ContentChanged {
                kind: ObjectKind::Secret,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&secret_name), "{err}");
    assert_eq!(service_version(&web), version);
}

#[tokio::test]
async fn a_service_without_image_is_refused_before_anything_is_written() {
    require_engine();
    let stack = unique_name("noimage");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut good = spec(
        &stack,
        &compose(vec![("web", sleeper()), ("bad", sleeper())]),
    );
    let bad = good.services.iter_mut().find(|s| s.key == "bad").unwrap();
    bad.image.clear();
    bad.spec
        .task_template
        .as_mut()
        .unwrap()
        .container_spec
        .as_mut()
        .unwrap()
        .image = None;

    let (result, events) = deploy(&engine, &good, &detached()).await;
    let err = result.expect_err("a service without image must be refused");
    assert_eq!(
        err.to_string(),
        format!("service `{stack}_bad` has no image")
    );
    assert_eq!(events, []);
    assert_eq!(stack_objects("network", &stack), Vec::<String>::new());
    assert_eq!(stack_objects("service", &stack), Vec::<String>::new());
}

#[tokio::test]
async fn concurrent_deploys_of_one_stack_run_one_after_the_other() {
    require_engine();
    let stack = unique_name("serial");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let first = spec(
        &stack,
        &compose(vec![("web", sleeper()), ("api", sleeper())]),
    );
    let second = spec(
        &stack,
        &compose(vec![
            ("web", with_env(sleeper(), "V", "2")),
            ("api", sleeper()),
        ]),
    );
    let log = Mutex::new(Vec::new());
    let options = detached();
    let log_a = |e| log.lock().unwrap().push(('a', e));
    let log_b = |e| log.lock().unwrap().push(('b', e));
    let (a, b) = tokio::join!(
        engine.deploy_stack(&first, &options, &log_a),
        engine.deploy_stack(&second, &options, &log_b),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let log = log.into_inner().unwrap();
    let order: Vec<char> = log.iter().map(|(who, _)| *who).collect();
    let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 1, "the two deploys interleaved: {log:?}");
    // Whichever ran second saw the first's result.
    let (earlier, later) = if order[0] == 'a' { (&a, &b) } else { (&b, &a) };
    assert!(
        earlier
            .services
            .iter()
            .all(|s| s.action == ServiceAction::Created),
        "{earlier:?}"
    );
    assert!(
        later
            .services
            .iter()
            .all(|s| s.action != ServiceAction::Created),
        "{later:?}"
    );
}

#[tokio::test]
async fn external_networks_must_exist_and_be_swarm_scoped() {
    require_engine();
    let stack = unique_name("extnet");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let dir = tempfile::tempdir().unwrap();
    let local = format!("{stack}-local");
    let text = |network: &str| {
        format!(
            "services:\n  web:\n    image: {BASE_IMAGE}\n    networks: [outside]\n\
             networks:\n  outside:\n    external: true\n    name: {network}\n"
        )
    };

    let missing = format!("{stack}-missing");
    let (result, _) = deploy(
        &engine,
        &spec_from_text(&stack, dir.path(), &text(&missing)),
        &detached(),
    )
    .await;
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "network \"{missing}\" is declared as external, but could not be found. You need to create a \
             swarm-scoped network before the stack is deployed"
        )
    );

    docker(["network", "create", "--driver", "bridge", &local]).unwrap();
    let (result, _) = deploy(
        &engine,
        &spec_from_text(&stack, dir.path(), &text(&local)),
        &detached(),
    )
    .await;
    let _ = docker(["network", "rm", &local]);
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "network \"{local}\" is declared as external, but it is not in the right scope: \"local\" instead of \"swarm\""
        )
    );
    assert_eq!(
        stack_objects("service", &stack),
        Vec::<String>::new(),
        "a service was created anyway"
    );
}
