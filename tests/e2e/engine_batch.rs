//! `Engine::deploy_stacks` against the real engine: a batch deploys every
//! stack, an identical batch changes nothing and reads the swarm once
//! (counted at the socket), a bad stack fails alone, and old secret and
//! config versions are still cleaned up by deploys that change nothing.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use voc::compose::StackSpec;
use voc::engine::{
    DeployEvent, DeployOptions, DeployReport, Engine, Error, ObjectKind, ResolveImage,
    ServiceAction,
};
use voc_tests::{BASE_IMAGE, OPEN_REGISTRY, StackGuard, docker, require_engine, unique_name};

use crate::engine_fixture::{
    compose, deploy, detached, engine, file_object, reference, service_version, sleeper, spec,
    spec_from_text, stack_objects, waiting, with_env,
};

/// `count` stacks of two services each, every stack with its own content.
fn stacks(prefix: &str, count: usize) -> (Vec<StackSpec>, Vec<StackGuard>) {
    (0..count)
        .map(|i| {
            let name = unique_name(prefix);
            let guard = StackGuard::new(&name);
            let file = compose(vec![
                ("web", with_env(sleeper(), "STACK", &i.to_string())),
                ("api", sleeper()),
            ]);
            (spec(&name, &file), guard)
        })
        .unzip()
}

/// Deploys `specs` as one batch, returning each outcome and every event
/// with its stack.
async fn deploy_batch(
    engine: &Engine,
    specs: &[StackSpec],
    options: &DeployOptions,
) -> (
    Vec<voc::engine::Result<DeployReport>>,
    Vec<(String, DeployEvent)>,
) {
    let events = Mutex::new(Vec::new());
    let results = engine
        .deploy_stacks(specs, options, &|stack, event| {
            events.lock().unwrap().push((stack.to_owned(), event))
        })
        .await
        .expect("the batch as a whole failed");
    (results, events.into_inner().unwrap())
}

/// Every service of `specs` with its `Version.Index`.
fn versions(specs: &[StackSpec]) -> Vec<(String, u64)> {
    specs
        .iter()
        .flat_map(|s| &s.services)
        .map(|s| (s.name.clone(), service_version(&s.name)))
        .collect()
}

#[tokio::test]
async fn a_batch_deploys_every_stack_and_the_same_batch_again_changes_nothing() {
    require_engine();
    let engine = engine().await;
    let (specs, _guards) = stacks("batch", 3);

    let (results, events) = deploy_batch(&engine, &specs, &waiting()).await;
    for (spec, result) in specs.iter().zip(&results) {
        let report = result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        assert_eq!(report.stack, spec.name);
        assert!(report.converged, "{report:?}");
        assert!(
            report
                .services
                .iter()
                .all(|s| s.action == ServiceAction::Created),
            "{report:?}"
        );
        assert_eq!(
            stack_objects("service", &spec.name),
            [format!("{}_api", spec.name), format!("{}_web", spec.name)]
        );
        assert!(
            events.contains(&(
                spec.name.clone(),
                DeployEvent::Created {
                    kind: ObjectKind::Network,
                    name: format!("{}_default", spec.name),
                }
            )),
            "{events:?}"
        );
    }
    // Each event comes with the stack it is about.
    for (stack, event) in &events {
        let name = match event {
            DeployEvent::Created { name, .. } | DeployEvent::Service { name, .. } => name,
            DeployEvent::Waiting { service, .. } | DeployEvent::ServiceConverged { service } => {
                service
            }
            _ => continue,
        };
        assert!(name.starts_with(&format!("{stack}_")), "{stack}: {event}");
    }
    let before = versions(&specs);

    let (again, _) = deploy_batch(&engine, &specs, &waiting()).await;
    for result in again {
        let report = result.unwrap();
        assert!(report.is_noop(), "{report:?}");
        assert!(report.converged, "{report:?}");
    }
    assert_eq!(
        versions(&specs),
        before,
        "an identical batch wrote to a service"
    );
}

#[tokio::test]
async fn a_stack_with_a_missing_external_network_fails_alone() {
    require_engine();
    let engine = engine().await;
    let (mut specs, _guards) = stacks("alone", 3);
    let bad = unique_name("alonebad");
    let _bad_guard = StackGuard::new(&bad);
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("{bad}-missing");
    specs.insert(
        1,
        spec_from_text(
            &bad,
            dir.path(),
            &format!(
                "services:\n  web:\n    image: {BASE_IMAGE}\n    networks: [outside]\n\
                 networks:\n  outside:\n    external: true\n    name: {missing}\n"
            ),
        ),
    );

    let (results, _) = deploy_batch(&engine, &specs, &detached()).await;
    assert_eq!(results.len(), 4);
    for (spec, result) in specs.iter().zip(results) {
        if spec.name == bad {
            match result {
                Err(Error::ExternalNetworkNotFound { network }) => assert_eq!(network, missing),
                other => panic!("expected a missing network error, got {other:?}"),
            }
            assert_eq!(stack_objects("service", &bad), Vec::<String>::new());
        } else {
            let report = result.unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(report.services.len(), 2, "{report:?}");
            assert_eq!(stack_objects("service", &spec.name).len(), 2);
        }
    }
}

#[tokio::test]
async fn an_unchanged_batch_reads_the_swarm_once_and_sends_nothing_else() {
    require_engine();
    let (specs, _guards) = stacks("calls", 4);
    deploy_batch(&engine().await, &specs, &detached()).await;
    let proxy = RecordingProxy::start();
    let engine = proxy.engine().await;
    let snapshot = [
        "GET /configs",
        "GET /networks",
        "GET /secrets",
        "GET /services",
    ];

    proxy.take();
    let (results, _) = deploy_batch(&engine, &specs, &detached()).await;
    assert!(results.iter().all(|r| r.as_ref().unwrap().is_noop()));
    assert_eq!(proxy.take(), snapshot, "a batch of 4 unchanged stacks");

    // One stack alone reads the same (its services only).
    let report = engine
        .deploy_stack(&specs[0], &detached(), &|_| {})
        .await
        .unwrap();
    assert!(report.is_noop());
    assert_eq!(proxy.take(), snapshot, "one unchanged stack");

    // A change sends exactly what changed.
    let mut changed = specs.clone();
    changed[2] = spec(
        &specs[2].name,
        &compose(vec![
            ("web", with_env(sleeper(), "STACK", "changed")),
            ("api", sleeper()),
        ]),
    );
    let (results, _) = deploy_batch(&engine, &changed, &detached()).await;
    let id = results[2].as_ref().unwrap().services[1].id.clone();
    let mut expected = snapshot.map(str::to_owned).to_vec();
    expected.push(format!("POST /services/{id}/update"));
    expected.sort();
    // Under load the swarm can bump the service's version between the read
    // and the update (it records the update status of the first deploy);
    // voc then re-reads that one service and updates again. Anything more
    // than that one retry is a regression.
    let mut retried = expected.clone();
    retried.push(format!("GET /services/{id}"));
    retried.push(format!("POST /services/{id}/update"));
    retried.sort();
    let sent = proxy.take();
    assert!(
        sent == expected || sent == retried,
        "a batch with one changed service sent {sent:?}, expected {expected:?}"
    );
}

#[tokio::test]
async fn an_unchanged_batch_that_resolves_digests_asks_once_per_image() {
    require_engine();
    let image = format!("{OPEN_REGISTRY}/voc-e2e/{}:1", unique_name("shared"));
    docker(["tag", BASE_IMAGE, &image]).unwrap();
    // Another test may push the same base layer at this moment; a second
    // try finds it there.
    let pushed = (0..3).find_map(|_| docker(["push", &image]).ok());
    let _ = docker(["image", "rm", &image]);
    pushed.unwrap_or_else(|| panic!("pushing {image}"));
    let (mut specs, _guards) = stacks("digest", 3);
    let mut file = compose(vec![("web", sleeper()), ("api", sleeper())]);
    for service in file.services.values_mut() {
        service.image = Some(image.clone());
    }
    for stack in &mut specs {
        *stack = spec(&stack.name, &file);
    }
    let always = DeployOptions {
        resolve_image: ResolveImage::Always,
        ..detached()
    };
    let proxy = RecordingProxy::start();
    let engine = proxy.engine().await;
    deploy_batch(&engine, &specs, &always).await;
    proxy.take();

    let (results, _) = deploy_batch(&engine, &specs, &always).await;
    for result in results {
        let report = result.unwrap();
        assert!(report.is_noop(), "{report:?}");
        assert!(report.services[0].image.contains("@sha256:"), "{report:?}");
    }
    let requests = proxy.take();
    let asked: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /distribution/"))
        .collect();
    assert_eq!(asked.len(), 1, "{requests:?}");
    assert_eq!(requests.len(), 5, "{requests:?}");
}

#[tokio::test]
async fn an_unchanged_deploy_removes_the_old_version_a_detached_deploy_left() {
    require_engine();
    let stack = unique_name("stale");
    let _guard = StackGuard::new(&stack);
    let engine = engine().await;
    let file = |content: &str| {
        let mut service = sleeper();
        // Long enough that the replaced task still runs when the detached
        // deploy looks for unused versions.
        service.stop_grace_period = Some("5s".to_owned());
        service.configs = vec![reference("site")];
        let mut file = compose(vec![("web", service)]);
        file.configs
            .insert("site".into(), file_object(content, None));
        file
    };
    let v1 = spec(&stack, &file("one"));
    let v2 = spec(&stack, &file("two"));
    let (old, new) = (v1.configs[0].name.clone(), v2.configs[0].name.clone());
    deploy(&engine, &v1, &waiting()).await.0.unwrap();

    let (report, _) = deploy(&engine, &v2, &detached()).await;
    assert!(report.unwrap().removed.is_empty());
    let mut both = vec![old.clone(), new.clone()];
    both.sort();
    assert_eq!(
        stack_objects("config", &stack),
        both,
        "the old version went while a task still used it"
    );

    let (results, _) = deploy_batch(&engine, std::slice::from_ref(&v2), &waiting()).await;
    let report = results.into_iter().next().unwrap().unwrap();
    assert!(
        report
            .services
            .iter()
            .all(|s| s.action == ServiceAction::Unchanged),
        "{report:?}"
    );
    assert_eq!(report.removed, [(ObjectKind::Config, old)]);
    assert_eq!(stack_objects("config", &stack), [new]);
}

/// A Unix socket in front of the engine's that records every request going
/// through it (`GET /services`: method and path, without the query or an
/// API version prefix), so a test sees exactly what voc asked.
struct RecordingProxy {
    path: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl RecordingProxy {
    const ENGINE_SOCKET: &str = "/var/run/docker.sock";

    fn start() -> RecordingProxy {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || relay(client, &seen));
            }
        });
        RecordingProxy {
            path,
            requests,
            _dir: dir,
        }
    }

    /// An engine whose requests go through the proxy.
    async fn engine(&self) -> Engine {
        let docker = bollard::Docker::connect_with_unix(
            self.path.to_str().unwrap(),
            120,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
        Engine::from_docker(docker)
    }

    /// The requests recorded since the last call, sorted (concurrent
    /// requests come in any order).
    fn take(&self) -> Vec<String> {
        let mut requests = std::mem::take(&mut *self.requests.lock().unwrap());
        requests.sort();
        requests
    }
}

/// Passes one client connection to the engine and the answers back,
/// recording each request's method and path.
fn relay(client: UnixStream, seen: &Mutex<Vec<String>>) {
    let Ok(upstream) = UnixStream::connect(RecordingProxy::ENGINE_SOCKET) else {
        return;
    };
    let (Ok(mut answers_in), Ok(mut answers_out)) = (upstream.try_clone(), client.try_clone())
    else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut answers_in, &mut answers_out);
        let _ = answers_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut requests_in, mut requests_out) = (client, upstream);
    let mut parser = RequestParser::default();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = match requests_in.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        for request in parser.feed(&buffer[..read]) {
            seen.lock().unwrap().push(request);
        }
        if requests_out.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = requests_out.shutdown(std::net::Shutdown::Write);
}

/// Splits an HTTP/1.1 request stream (keep-alive: several requests one
/// after the other) into requests. Bodies are skipped by `Content-Length`,
/// which is how bollard sends every JSON body.
#[derive(Default)]
struct RequestParser {
    pending: Vec<u8>,
    body_left: usize,
}

impl RequestParser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut requests = Vec::new();
        loop {
            if self.body_left > 0 {
                let skipped = self.body_left.min(self.pending.len());
                self.pending.drain(..skipped);
                self.body_left -= skipped;
                if self.body_left > 0 {
                    return requests;
                }
            }
            let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                return requests;
            };
            let head = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            self.pending.drain(..end + 4);
            let mut lines = head.lines();
            let mut words = lines.next().unwrap_or_default().split(' ');
            let method = words.next().unwrap_or_default();
            let target = words.next().unwrap_or_default();
            let path = target.split('?').next().unwrap_or_default();
            // Strip an API version prefix (`/v1.41/info`).
            let path = match path.strip_prefix("/v1.") {
                Some(rest) => rest.find('/').map_or(path, |slash| &rest[slash..]),
                None => path,
            };
            requests.push(format!("{method} {path}"));
            self.body_left = lines
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok())
                .unwrap_or(0);
        }
    }
}

#[test]
fn the_recording_proxy_splits_keep_alive_requests() {
    let mut parser = RequestParser::default();
    let stream = b"GET /v1.41/info HTTP/1.1\r\nHost: x\r\n\r\n\
                   POST /services/abc/update?version=3 HTTP/1.1\r\ncontent-length: 8\r\n\r\n{\"a\":1}\n\
                   GET /services?filters=x HTTP/1.1\r\n\r\n";
    // Fed in awkward pieces, as a socket may deliver it.
    let mut requests = Vec::new();
    for piece in stream.chunks(7) {
        requests.extend(parser.feed(piece));
    }
    assert_eq!(
        requests,
        ["GET /info", "POST /services/abc/update", "GET /services"]
    );
}
