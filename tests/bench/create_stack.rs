//! `createStack` benchmark (issue 4, section 7): the mutation's round trip
//! end to end, over HTTP against a real `voc serve` (render the
//! definition, validate the options and the rendered file, encrypt the
//! secret, commit, push to a local bare repo, answer). Target: median
//! under 150 ms.
//!
//! Run with `cargo bench -p voc-tests --bench create_stack` (it builds
//! `target/release/voc` itself). [`CALLS`] sequential creations on
//! distinct names, after one warm-up call; min, median and p90 are
//! printed. The stacks target `void`, an engine that does not exist: the
//! deploy comes after the answer and is not what is measured, and this
//! keeps the machine quiet while timing (nothing is deployed, nothing is
//! left to remove).

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::json;
use voc_tests::server::{ServerOptions, VocServer, bare_repo_with};

/// How many creations are timed.
const CALLS: usize = 30;
/// The target of the median.
const TARGET: Duration = Duration::from_millis(150);

const META: &str = r#"{
  "title": "Web",
  "version": "1.0.0",
  "options": {
    "type": "object",
    "required": ["password"],
    "properties": {
      "replicas": { "type": "integer", "minimum": 1, "maximum": 5, "default": 2 },
      "greeting": { "type": "string", "default": "hello" },
      "password": { "type": "string", "writeOnly": true }
    }
  }
}
"#;

const TEMPLATE: &str = r#"services:
  web:
    image: voc-test/busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: {{ options.greeting }}
      PASSWORD: {{ options.password }}
    stop_grace_period: 1s
    deploy:
      replicas: {{ options.replicas }}
  worker:
    image: voc-test/busybox:latest
    command: ["sleep", "3600"]
    stop_grace_period: 1s
"#;

const CREATE: &str =
    "mutation($i: CreateStackInput!) { createStack(input: $i) { commit created } }";

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(
        dir.path(),
        &[
            ("definitions/web/definition.json", META),
            ("definitions/web/docker-compose.yml.tera", TEMPLATE),
        ],
    )?;
    let server = VocServer::start(ServerOptions {
        repo_url: Some(bare.to_string_lossy().into_owned()),
        config: "[targets.void]\nhost = \"tcp://127.0.0.1:9\"\n".to_owned(),
        ..ServerOptions::default()
    })?;
    let client = server.admin()?;
    let create = |name: &str| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let data = client
            .data(
                CREATE,
                json!({"i": {"name": name, "definition": "web", "target": "void",
                              "options": {"replicas": 3, "greeting": format!("hi {name}"), "password": "s3cret"}}}),
            )
            .with_context(|| format!("createStack {name}"))?;
        let elapsed = started.elapsed();
        ensure!(data["createStack"]["created"] == true, "{name}: {data}");
        Ok(elapsed)
    };
    create("warm-up")?;
    let mut times = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        times.push(create(&format!("bench-{i}"))?);
    }
    let commits = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&bare)
        .args(["rev-list", "--count", "main"])
        .output()?;
    let count: usize = String::from_utf8_lossy(&commits.stdout).trim().parse()?;
    if count != CALLS + 2 {
        bail!("expected {} commits on main, found {count}", CALLS + 2);
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times[CALLS / 2];
    let p90 = times[(CALLS * 9) / 10];
    println!(
        "createStack end to end ({CALLS} sequential calls, local bare repo): min {:.1} ms, median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(median),
        ms(p90),
        ms(times[CALLS - 1])
    );
    println!(
        "target: median under {} ms: {}",
        TARGET.as_millis(),
        if median < TARGET { "met" } else { "NOT met" }
    );
    if median >= TARGET {
        bail!("the median {:.1} ms is over the target", ms(median));
    }
    Ok(())
}
