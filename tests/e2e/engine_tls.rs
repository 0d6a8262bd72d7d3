//! voc finds a remote engine the way the docker CLI does: `DOCKER_HOST`
//! with `tcp://`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (the original
//! voc's remote mode). `scripts/engine-up.sh` serves the local engine over
//! mutual TLS on 127.0.0.1:2376 with certificates it makes.

use std::path::Path;
use std::process::{Command, Output};

use voc_tests::{StackGuard, docker_json, require_engine, unique_name, voc_binary};

const TLS_HOST: &str = "tcp://127.0.0.1:2376";
const CLIENT_CERTS: &str = "/var/lib/voc-test/tls/client";

fn voc_over_tls(cert_path: &Path, args: &[&str]) -> Output {
    Command::new(voc_binary().unwrap())
        .args(args)
        .env("DOCKER_HOST", TLS_HOST)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", cert_path)
        .output()
        .unwrap()
}

#[test]
fn a_stack_deployed_over_tls_is_in_the_engine() {
    require_engine();
    let name = unique_name("tls");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(
        &file,
        format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: {}\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 1s\n",
            voc_tests::BASE_IMAGE
        ),
    )
    .unwrap();
    let out = voc_over_tls(
        Path::new(CLIENT_CERTS),
        &[
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "--detach",
            "-c",
            file.to_str().unwrap(),
            &name,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Seen through the local socket: the same engine.
    let service = docker_json(["service", "inspect", &format!("{name}_web")]).unwrap();
    assert_eq!(
        service[0]["Spec"]["Labels"]["com.docker.stack.namespace"],
        name.as_str()
    );

    let out = voc_over_tls(Path::new(CLIENT_CERTS), &["stack", "ls"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&name));
}

#[test]
fn a_client_without_the_right_certificates_is_refused_with_a_clear_error() {
    require_engine();
    // Certificates from another CA: the engine's certificate cannot be
    // verified, and the engine would refuse the client's anyway.
    let other = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(other.path())
            .output()
            .unwrap()
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=other",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
    ]);
    std::fs::copy(other.path().join("cert.pem"), other.path().join("ca.pem")).unwrap();

    let out = voc_over_tls(other.path(), &["stack", "ls"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error:"), "{stderr}");

    // A missing certificate folder names the file it looked for.
    let out = voc_over_tls(Path::new("/nonexistent/voc-certs"), &["stack", "ls"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/nonexistent/voc-certs/ca.pem"), "{stderr}");
}
