//! Parity of voc's Compose loader with the docker CLI.
//!
//! Every `tests/corpus/loader/NAME.yml` is loaded twice: by
//! `docker stack config -c NAME.yml` (the CLI's own loader, with the case's
//! variables as its whole environment, since it reads its environment) and
//! by `voc::compose::load_files` with the same variables. Both must accept
//! or both reject; for accepted files the values that reach a swarm spec
//! (images, commands, environment, ports, volumes with absolute sources,
//! healthchecks, deploy, top-level objects...) are compared field by field.
//!
//! Each case has a sidecar `NAME.env.json`:
//! - `expect`: `"valid"` or `"invalid"` (so a case cannot pass by both
//!   sides failing for an unrelated reason);
//! - `variables`: the variables (optional);
//! - `also`: more Compose files merged after this one (optional);
//! - `problem`: a text voc's error must contain (invalid cases);
//! - `voc_stricter`: why voc rejects a file the CLI's loader accepts (the
//!   CLI fails later, while deploying, or not at all); then the CLI must
//!   accept and voc reject.
//!
//! `docker stack config` needs no engine, only the CLI.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};
use voc::compose::{Variables, load_files};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/loader");

/// One corpus case.
struct Case {
    name: String,
    files: Vec<PathBuf>,
    variables: Variables,
    expect_valid: bool,
    voc_stricter: Option<String>,
    problem: Option<String>,
}

fn cases() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(CORPUS)
        .expect("the loader corpus exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".yml").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let sidecar = Path::new(CORPUS).join(format!("{name}.env.json"));
            let text = std::fs::read_to_string(&sidecar).unwrap_or_else(|e| {
                panic!("case {name} needs its sidecar {}: {e}", sidecar.display())
            });
            let meta: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", sidecar.display()));
            let expect_valid = match meta["expect"].as_str() {
                Some("valid") => true,
                Some("invalid") => false,
                other => panic!(
                    "{}: expect must be \"valid\" or \"invalid\", not {other:?}",
                    sidecar.display()
                ),
            };
            let mut files = vec![Path::new(CORPUS).join(format!("{name}.yml"))];
            for also in meta["also"].as_array().into_iter().flatten() {
                files.push(Path::new(CORPUS).join(also.as_str().unwrap()));
            }
            let variables = meta["variables"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            Case {
                name,
                files,
                variables,
                expect_valid,
                voc_stricter: meta["voc_stricter"].as_str().map(str::to_owned),
                problem: meta["problem"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// `docker stack config` on the case: its YAML output, or its error.
fn cli_config(case: &Case) -> Result<Value, String> {
    let mut command = Command::new("docker");
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .args(["stack", "config"]);
    for file in &case.files {
        command.arg("-c").arg(file);
    }
    command.envs(&case.variables);
    let output = command.output().expect("the docker CLI runs");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let text = String::from_utf8(output.stdout).expect("docker stack config prints UTF-8");
    Ok(yaml_serde::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: cannot parse the CLI's output: {e}\n{text}", case.name)))
}

/// What one case did wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let cli = cli_config(case);
    let voc = load_files(&case.files, &case.variables);
    match (&case.voc_stricter, case.expect_valid, cli, voc) {
        (Some(_), true, ..) => Some("a voc_stricter case must expect \"invalid\"".into()),
        (Some(_), false, Ok(_), Err(error)) | (None, false, Err(_), Err(error)) => {
            let text = error.to_string();
            match &case.problem {
                Some(wanted) if !text.contains(wanted.as_str()) => {
                    Some(format!("voc rejects it, but not for {wanted:?}:\n{text}"))
                }
                _ => None,
            }
        }
        (Some(why), false, Err(cli), _) => Some(format!(
            "marked voc_stricter ({why}) but the CLI rejects it too: {cli}"
        )),
        (_, false, cli, Ok(_)) => Some(format!(
            "voc accepts an invalid file (CLI: {})",
            describe(&cli)
        )),
        (None, false, Ok(_), Err(error)) => Some(format!(
            "the CLI accepts it but voc rejects it (mark it voc_stricter if that is deliberate):\n{error}"
        )),
        (None, true, Err(cli), voc) => Some(format!(
            "the CLI rejects a case expected valid: {cli} (voc: {})",
            voc.err().map_or("accepts".into(), |e| e.to_string())
        )),
        (None, true, Ok(_), Err(error)) => Some(format!("voc rejects a valid file:\n{error}")),
        (None, true, Ok(cli), Ok(loaded)) => {
            let voc = serde_json::to_value(&loaded.file).expect("the model serialises");
            let (cli, voc) = (canonical_from_cli(&cli), canonical_from_voc(&voc));
            if std::env::var("LOADER_PARITY_DUMP").as_deref() == Ok(case.name.as_str()) {
                eprintln!("CLI: {cli:#}\nvoc: {voc:#}");
            }
            let services = cli["services"].as_object().map_or(0, Map::len);
            if services == 0 {
                return Some("the CLI's output has no services: nothing was compared".into());
            }
            let differences = diff(&cli, &voc);
            (!differences.is_empty()).then(|| {
                format!(
                    "values differ (path: CLI | voc):\n{}",
                    differences.join("\n")
                )
            })
        }
    }
}

fn describe(cli: &Result<Value, String>) -> String {
    match cli {
        Ok(_) => "accepts".into(),
        Err(e) => format!("rejects: {e}"),
    }
}

#[test]
fn voc_loads_every_corpus_file_like_docker_stack_config() {
    let cases = cases();
    let mut report = String::new();
    for case in &cases {
        if let Some(failure) = check(case) {
            writeln!(report, "--- {}: {failure}", case.name).unwrap();
        }
    }
    assert!(report.is_empty(), "loader parity failures:\n{report}");
}

#[test]
fn the_corpus_covers_valid_invalid_and_stricter_cases() {
    let cases = cases();
    let valid = cases.iter().filter(|c| c.expect_valid).count();
    let stricter = cases.iter().filter(|c| c.voc_stricter.is_some()).count();
    let invalid = cases.len() - valid - stricter;
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    assert!(
        valid >= 10 && invalid >= 10 && stricter >= 4,
        "{valid} valid, {invalid} invalid, {stricter} stricter"
    );
}

#[test]
fn the_comparison_reports_every_difference_and_ignores_omitted_defaults() {
    let cli = json!({"services": {"web": {"image": "a", "ports": [{"target": 80, "published": 8080}],
        "environment": {"A": null}, "deploy": {"restart_policy": {"delay": "1m30s"}}}}});
    let same = json!({"services": {"web": {"image": "a", "read_only": false,
        "ports": [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}],
        "environment": {"A": null}, "deploy": {"restart_policy": {"delay": "90s"}}}}});
    assert_eq!(
        diff(&canonical_from_cli(&cli), &canonical_from_voc(&same)),
        Vec::<String>::new()
    );
    let other = json!({"services": {"web": {"image": "b", "ports": [{"target": 80, "published": 8081}],
        "environment": {"A": ""}, "deploy": {"restart_policy": {"delay": "1m"}}}}});
    assert_eq!(
        diff(&canonical_from_cli(&cli), &canonical_from_voc(&other)),
        [
            "services.web.deploy.restart_policy.delay: 90.0 | 60.0",
            "services.web.environment.A: null | \"\"",
            "services.web.image: \"a\" | \"b\"",
            "services.web.ports[0].published: 8080 | 8081",
        ]
    );
}

/// The values that matter, in one shape for both sides: absent, null,
/// false, empty lists and empty maps are all left out (Go's `omitempty`),
/// defaults are made explicit, durations are seconds, sizes are bytes.
fn canonical_from_cli(cli: &Value) -> Value {
    let services = entries(&cli["services"])
        .map(|(name, service)| (name.clone(), canonical_service(service)))
        .collect::<Map<_, _>>();
    top_level(cli, services)
}

fn canonical_from_voc(voc: &Value) -> Value {
    let services = entries(&voc["services"])
        .map(|(name, service)| (name.clone(), canonical_service(service)))
        .collect::<Map<_, _>>();
    top_level(voc, services)
}

fn top_level(root: &Value, services: Map<String, Value>) -> Value {
    let objects = |section: &str, fields: &[&str]| -> Value {
        entries(&root[section])
            .map(|(key, object)| {
                let mut canonical = pick(object, fields);
                if let Some(ipam) = object.get("ipam").filter(|i| !i.is_null()) {
                    let subnets: Vec<Value> = ipam
                        .get("subnets")
                        .or_else(|| ipam.get("config"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|s| s.get("subnet").cloned().unwrap_or_else(|| s.clone()))
                        .collect();
                    canonical.insert("subnets".into(), Value::Array(subnets));
                    canonical.insert("ipam_driver".into(), ipam["driver"].clone());
                }
                (key.clone(), prune(Value::Object(canonical)))
            })
            .collect()
    };
    prune(json!({
        "services": services,
        "networks": objects("networks", &["name", "external", "driver", "driver_opts", "internal", "attachable", "labels"]),
        "volumes": objects("volumes", &["name", "external", "driver", "driver_opts", "labels"]),
        "secrets": objects("secrets", &["name", "external", "file", "labels", "driver", "driver_opts", "template_driver"]),
        "configs": objects("configs", &["name", "external", "file", "labels", "template_driver"]),
    }))
}

fn canonical_service(service: &Value) -> Value {
    let mut out = pick(
        service,
        &[
            "image",
            "command",
            "entrypoint",
            "labels",
            "hostname",
            "user",
            "working_dir",
            "stop_signal",
            "cap_add",
            "cap_drop",
            "sysctls",
            "init",
            "dns",
            "dns_search",
            "extra_hosts",
            "read_only",
            "tty",
            "stdin_open",
            "logging",
            "tmpfs",
            "isolation",
            "credential_spec",
            "restart",
        ],
    );
    out.insert("environment".into(), service["environment"].clone());
    out.insert(
        "stop_grace_period".into(),
        seconds(&service["stop_grace_period"]),
    );
    let ports: Vec<Value> = array(&service["ports"])
        .map(|p| {
            json!({
                "target": p["target"],
                "published": p.get("published").filter(|v| v.as_u64() != Some(0)).cloned().unwrap_or(Value::Null),
                "protocol": p.get("protocol").filter(|v| !v.is_null()).cloned().unwrap_or(json!("tcp")),
                "mode": p.get("mode").filter(|v| !v.is_null()).cloned().unwrap_or(json!("ingress")),
            })
        })
        .collect();
    out.insert("ports".into(), Value::Array(ports));
    let volumes: Vec<Value> = array(&service["volumes"])
        .map(|v| {
            json!({
                "type": v["type"],
                "source": v["source"],
                "target": v["target"],
                "read_only": v["read_only"],
                "consistency": v["consistency"],
                "propagation": v.get("bind_propagation").cloned().unwrap_or_else(|| v["bind"]["propagation"].clone()),
                "nocopy": v.get("volume_nocopy").cloned().unwrap_or_else(|| v["volume"]["nocopy"].clone()),
                "tmpfs_size": v.get("tmpfs_size").cloned().unwrap_or_else(|| v["tmpfs"]["size"].clone()),
            })
        })
        .collect();
    out.insert("volumes".into(), Value::Array(volumes));
    for key in ["secrets", "configs"] {
        let references: Vec<Value> = array(&service[key])
            .map(|r| pick(r, &["source", "target", "uid", "gid", "mode"]).into())
            .collect();
        out.insert(key.into(), Value::Array(references));
    }
    let networks: Map<String, Value> = entries(&service["networks"])
        .map(|(name, options)| {
            (
                name.clone(),
                pick(
                    options,
                    &["aliases", "ipv4_address", "ipv6_address", "driver_opts"],
                )
                .into(),
            )
        })
        .collect();
    out.insert("networks".into(), Value::Object(networks));
    let ulimits: Map<String, Value> = entries(&service["ulimits"])
        .map(|(name, limit)| {
            let (soft, hard) = match limit {
                Value::Number(n) => (json!(n), json!(n)),
                _ => (limit["soft"].clone(), limit["hard"].clone()),
            };
            (name.clone(), json!({ "soft": soft, "hard": hard }))
        })
        .collect();
    out.insert("ulimits".into(), Value::Object(ulimits));
    let healthcheck = &service["healthcheck"];
    if !healthcheck.is_null() {
        let test = if healthcheck["disable"] == json!(true) {
            json!(["NONE"])
        } else {
            healthcheck["test"].clone()
        };
        out.insert(
            "healthcheck".into(),
            json!({
                "test": test,
                "interval": seconds(&healthcheck["interval"]),
                "timeout": seconds(&healthcheck["timeout"]),
                "start_period": seconds(&healthcheck["start_period"]),
                "start_interval": seconds(&healthcheck["start_interval"]),
                "retries": healthcheck["retries"],
            }),
        );
    }
    out.insert("deploy".into(), canonical_deploy(&service["deploy"]));
    prune(Value::Object(out))
}

fn canonical_deploy(deploy: &Value) -> Value {
    if deploy.is_null() {
        return Value::Null;
    }
    let update = |config: &Value| -> Value {
        if config.is_null() {
            return Value::Null;
        }
        json!({
            "parallelism": config["parallelism"],
            "delay": seconds(&config["delay"]),
            "failure_action": config["failure_action"],
            "monitor": seconds(&config["monitor"]),
            "max_failure_ratio": config["max_failure_ratio"],
            "order": config["order"],
        })
    };
    let limit = |limit: &Value| -> Value {
        if limit.is_null() {
            return Value::Null;
        }
        let memory = match &limit["memory"] {
            Value::String(bytes) => json!(bytes.parse::<i64>().unwrap()),
            other => other.clone(),
        };
        let generic: Vec<Value> = array(&limit["generic_resources"])
            .map(|g| {
                let spec = if g["discrete_resource_spec"].is_null() {
                    g
                } else {
                    &g["discrete_resource_spec"]
                };
                json!({ "kind": spec["kind"], "value": spec["value"] })
            })
            .collect();
        json!({ "cpus": limit["cpus"], "memory": memory, "pids": limit["pids"], "generic_resources": generic })
    };
    let restart = &deploy["restart_policy"];
    let placement = &deploy["placement"];
    let preferences: Vec<Value> = array(&placement["preferences"])
        .map(|p| p.get("spread").cloned().unwrap_or_else(|| p.clone()))
        .collect();
    json!({
        "mode": deploy["mode"],
        "replicas": deploy["replicas"],
        "labels": deploy["labels"],
        "endpoint_mode": deploy["endpoint_mode"],
        "update_config": update(&deploy["update_config"]),
        "rollback_config": update(&deploy["rollback_config"]),
        "limits": limit(&deploy["resources"]["limits"]),
        "reservations": limit(&deploy["resources"]["reservations"]),
        "restart_policy": if restart.is_null() { Value::Null } else { json!({
            "condition": restart["condition"],
            "delay": seconds(&restart["delay"]),
            "max_attempts": restart["max_attempts"],
            "window": seconds(&restart["window"]),
        })},
        "constraints": placement["constraints"],
        "preferences": preferences,
        "max_replicas_per_node": placement["max_replicas_per_node"],
    })
}

/// The listed fields of an object that are set.
fn pick(object: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| object.get(*f).map(|v| ((*f).to_owned(), v.clone())))
        .collect()
}

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

fn array(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// A Go duration (`1m30s`, `500ms`) as seconds.
fn seconds(value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(next) = chars.peek().filter(|n| n.is_alphabetic()) {
            unit.push(*next);
            chars.next();
        }
        let scale = match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => panic!("unknown unit in duration {text}"),
        };
        total += number.parse::<f64>().unwrap() * scale;
        number.clear();
    }
    if !number.is_empty() {
        total += number.parse::<f64>().unwrap();
    }
    json!((total * 1e9).round() / 1e9)
}

/// Removes null, false, "", 0, empty lists and maps: what Go's
/// `omitempty` leaves out. The values of string maps (`environment`,
/// `labels`...) are kept as they are: there `null` and `""` mean something.
fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let map: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| {
                    let v = if is_string_map(&k) { v } else { prune(v) };
                    (k, v)
                })
                .filter(|(_, v)| !is_empty(v))
                .collect();
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

fn is_string_map(key: &str) -> bool {
    matches!(
        key,
        "environment" | "labels" | "sysctls" | "options" | "driver_opts"
    )
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// Every difference between two canonical trees, as `path: cli | voc`.
fn diff(cli: &Value, voc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", cli, voc, &mut out);
    out
}

fn diff_at(path: &str, cli: &Value, voc: &Value, out: &mut Vec<String>) {
    match (cli, voc) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeMap<&String, ()> = a.keys().chain(b.keys()).map(|k| (k, ())).collect();
            for key in keys.keys() {
                let child = if path.is_empty() {
                    (*key).clone()
                } else {
                    format!("{path}.{key}")
                };
                diff_at(
                    &child,
                    a.get(*key).unwrap_or(&Value::Null),
                    b.get(*key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_at(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} | {b}")),
    }
}
