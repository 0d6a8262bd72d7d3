//! Fixtures shared by the `engine_*` tests: small Compose models converted
//! to `StackSpec`s with voc's own converter, deploy options tuned for quick
//! tests, and ways to read what the swarm holds through the docker CLI.

use std::sync::Mutex;
use std::time::Duration;

use voc::compose::StackSpec;
use voc::compose::model::{ComposeFile, FileObject, FileReference, Service};
use voc::engine::{DeployEvent, DeployOptions, DeployReport, Engine, ResolveImage};
use voc_tests::{BASE_IMAGE, docker, docker_json};

/// A service running `sleep 3600` on the base image, stopping within 1 s
/// (busybox `sleep` ignores SIGTERM, so tasks otherwise take the default
/// 10 s to stop on every update).
pub fn sleeper() -> Service {
    Service {
        image: Some(BASE_IMAGE.to_owned()),
        command: Some(vec!["sleep".to_owned(), "3600".to_owned()]),
        stop_grace_period: Some("1s".to_owned()),
        ..Service::default()
    }
}

/// `service` with environment variable `key=value`.
pub fn with_env(mut service: Service, key: &str, value: &str) -> Service {
    service
        .environment
        .insert(key.to_owned(), Some(value.to_owned()));
    service
}

/// A Compose file with `services`.
pub fn compose(services: Vec<(&str, Service)>) -> ComposeFile {
    ComposeFile {
        version: Some("3.8".to_owned()),
        services: services
            .into_iter()
            .map(|(k, s)| (k.to_owned(), s))
            .collect(),
        ..ComposeFile::default()
    }
}

/// A top-level secret or config holding `content`, optionally explicitly
/// named.
pub fn file_object(content: &str, name: Option<&str>) -> FileObject {
    FileObject {
        name: name.map(str::to_owned),
        content: Some(content.as_bytes().to_vec()),
        ..FileObject::default()
    }
}

/// A reference to secret or config `source`.
pub fn reference(source: &str) -> FileReference {
    FileReference {
        source: source.to_owned(),
        ..FileReference::default()
    }
}

/// `file` converted to stack `stack` by voc's converter.
pub fn spec(stack: &str, file: &ComposeFile) -> StackSpec {
    voc::compose::convert(stack, file).unwrap_or_else(|e| panic!("converting the test file: {e}"))
}

/// Deploy options for tests: images used as they are (the base image exists
/// only locally), wait for convergence with a 1 s stability window.
pub fn waiting() -> DeployOptions {
    DeployOptions {
        resolve_image: ResolveImage::Never,
        wait: Some(Duration::from_secs(90)),
        stability: Some(Duration::from_secs(1)),
        ..DeployOptions::default()
    }
}

/// Like [`waiting`], but returning as soon as everything is sent.
pub fn detached() -> DeployOptions {
    DeployOptions {
        wait: None,
        ..waiting()
    }
}

/// A connected engine.
pub async fn engine() -> Engine {
    Engine::connect().await.expect("connecting to the engine")
}

/// Deploys `spec`, returning the outcome and every event in order.
pub async fn deploy(
    engine: &Engine,
    spec: &StackSpec,
    options: &DeployOptions,
) -> (voc::engine::Result<DeployReport>, Vec<DeployEvent>) {
    let events = Mutex::new(Vec::new());
    let result = engine
        .deploy_stack(spec, options, &|e| events.lock().unwrap().push(e))
        .await;
    (result, events.into_inner().unwrap())
}

/// `Version.Index` of service `name`, as `docker service inspect` shows it.
pub fn service_version(name: &str) -> u64 {
    let inspect = docker_json(["service", "inspect", name]).unwrap();
    inspect[0]["Version"]["Index"]
        .as_u64()
        .unwrap_or_else(|| panic!("no version in {inspect}"))
}

/// `docker service inspect NAME` (the first and only element).
pub fn inspect_service(name: &str) -> serde_json::Value {
    docker_json(["service", "inspect", name]).unwrap()[0].clone()
}

/// Names of the `kind` objects (`secret`, `config`, `service`, `network`)
/// of stack `stack`, sorted.
pub fn stack_objects(kind: &str, stack: &str) -> Vec<String> {
    let filter = format!("label=com.docker.stack.namespace={stack}");
    let out = docker([kind, "ls", "--filter", &filter, "--format", "{{.Name}}"]).unwrap();
    let mut names: Vec<String> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Compose text `yaml` loaded (as if it were `dir/docker-compose.yml`) and
/// converted to stack `stack` by voc's loader and converter.
pub fn spec_from_text(stack: &str, dir: &std::path::Path, yaml: &str) -> StackSpec {
    let source = voc::compose::load::ComposeSource {
        path: dir.join("docker-compose.yml"),
        text: yaml.to_owned(),
    };
    let loaded = voc::compose::load::load_sources(&[source], &Default::default())
        .unwrap_or_else(|e| panic!("loading the test file: {e}"));
    spec(stack, &loaded.file)
}
