//! `--resolve-image`: pinning images to the digest the registry reports,
//! through the open local registry and through the one that needs
//! credentials (sent as a URL-safe `X-Registry-Auth` header).

use voc::engine::{DeployEvent, RegistryAuth, ResolveImage, ServiceAction};
use voc_tests::{
    AUTH_REGISTRY, AUTH_REGISTRY_PASSWORD, AUTH_REGISTRY_USER, BASE_IMAGE, DockerCli,
    OPEN_REGISTRY, StackGuard, require_engine, unique_name,
};

use crate::engine_fixture::{
    compose, deploy, detached, engine, inspect_service, service_version, sleeper, spec,
};

/// Pushes an image made from the base image, with a file holding `marker`
/// (so each push has its own digest), as `reference`; returns its digest.
fn push_image(cli: &DockerCli, reference: &str, marker: &str) -> String {
    let container = format!("voc-push-{}", unique_name("c"));
    cli.docker(["create", "--name", &container, BASE_IMAGE, "true"])
        .unwrap();
    let commit = cli.docker([
        "commit",
        "--change",
        &format!("LABEL voc.marker={marker}"),
        &container,
        reference,
    ]);
    cli.docker(["rm", &container]).unwrap();
    commit.unwrap();
    // A push can fail when another test pushes the same base layer to the
    // same registry at that moment; a second try finds the layer there.
    let pushed = (0..3)
        .map(|_| cli.docker(["push", reference]))
        .find_map(Result::ok)
        .unwrap_or_else(|| {
            panic!(
                "pushing {reference}: {:#}",
                cli.docker(["push", reference]).unwrap_err()
            )
        });
    let _ = cli.docker(["image", "rm", reference]);
    let digest = pushed
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in push output: {pushed}"));
    digest.to_owned()
}

fn running_image(service: &str) -> String {
    inspect_service(service)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn resolve_always_pins_the_digest_and_follows_a_moved_tag() {
    require_engine();
    let stack = unique_name("pin");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let image = format!("{OPEN_REGISTRY}/voc-e2e/{stack}:v1");
    let cli = DockerCli::new();
    let digest = push_image(&cli, &image, "one");
    let mut web = sleeper();
    web.image = Some(image.clone());
    let stack_spec = spec(&stack, &compose(vec![("web", web)]));
    let name = format!("{stack}_web");
    let always = voc::engine::DeployOptions {
        resolve_image: ResolveImage::Always,
        ..detached()
    };

    let (report, events) = deploy(&engine, &stack_spec, &always).await;
    let report = report.unwrap();
    assert_eq!(running_image(&name), format!("{image}@{digest}"));
    assert_eq!(report.services[0].image, format!("{image}@{digest}"));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, DeployEvent::Warning { .. })),
        "{events:?}"
    );
    assert_eq!(
        inspect_service(&name)["Spec"]["Labels"]["com.docker.stack.image"],
        image.as_str(),
        "the stack label keeps the image as written"
    );

    // Same tag, same digest: nothing to send.
    let version = service_version(&name);
    let (again, _) = deploy(&engine, &stack_spec, &always).await;
    assert_eq!(again.unwrap().services[0].action, ServiceAction::Unchanged);
    assert_eq!(service_version(&name), version);

    // The tag moved: the same file now updates the service to the new digest.
    let moved = push_image(&cli, &image, "two");
    assert_ne!(moved, digest);
    let (after_push, _) = deploy(&engine, &stack_spec, &always).await;
    assert_eq!(
        after_push.unwrap().services[0].action,
        ServiceAction::Updated
    );
    assert_eq!(running_image(&name), format!("{image}@{moved}"));

    // `never` keeps what runs when the image as written did not change...
    let never = voc::engine::DeployOptions {
        resolve_image: ResolveImage::Never,
        ..detached()
    };
    let mut web = sleeper();
    web.image = Some(image.clone());
    let web = crate::engine_fixture::with_env(web, "V", "2");
    let (changed, _) = deploy(&engine, &spec(&stack, &compose(vec![("web", web)])), &never).await;
    assert_eq!(changed.unwrap().services[0].action, ServiceAction::Updated);
    assert_eq!(running_image(&name), format!("{image}@{moved}"));
}

#[tokio::test]
async fn resolve_never_deploys_the_image_as_written_with_its_default_tag() {
    require_engine();
    let stack = unique_name("never");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let mut web = sleeper();
    web.image = Some("voc-test/busybox".to_owned());
    let (report, _) = deploy(
        &engine,
        &spec(&stack, &compose(vec![("web", web)])),
        &detached(),
    )
    .await;
    report.unwrap();
    let name = format!("{stack}_web");
    assert_eq!(running_image(&name), "voc-test/busybox:latest");
    assert_eq!(
        inspect_service(&name)["Spec"]["Labels"]["com.docker.stack.image"],
        "voc-test/busybox"
    );
}

#[tokio::test]
async fn resolve_always_with_the_auth_registry_sends_working_credentials() {
    require_engine();
    let stack = unique_name("auth");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let config = tempfile::tempdir().unwrap();
    let cli = DockerCli::with_config_dir(config.path());
    cli.docker_with_stdin(
        [
            "login",
            "--username",
            AUTH_REGISTRY_USER,
            "--password-stdin",
            AUTH_REGISTRY,
        ],
        AUTH_REGISTRY_PASSWORD,
    )
    .unwrap();
    let image = format!("{AUTH_REGISTRY}/voc-e2e/{stack}:v1");
    let digest = push_image(&cli, &image, "auth");
    let mut web = sleeper();
    web.image = Some(image.clone());
    let stack_spec = spec(&stack, &compose(vec![("web", web)]));
    let name = format!("{stack}_web");

    // Without credentials the registry refuses: voc warns like the docker
    // CLI and deploys the tag unpinned.
    let anonymous = voc::engine::DeployOptions {
        resolve_image: ResolveImage::Always,
        ..detached()
    };
    let (report, events) = deploy(&engine, &stack_spec, &anonymous).await;
    report.unwrap();
    assert_eq!(running_image(&name), image);
    assert!(
        events.iter().any(|e| matches!(e, DeployEvent::Warning { message } if message.contains("could not be accessed"))),
        "{events:?}"
    );

    let auth = RegistryAuth {
        username: AUTH_REGISTRY_USER.to_owned(),
        password: AUTH_REGISTRY_PASSWORD.to_owned(),
        serveraddress: AUTH_REGISTRY.to_owned(),
    };
    let with_auth = voc::engine::DeployOptions {
        registry_auth: Some(auth),
        ..anonymous
    };
    let (report, events) = deploy(&engine, &stack_spec, &with_auth).await;
    assert_eq!(report.unwrap().services[0].action, ServiceAction::Updated);
    assert_eq!(running_image(&name), format!("{image}@{digest}"));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, DeployEvent::Warning { .. })),
        "{events:?}"
    );
}
