//! Differential tests: every Compose file of the corpus
//! (`tests/corpus/stacks/NN-topic/`) is deployed twice, once with
//! `docker stack deploy` and once with voc (loader + converter + engine),
//! and what the daemon then reports (`docker service inspect`,
//! `docker network inspect`, `docker secret|config inspect`) must be the
//! same, once normalised.
//!
//! A corpus folder holds `docker-compose.yml` and the files it names, plus
//! optionally `docker-compose.override.yml` (merged over it, as a second
//! `-c`), `vars.json` (interpolation variables: the CLI gets them as its
//! environment, voc as its variables map) and `setup.json` (external
//! `networks`, `secrets`, `configs` and `volumes` to create first and remove
//! afterwards).
//!
//! The two stacks are deployed one after the other (the CLI's is removed
//! first), so explicit names, published ports and fixed subnets do not
//! clash. Normalisation drops what differs between any two deploys (IDs,
//! versions, dates, virtual IPs, allocated ports and subnets), replaces the
//! stack name by `<stack>`, maps network IDs to names, and drops what voc
//! does differently on purpose: secret and config names (voc appends a
//! content hash; objects and references are compared under the CLI's
//! name), the order of several references to one secret or config (random
//! with the CLI) and `io.voc.*` labels.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use voc::compose::{ComposeFile, StackSpec};
use voc_tests::{
    STACK_NAMESPACE_LABEL, StackGuard, docker, docker_json, require_engine, unique_name,
};

/// Declares one test per corpus folder, and the list of covered folders.
macro_rules! corpus {
    ($($test:ident => $dir:literal,)*) => {
        /// Every corpus folder that has a test.
        const CORPUS: &[&str] = &[$($dir),*];
        $(
            #[test]
            fn $test() {
                check_corpus($dir);
            }
        )*
    };
}

corpus! {
    corpus_01_minimal_deploys_like_the_cli => "01-minimal",
    corpus_02_ports_short_deploys_like_the_cli => "02-ports-short",
    corpus_03_ports_long_deploys_like_the_cli => "03-ports-long",
    corpus_04_networks_aliases_deploys_like_the_cli => "04-networks-aliases",
    corpus_05_network_ipam_deploys_like_the_cli => "05-network-ipam",
    corpus_06_external_objects_deploys_like_the_cli => "06-external-objects",
    corpus_07_volumes_deploys_like_the_cli => "07-volumes",
    corpus_08_secrets_deploys_like_the_cli => "08-secrets",
    corpus_09_configs_deploys_like_the_cli => "09-configs",
    corpus_10_healthcheck_deploys_like_the_cli => "10-healthcheck",
    corpus_11_healthcheck_disable_deploys_like_the_cli => "11-healthcheck-disable",
    corpus_12_update_rollback_deploys_like_the_cli => "12-update-rollback",
    corpus_13_restart_policy_deploys_like_the_cli => "13-restart-policy",
    corpus_14_legacy_restart_deploys_like_the_cli => "14-legacy-restart",
    corpus_15_placement_deploys_like_the_cli => "15-placement",
    corpus_16_resources_deploys_like_the_cli => "16-resources",
    corpus_17_modes_deploys_like_the_cli => "17-modes",
    corpus_18_logging_deploys_like_the_cli => "18-logging",
    corpus_19_container_options_deploys_like_the_cli => "19-container-options",
    corpus_20_capabilities_sysctls_ulimits_deploys_like_the_cli => "20-capabilities-sysctls-ulimits",
    corpus_21_dns_extra_hosts_deploys_like_the_cli => "21-dns-extra-hosts",
    corpus_22_interpolation_deploys_like_the_cli => "22-interpolation",
    corpus_23_anchors_merge_deploys_like_the_cli => "23-anchors-merge",
    corpus_24_env_file_deploys_like_the_cli => "24-env-file",
    corpus_25_ignored_keys_deploys_like_the_cli => "25-ignored-keys",
    corpus_26_labels_deploys_like_the_cli => "26-labels",
    corpus_27_endpoint_mode_deploys_like_the_cli => "27-endpoint-mode",
    corpus_28_entrypoint_command_deploys_like_the_cli => "28-entrypoint-command",
    corpus_29_shared_objects_deploys_like_the_cli => "29-shared-objects",
    corpus_30_no_version_deploys_like_the_cli => "30-no-version",
    corpus_31_isolation_and_misc_deploys_like_the_cli => "31-isolation-and-misc",
    corpus_32_credential_spec_deploys_like_the_cli => "32-credential-spec",
    corpus_33_multi_file_deploys_like_the_cli => "33-multi-file",
}

/// The corpus folder.
fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/stacks")
}

#[test]
fn every_corpus_folder_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_root())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("docker-compose.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "add a line to the `corpus!` list for each folder"
    );
    assert!(
        listed.len() >= 25,
        "the corpus must cover at least 25 files"
    );
}

/// One corpus folder: its files and what to prepare for it.
struct Case {
    dir: PathBuf,
    /// The Compose files, in merge order.
    files: Vec<PathBuf>,
    /// Their text, concatenated (to tell written subnets from allocated ones).
    compose_text: String,
    variables: BTreeMap<String, String>,
    setup: Setup,
}

/// External objects a case needs (`setup.json`).
#[derive(Debug, Default)]
struct Setup {
    networks: Vec<String>,
    secrets: Vec<String>,
    configs: Vec<String>,
    volumes: Vec<String>,
}

impl Setup {
    /// `{"networks": [names], "secrets": [...], "configs": [...], "volumes": [...]}`.
    fn parse(text: &str) -> Result<Setup> {
        let value: Value = serde_json::from_str(text)?;
        let Some(map) = value.as_object() else {
            bail!("not an object")
        };
        let mut setup = Setup::default();
        for (key, names) in map {
            let list = match key.as_str() {
                "networks" => &mut setup.networks,
                "secrets" => &mut setup.secrets,
                "configs" => &mut setup.configs,
                "volumes" => &mut setup.volumes,
                other => bail!("unknown key {other:?}"),
            };
            let Some(names) = names.as_array() else {
                bail!("{key} is not a list")
            };
            for name in names {
                list.push(
                    name.as_str()
                        .with_context(|| format!("{key}: {name} is not a string"))?
                        .to_owned(),
                );
            }
        }
        Ok(setup)
    }
}

impl Case {
    fn read(name: &str) -> Result<Case> {
        let dir = corpus_root().join(name);
        let mut files = vec![dir.join("docker-compose.yml")];
        let override_file = dir.join("docker-compose.override.yml");
        if override_file.is_file() {
            files.push(override_file);
        }
        let mut compose_text = String::new();
        for file in &files {
            compose_text +=
                &std::fs::read_to_string(file).with_context(|| format!("reading {file:?}"))?;
        }
        let variables = match std::fs::read_to_string(dir.join("vars.json")) {
            Ok(text) => serde_json::from_str(&text).context("vars.json")?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).context("vars.json"),
        };
        let setup = match std::fs::read_to_string(dir.join("setup.json")) {
            Ok(text) => Setup::parse(&text).context("setup.json")?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Setup::default(),
            Err(e) => return Err(e).context("setup.json"),
        };
        Ok(Case {
            dir,
            files,
            compose_text,
            variables,
            setup,
        })
    }
}

/// Creates a case's external objects (those missing) and removes them when
/// dropped, after the stacks that use them (declare it before their guards).
struct SetupGuard<'a> {
    setup: &'a Setup,
}

impl<'a> SetupGuard<'a> {
    fn create(setup: &'a Setup) -> Result<Self> {
        let guard = SetupGuard { setup };
        for name in &setup.networks {
            if docker(["network", "inspect", name]).is_err() {
                docker([
                    "network",
                    "create",
                    "--driver",
                    "overlay",
                    "--attachable",
                    name,
                ])?;
            }
        }
        for (kind, names) in [("secret", &setup.secrets), ("config", &setup.configs)] {
            for name in names {
                if docker([kind, "inspect", name]).is_err() {
                    let file = tempfile::NamedTempFile::new()?;
                    std::fs::write(file.path(), format!("{kind} {name}\n"))?;
                    docker([kind, "create", name, &file.path().to_string_lossy()])?;
                }
            }
        }
        for name in &setup.volumes {
            docker(["volume", "create", name])?;
        }
        Ok(guard)
    }
}

impl Drop for SetupGuard<'_> {
    fn drop(&mut self) {
        for (kind, names) in [
            ("network", &self.setup.networks),
            ("secret", &self.setup.secrets),
            ("config", &self.setup.configs),
            ("volume", &self.setup.volumes),
        ] {
            for name in names {
                // Tasks may still be letting go of the object: retry a little.
                let mut last = Ok(String::new());
                for _ in 0..50 {
                    last = docker([kind, "rm", name]);
                    if last.is_ok() || docker([kind, "inspect", name]).is_err() {
                        last = Ok(String::new());
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                if let Err(e) = last {
                    eprintln!("setup cleanup: {e:#}");
                }
            }
        }
    }
}

/// Deploys `case` with the docker CLI, as stack `stack`; only the case's
/// variables are in its environment (besides what the CLI itself needs).
fn deploy_with_cli(case: &Case, stack: &str) -> Result<String> {
    let mut cmd = Command::new("docker");
    cmd.env_clear();
    for key in [
        "PATH",
        "HOME",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
        "DOCKER_CONTEXT",
    ] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.envs(&case.variables).current_dir(&case.dir).args([
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "--detach=true",
    ]);
    for file in &case.files {
        cmd.arg("--compose-file").arg(file);
    }
    cmd.arg(stack);
    let out = cmd.output().context("running docker stack deploy")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!(
            "docker stack deploy {stack} failed ({}): {text}",
            out.status
        );
    }
    Ok(text)
}

/// Loads and converts `case` as voc does, for stack `stack`.
fn convert_with_voc(case: &Case, stack: &str) -> Result<(ComposeFile, StackSpec)> {
    let variables: voc::compose::load::Variables = case.variables.clone().into_iter().collect();
    let loaded = voc::compose::load::load_files(&case.files, &variables)
        .map_err(|e| anyhow::anyhow!("loading {:?}:\n{e}", case.files))?;
    for warning in &loaded.warnings {
        eprintln!("voc warning: {warning}");
    }
    let spec = voc::compose::convert(stack, &loaded.file)
        .map_err(|e| anyhow::anyhow!("converting {:?}:\n{e}", case.files))?;
    Ok((loaded.file, spec))
}

/// Deploys `spec` with voc's engine, detached, images as written.
fn deploy_with_voc(spec: &StackSpec) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let engine = voc::engine::Engine::connect().await?;
        let options = voc::engine::DeployOptions {
            resolve_image: voc::engine::ResolveImage::Never,
            prune: false,
            wait: None,
            ..Default::default()
        };
        engine.deploy_stack(spec, &options, &|_| {}).await?;
        // What the live state compares to find hand changes must see none
        // right after voc's own deploy, for every field of the corpus: a
        // false drift would show the stack out of sync, and redeploy a
        // `selfHeal` stack at every drift check.
        let live = engine.read_stack_services().await?;
        for service in &spec.services {
            let have = live
                .iter()
                .find(|s| s.name == service.name)
                .ok_or_else(|| anyhow::anyhow!("service {} is not live", service.name))?;
            let want = voc::engine::watch::comparable_hash(&service.spec);
            if have.comparable_hash != want {
                let inspected = docker_json(["service", "inspect", &service.name])?;
                let live_spec: bollard::models::ServiceSpec =
                    serde_json::from_value(inspected[0]["Spec"].clone())?;
                anyhow::bail!(
                    "service {} would show as changed by hand right after voc deployed it: \
                     the live spec differs from the deployed one at {:?}",
                    service.name,
                    json_differences(
                        &voc::engine::watch::comparable_form(&live_spec),
                        &voc::engine::watch::comparable_form(&service.spec),
                        "",
                    )
                );
            }
        }
        anyhow::Ok(())
    })
}

/// What the daemon reports about a stack, normalised for comparison.
fn snapshot(stack: &str, case: &Case, names: &BTreeMap<String, String>) -> Result<Value> {
    let filter = format!("label={STACK_NAMESPACE_LABEL}={stack}");
    let mut network_names = BTreeMap::new();
    let mut out = Map::new();

    let mut services = Map::new();
    for name in list(&[
        "service",
        "ls",
        "--filter",
        &filter,
        "--format",
        "{{.Name}}",
    ])? {
        // The swarm fills `Endpoint` in shortly after the service is created.
        let mut inspect = voc_tests::wait_for(
            "the service endpoint",
            std::time::Duration::from_secs(20),
            || {
                let inspect = first(docker_json(["service", "inspect", &name])?)?;
                Ok(inspect["Endpoint"]["Spec"]["Mode"]
                    .is_string()
                    .then_some(inspect))
            },
        )?;
        normalise_service(&mut inspect, &mut network_names, names)?;
        services.insert(name, inspect);
    }
    out.insert("services".into(), Value::Object(services));

    let mut networks = Map::new();
    for name in list(&[
        "network",
        "ls",
        "--filter",
        &filter,
        "--format",
        "{{.Name}}",
    ])? {
        let mut inspect = first(docker_json(["network", "inspect", &name])?)?;
        normalise_network(&mut inspect, &case.compose_text);
        networks.insert(name, inspect);
    }
    out.insert("networks".into(), Value::Object(networks));

    for kind in ["secret", "config"] {
        let mut objects = Map::new();
        for name in list(&[kind, "ls", "--filter", &filter, "--format", "{{.Name}}"])? {
            let mut inspect = first(docker_json([kind, "inspect", &name])?)?;
            let shown = names.get(&name).cloned().unwrap_or(name);
            normalise_file_object(&mut inspect, &shown);
            objects.insert(shown, inspect);
        }
        out.insert(format!("{kind}s"), Value::Object(objects));
    }

    let mut value = Value::Object(out);
    replace_stack_name(&mut value, stack);
    Ok(value)
}

fn list(args: &[&str]) -> Result<Vec<String>> {
    Ok(docker(args)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn first(value: Value) -> Result<Value> {
    match value {
        Value::Array(mut items) if items.len() == 1 => Ok(items.remove(0)),
        other => bail!("expected one inspected object, got {other}"),
    }
}

/// Drops per-deploy values from a `docker service inspect` object, names
/// networks instead of giving their IDs, and gives secrets and configs the
/// names in `names` (voc's hashed name to the CLI's).
fn normalise_service(
    service: &mut Value,
    network_names: &mut BTreeMap<String, String>,
    names: &BTreeMap<String, String>,
) -> Result<()> {
    let Some(object) = service.as_object_mut() else {
        bail!("service inspect is not an object")
    };
    for key in [
        "ID",
        "Version",
        "CreatedAt",
        "UpdatedAt",
        "UpdateStatus",
        "PreviousSpec",
        "ServiceStatus",
    ] {
        object.remove(key);
    }
    if let Some(job) = object.get_mut("JobStatus").and_then(Value::as_object_mut) {
        job.remove("LastExecution");
    }
    if let Some(endpoint) = object.get_mut("Endpoint").and_then(Value::as_object_mut) {
        endpoint.remove("VirtualIPs");
        // Ingress ports without a published port get one from the dynamic
        // range, which differs from deploy to deploy.
        for port in endpoint
            .get_mut("Ports")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if port["PublishedPort"]
                .as_u64()
                .is_some_and(|p| (30000..=32767).contains(&p))
            {
                port["PublishedPort"] = Value::from("<allocated>");
            }
        }
    }
    for spec_key in ["Spec", "PreviousSpec"] {
        let Some(spec) = object.get_mut(spec_key) else {
            continue;
        };
        let template = &mut spec["TaskTemplate"];
        if let Some(container) = template
            .get_mut("ContainerSpec")
            .and_then(Value::as_object_mut)
        {
            for (list, id, name) in [
                ("Secrets", "SecretID", "SecretName"),
                ("Configs", "ConfigID", "ConfigName"),
            ] {
                let Some(references) = container.get_mut(list).and_then(Value::as_array_mut) else {
                    continue;
                };
                for reference in references.iter_mut().filter_map(Value::as_object_mut) {
                    reference.remove(id);
                    if let Some(mapped) = reference
                        .get(name)
                        .and_then(Value::as_str)
                        .and_then(|n| names.get(n))
                    {
                        reference.insert(name.to_owned(), Value::from(mapped.clone()));
                    }
                }
                // The CLI orders references to the same object at random
                // (through a Go map): compare them by name, then target.
                references.sort_by_key(|r| (r[name].to_string(), r["File"]["Name"].to_string()));
            }
            // A credential spec names its config by ID.
            if let Some(config) = container
                .get_mut("Privileges")
                .and_then(|p| p.get_mut("CredentialSpec"))
                .and_then(|c| c.get_mut("Config"))
                && let Some(id) = config.as_str().filter(|id| !id.is_empty())
            {
                let name = docker(["config", "inspect", "--format", "{{.Spec.Name}}", id])?
                    .trim()
                    .to_owned();
                *config = Value::from(names.get(&name).cloned().unwrap_or(name));
            }
        }
        for attachment in template
            .get_mut("Networks")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(id) = attachment["Target"].as_str().map(str::to_owned) {
                let name = match network_names.get(&id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = docker(["network", "inspect", "--format", "{{.Name}}", &id])?
                            .trim()
                            .to_owned();
                        network_names.insert(id.clone(), name.clone());
                        name
                    }
                };
                attachment["Target"] = Value::from(name);
            }
        }
    }
    drop_voc_labels(service);
    Ok(())
}

/// Drops per-deploy values from a `docker network inspect` object. The
/// subnets the swarm allocates differ; those written in the Compose file do
/// not and are kept.
fn normalise_network(network: &mut Value, compose_text: &str) {
    if let Some(object) = network.as_object_mut() {
        for key in ["Id", "Created", "Containers", "Peers", "Services", "Status"] {
            object.remove(key);
        }
        if let Some(options) = object.get_mut("Options").and_then(Value::as_object_mut) {
            options.remove("com.docker.network.driver.overlay.vxlanid_list");
        }
        if let Some(configs) = object
            .get_mut("IPAM")
            .and_then(|i| i.get_mut("Config"))
            .and_then(Value::as_array_mut)
        {
            for config in configs.iter_mut().filter_map(Value::as_object_mut) {
                let written = config
                    .get("Subnet")
                    .and_then(Value::as_str)
                    .is_some_and(|s| compose_text.contains(s));
                if !written {
                    config.remove("Subnet");
                    config.remove("Gateway");
                }
            }
        }
    }
    drop_voc_labels(network);
}

/// Drops per-deploy values from a secret or config inspect object; `name`
/// is the name the CLI gives it.
fn normalise_file_object(object: &mut Value, name: &str) {
    if let Some(map) = object.as_object_mut() {
        for key in ["ID", "Version", "CreatedAt", "UpdatedAt"] {
            map.remove(key);
        }
    }
    object["Spec"]["Name"] = Value::from(name);
    drop_voc_labels(object);
}

/// Removes `io.voc.*` keys from every `Labels` map.
fn drop_voc_labels(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "Labels"
                    && let Some(labels) = child.as_object_mut()
                {
                    labels.retain(|k, _| !k.starts_with("io.voc."));
                }
                drop_voc_labels(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_voc_labels),
        _ => {}
    }
}

/// Replaces `stack` by `<stack>` in every string and key.
fn replace_stack_name(value: &mut Value, stack: &str) {
    match value {
        Value::String(s) if s.contains(stack) => *s = s.replace(stack, "<stack>"),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut child) in entries {
                replace_stack_name(&mut child, stack);
                map.insert(key.replace(stack, "<stack>"), child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_stack_name(v, stack)),
        _ => {}
    }
}

/// The first place where `a` and `b` differ: its JSON path and both values.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<(String, Value, Value)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let path = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => first_difference(va, vb, &path),
                    (va, vb) => Some((
                        path,
                        va.cloned().unwrap_or(Value::Null),
                        vb.cloned().unwrap_or(Value::Null),
                    )),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some((path.to_owned(), a.clone(), b.clone())),
    }
}

/// Removes a stack and every volume its tasks made: named ones carry the
/// stack label; anonymous ones are found through the task containers, taken
/// before the swarm removes them (it does not remove their volumes). The
/// `external` volumes are kept.
fn remove_stack(guard: &StackGuard, external: &[String]) -> Result<()> {
    let filter = format!("label={STACK_NAMESPACE_LABEL}={}", guard.name);
    let mut volumes: BTreeSet<String> = BTreeSet::new();
    let containers = list(&["ps", "-aq", "--filter", &filter])?;
    for id in &containers {
        if let Ok(names) = docker([
            "inspect",
            "--format",
            "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}} {{end}}{{end}}",
            id,
        ]) {
            volumes.extend(names.split_whitespace().map(str::to_owned));
        }
    }
    // A loaded swarm can take well over the guard's 30 s to let a network
    // go: wait longer here, forcing the task containers out as they come.
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(120) {
        let _ = docker(["stack", "rm", &guard.name]);
        let ids = list(&["ps", "-aq", "--filter", &filter])?;
        if !ids.is_empty() {
            let _ = docker(
                ["rm", "-f", "-v"]
                    .into_iter()
                    .chain(ids.iter().map(String::as_str)),
            );
        }
        if voc_tests::stack_leftovers(&guard.name)?.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    guard.remove()?;
    // A node still preparing a task when its service went away may create
    // the container (and its volumes) a moment later: keep removing until
    // two checks a second apart find nothing.
    let start = std::time::Instant::now();
    let mut quiet_checks = 0;
    while quiet_checks < 2 {
        let ids = list(&["ps", "-aq", "--filter", &filter])?;
        if !ids.is_empty() {
            let _ = docker(
                ["rm", "-f", "-v"]
                    .into_iter()
                    .chain(ids.iter().map(String::as_str)),
            );
        }
        volumes.extend(list(&["volume", "ls", "-q", "--filter", &filter])?);
        volumes.retain(|v| !external.contains(v));
        // A volume stays busy until its container is gone.
        volumes.retain(|v| {
            docker(["volume", "inspect", v]).is_ok() && docker(["volume", "rm", "-f", v]).is_err()
        });
        quiet_checks = if ids.is_empty() && volumes.is_empty() {
            quiet_checks + 1
        } else {
            0
        };
        if start.elapsed() > std::time::Duration::from_secs(30) {
            bail!(
                "volumes or containers of stack {} left behind: {volumes:?} {ids:?}",
                guard.name
            );
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Ok(())
}

/// Who deploys a corpus file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deployer {
    Cli,
    Voc,
}

/// Deploys `case` as a fresh stack, snapshots it and removes it again.
/// Returns the snapshot and what the deployer printed.
fn deploy_and_snapshot(case: &Case, deployer: Deployer) -> Result<(Value, String)> {
    let stack = unique_name(if deployer == Deployer::Cli {
        "cli"
    } else {
        "voc"
    });
    let guard = StackGuard::new(&stack);
    let result = (|| match deployer {
        Deployer::Cli => {
            let output = deploy_with_cli(case, &stack)?;
            Ok((snapshot(&stack, case, &BTreeMap::new())?, output))
        }
        Deployer::Voc => {
            let (file, spec) = convert_with_voc(case, &stack)?;
            deploy_with_voc(&spec)?;
            // voc names secrets and configs after their content; compare
            // them under the name the CLI gives them: the explicit one, else
            // `<stack>_<key>`.
            let mut names = BTreeMap::new();
            for (objects, declared) in [
                (&spec.secrets, &file.secrets),
                (&spec.configs, &file.configs),
            ] {
                for object in objects.iter().filter(|o| !o.external) {
                    let explicit = declared.get(&object.key).and_then(|d| d.name.clone());
                    names.insert(
                        object.name.clone(),
                        explicit.unwrap_or_else(|| format!("{stack}_{}", object.key)),
                    );
                }
            }
            Ok((snapshot(&stack, case, &names)?, String::new()))
        }
    })();
    remove_stack(&guard, &case.setup.volumes)?;
    result
}

/// Deploys corpus folder `name` with `first` then `second`, and compares.
fn compare_deploys(name: &str, first: Deployer, second: Deployer) {
    require_engine();
    let case = Case::read(name).unwrap();
    let _setup = SetupGuard::create(&case.setup).unwrap();
    let (theirs, output) = deploy_and_snapshot(&case, first).unwrap();
    let (ours, _) = deploy_and_snapshot(&case, second).unwrap();
    let services = |snapshot: &Value| snapshot["services"].as_object().map_or(0, Map::len);
    assert!(
        services(&theirs) > 0,
        "{name}: the {first:?} deploy made no service: {theirs}"
    );
    // VOC_DIFF_SHOW=1 prints both snapshots, to look at what is compared.
    if std::env::var_os("VOC_DIFF_SHOW").is_some() {
        eprintln!(
            "{name} {first:?}: {}",
            serde_json::to_string_pretty(&theirs).unwrap()
        );
        eprintln!(
            "{name} {second:?}: {}",
            serde_json::to_string_pretty(&ours).unwrap()
        );
    }
    if let Some((path, a, b)) = first_difference(&theirs, &ours, "") {
        panic!(
            "{name}: the {second:?} stack differs from the {first:?} stack at {path}\n--- {first:?}:\n{}\n--- {second:?}:\n{}\n\
             --- {first:?} output:\n{output}\n--- whole {first:?} snapshot:\n{}\n--- whole {second:?} snapshot:\n{}",
            serde_json::to_string_pretty(&a).unwrap(),
            serde_json::to_string_pretty(&b).unwrap(),
            serde_json::to_string_pretty(&theirs).unwrap(),
            serde_json::to_string_pretty(&ours).unwrap(),
        );
    }
}

/// Deploys corpus folder `name` with the CLI and with voc, and compares.
fn check_corpus(name: &str) {
    compare_deploys(name, Deployer::Cli, Deployer::Voc);
}

/// The comparison must not see differences between two identical deploys,
/// or every corpus test would be noise. The files used here have no fixed
/// names, ports or subnets, so they do not clash with their own corpus
/// tests running at the same time.
#[test]
fn two_cli_deploys_of_the_same_file_look_the_same() {
    for name in ["29-shared-objects", "17-modes", "04-networks-aliases"] {
        compare_deploys(name, Deployer::Cli, Deployer::Cli);
    }
}

/// A file voc refuses must leave nothing in the swarm, where the CLI gets
/// half-way: it creates the network and the secrets, then fails on a
/// service and leaves them behind.
#[test]
fn invalid_files_are_refused_before_anything_is_created_where_the_cli_leaves_objects_behind() {
    require_engine();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/invalid");
    // (folder, what voc's error must mention)
    let cases = [
        ("undefined-secret", "nope"),
        ("invalid-service-name", "web."),
    ];
    for (folder, mentioned) in cases {
        let compose = root.join(folder).join("docker-compose.yml");
        let case = Case {
            dir: root.join(folder),
            compose_text: std::fs::read_to_string(&compose).unwrap(),
            files: vec![compose],
            variables: BTreeMap::new(),
            setup: Setup::default(),
        };

        let cli_stack = unique_name("cli");
        let cli_guard = StackGuard::new(&cli_stack);
        assert!(
            deploy_with_cli(&case, &cli_stack).is_err(),
            "{folder}: the CLI accepted the file"
        );
        let left = voc_tests::stack_leftovers(&cli_stack).unwrap();
        assert!(
            left.contains(&format!("network {cli_stack}_default"))
                && left.contains(&format!("secret {cli_stack}_token")),
            "{folder}: the CLI was expected to leave its network and secret behind, left {left:?}"
        );
        remove_stack(&cli_guard, &[]).unwrap();

        let voc_stack = unique_name("voc");
        let voc_guard = StackGuard::new(&voc_stack);
        let refused = match convert_with_voc(&case, &voc_stack) {
            Ok((_, spec)) => {
                // Should conversion ever accept the file, the engine must
                // still refuse it before creating anything.
                let deployed = deploy_with_voc(&spec);
                assert!(deployed.is_err(), "{folder}: voc deployed the file");
                deployed.unwrap_err()
            }
            Err(e) => e,
        };
        let message = format!("{refused:#}");
        assert!(
            message.contains(mentioned),
            "{folder}: voc's error does not mention {mentioned:?}: {message}"
        );
        assert_eq!(
            voc_tests::stack_leftovers(&voc_stack).unwrap(),
            Vec::<String>::new(),
            "{folder}: voc left objects"
        );
        remove_stack(&voc_guard, &[]).unwrap();
    }
}

#[test]
fn differences_are_found_and_located() {
    let a: Value = serde_json::json!({"a": {"b": [1, 2], "c": "x"}, "d": 1});
    let same = a.clone();
    assert_eq!(first_difference(&a, &same, ""), None);
    let changed: Value = serde_json::json!({"a": {"b": [1, 3], "c": "x"}, "d": 1});
    assert_eq!(
        first_difference(&a, &changed, ""),
        Some((".a.b[1]".into(), 2.into(), 3.into()))
    );
    let missing: Value = serde_json::json!({"a": {"b": [1, 2]}, "d": 1});
    assert_eq!(
        first_difference(&a, &missing, ""),
        Some((".a.c".into(), "x".into(), Value::Null))
    );
    let longer: Value = serde_json::json!({"a": {"b": [1, 2, 3], "c": "x"}, "d": 1});
    assert!(first_difference(&a, &longer, "").is_some_and(|(p, _, _)| p == ".a.b"));
}

#[test]
fn stack_names_are_replaced_in_keys_and_values() {
    let mut v: Value = serde_json::json!({"cli-x1_web": {"Name": "cli-x1_web", "Labels": {"io.voc.commit": "1", "k": "cli-x1"}}});
    replace_stack_name(&mut v, "cli-x1");
    drop_voc_labels(&mut v);
    assert_eq!(
        v,
        serde_json::json!({"<stack>_web": {"Name": "<stack>_web", "Labels": {"k": "<stack>"}}})
    );
}

/// Where two JSON values differ: `path: live vs deployed`.
fn json_differences(live: &Value, deployed: &Value, path: &str) -> Vec<String> {
    match (live, deployed) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .flat_map(|key| {
                    json_differences(
                        a.get(key).unwrap_or(&Value::Null),
                        b.get(key).unwrap_or(&Value::Null),
                        &format!("{path}.{key}"),
                    )
                })
                .collect()
        }
        _ if live == deployed => Vec::new(),
        _ => vec![format!("{path}: {live} vs {deployed}")],
    }
}
