//! Stack definitions written back to git through the API (issue 4,
//! sections 3 and 4), against a real `voc serve` following a local bare
//! repo: what `createStack` commits (two files, authored by the caller, the
//! `writeOnly` value only encrypted) and deploys, bad input refused with
//! nothing committed, option values that cannot change the rendered YAML,
//! the edits of an existing stack (update, upgrade, enable, roll back,
//! delete), and twenty concurrent creations that all land.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use voc_tests::server::{GraphqlClient, ServerOptions, VocServer, bare_repo_with};
use voc_tests::{StackGuard, require_engine, unique_name, wait_for};

/// A definition small enough to deploy here: busybox sleeping, a free-text
/// option, a pattern-restricted one, and a `writeOnly` password.
pub const SLEEPER_META: &str = r#"{
  "title": "Sleeper",
  "description": "A busybox that sleeps, for tests",
  "version": "1.0.0",
  "options": {
    "type": "object",
    "required": ["password"],
    "properties": {
      "replicas": { "type": "integer", "minimum": 1, "maximum": 3, "default": 1 },
      "greeting": { "type": "string", "default": "hello" },
      "tag": { "type": "string", "pattern": "^[a-z0-9.]+$", "default": "latest" },
      "password": { "type": "string", "writeOnly": true }
    }
  }
}
"#;

/// The template of the sleeper definition.
pub const SLEEPER_TEMPLATE: &str = r#"services:
  app:
    image: {{ "voc-test/busybox:" ~ options.tag }}
    command: ["sleep", "3600"]
    environment:
      GREETING: {{ options.greeting }}
      PASSWORD: {{ options.password }}
    stop_grace_period: 1s
    deploy:
      replicas: {{ options.replicas }}
"#;

/// The files of a conf repo holding only the sleeper definition.
pub fn sleeper_repo_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("definitions/sleeper/definition.json", SLEEPER_META),
        (
            "definitions/sleeper/docker-compose.yml.tera",
            SLEEPER_TEMPLATE,
        ),
        ("README.md", "a conf repo for tests\n"),
    ]
}

pub const CREATE: &str = "mutation($i: CreateStackInput!) { createStack(input: $i) { stack commit created jobId warnings } }";
const UPDATE: &str = "mutation($n: String!, $i: UpdateStackInput!) { updateStack(name: $n, input: $i) { stack commit created jobId warnings } }";
const UPGRADE: &str =
    "mutation($n: String!) { upgradeStack(name: $n, message: \"newer\") { stack commit created } }";
const DELETE: &str =
    "mutation($n: String!) { deleteStack(name: $n) { stack commit created jobId } }";
const ENABLE: &str = "mutation($n: String!, $e: Boolean!) { setStackEnabled(name: $n, enabled: $e) { stack commit created jobId } }";
const ROLLBACK: &str = "mutation($n: String!, $c: String!) { rollbackStack(name: $n, commit: $c) { stack commit created jobId } }";
const PREVIEW: &str = "mutation($d: String!, $o: JSON!, $n: String) { previewStack(definition: $d, options: $o, name: $n) { valid compose warnings problems { field file line message } } }";
const UPGRADE_DIFF: &str = "query($n: String!) { stackUpgradeDiff(name: $n) }";

/// A server following a new bare repo made of `files`, with an extra
/// target `void` that no engine answers at (stacks created there are
/// committed but never run, so tests about git stay quiet).
pub struct EditServer {
    pub server: VocServer,
    pub bare: PathBuf,
    _dir: tempfile::TempDir,
}

impl EditServer {
    pub fn start(files: &[(&str, &str)]) -> Result<EditServer> {
        let dir = tempfile::tempdir()?;
        let bare = bare_repo_with(dir.path(), files)?;
        let server = VocServer::start(ServerOptions {
            repo_url: Some(bare.to_string_lossy().into_owned()),
            config: "[targets.void]\nhost = \"tcp://127.0.0.1:9\"\n".to_owned(),
            // Soon enough for a test to see a commit pushed by someone else.
            env: vec![("VOC_POLL_INTERVAL".to_owned(), "2s".to_owned())],
        })?;
        Ok(EditServer {
            server,
            bare,
            _dir: dir,
        })
    }

    /// `git --git-dir <bare> <args>`'s standard output.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        git_in(&self.bare, args)
    }

    /// The branch head of the bare repo.
    pub fn head(&self) -> Result<String> {
        Ok(self.git(&["rev-parse", "main"])?.trim().to_owned())
    }

    /// A file of the bare repo at `rev`, or `None` when it is not there.
    pub fn file_at(&self, rev: &str, path: &str) -> Option<String> {
        self.git(&["show", &format!("{rev}:{path}")]).ok()
    }
}

/// `git --git-dir <bare> <args>`'s standard output; an error with git's
/// stderr when it fails.
pub fn git_in(bare: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(args)
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Pushes `files` to the bare repo's `main` as someone else would.
pub fn push_as_someone_else(bare: &Path, files: &[(&str, &str)], message: &str) -> Result<()> {
    let work = tempfile::tempdir()?;
    let git = |args: &[&str]| -> Result<()> {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=other",
                "-c",
                "user.email=other@example.org",
            ])
            .args(args)
            .current_dir(work.path())
            .output()?;
        if !output.status.success() {
            bail!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(())
    };
    git(&["clone", "-q", "-b", "main", &bare.to_string_lossy(), "."])?;
    for (path, content) in files {
        let file = work.path().join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, content)?;
    }
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", message])?;
    git(&["push", "-q", "origin", "main"])?;
    Ok(())
}

fn create_input(name: &str, options: Value, target: &str) -> Value {
    json!({"i": {"name": name, "definition": "sleeper", "options": options, "target": target}})
}

/// The code, message and `extensions.problems` fields of a call that must
/// fail.
fn failure(client: &GraphqlClient, query: &str, variables: Value) -> (String, String, Vec<String>) {
    let (code, error) = client.error_code(query, variables).expect("an error");
    let fields = error["extensions"]["problems"]
        .as_array()
        .map(|problems| {
            problems
                .iter()
                .filter_map(|p| p["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (
        code,
        error["message"].as_str().unwrap_or_default().to_owned(),
        fields,
    )
}

/// The environment of service `service` as `docker service inspect` shows
/// it, if the service exists.
fn service_env(service: &str) -> Result<Option<Vec<String>>> {
    Ok(voc_tests::inspect_service(service)?.map(|spec| {
        spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
            .as_array()
            .map(|env| {
                env.iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }))
}

#[test]
fn create_stack_commits_two_files_by_the_caller_and_the_secret_only_encrypted() {
    require_engine();
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let name = unique_name("edc");
    let _guard = StackGuard::new(&name);
    let password = format!("pw-{}-plain", unique_name("s"));
    let data = admin
        .data(
            CREATE,
            create_input(
                &name,
                json!({"password": password, "greeting": "hi there"}),
                "default",
            ),
        )
        .expect("createStack");
    let change = &data["createStack"];
    assert_eq!(change["stack"], name.as_str());
    assert_eq!(change["created"], true);
    let commit = change["commit"].as_str().expect("a sha").to_owned();
    assert_eq!(
        repo.head().unwrap(),
        commit,
        "the commit is the remote's head"
    );
    assert!(!change.to_string().contains(&password));

    let shown = repo
        .git(&[
            "show",
            "--name-only",
            "--format=%an <%ae>%n%cn%n%s",
            &commit,
        ])
        .unwrap();
    let lines: Vec<&str> = shown.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("admin <"),
        "authored by the caller: {shown}"
    );
    assert_ne!(lines[1], "admin", "committed by voc's identity: {shown}");
    assert_eq!(
        lines[2],
        format!("voc: create stack {name} from definition sleeper@1.0.0")
    );
    let mut files = lines[3..].to_vec();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            format!("docker-compose-{name}.yml"),
            format!("stack-{name}.json")
        ]
    );

    // The plain value is nowhere in the repo's history; its ciphertext is.
    let everything = repo.git(&["log", "-p", "--all"]).unwrap();
    assert!(!everything.contains(&password), "the password is in git");
    let config: Value = serde_json::from_str(
        &repo
            .file_at(&commit, &format!("stack-{name}.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["definition"], "sleeper");
    assert_eq!(
        config["options"]["password"],
        json!({"$secret": "VOC_SECRET_PASSWORD"})
    );
    assert!(
        config["secrets"]["VOC_SECRET_PASSWORD"]
            .as_str()
            .is_some_and(|s| s.len() > 100),
        "{config}"
    );
    let compose = repo
        .file_at(&commit, &format!("docker-compose-{name}.yml"))
        .unwrap();
    assert!(compose.starts_with("# Generated by voc from definition sleeper@1.0.0"));
    assert!(compose.contains("${VOC_SECRET_PASSWORD}"), "{compose}");

    // The follow loop deploys it with the secret decrypted.
    let env = wait_for(
        "the stack's service with its decrypted secret",
        Duration::from_secs(120),
        || {
            Ok(service_env(&format!("{name}_app"))?
                .filter(|env| env.iter().any(|e| e.starts_with("PASSWORD="))))
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}\nserver log:\n{}", repo.server.log_text()));
    assert!(env.contains(&format!("PASSWORD={password}")), "{env:?}");
    assert!(env.contains(&"GREETING=hi there".to_owned()), "{env:?}");
    assert!(
        !repo.server.log_text().contains(&password),
        "the password is in the server's log"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_commits_nothing() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let taken = unique_name("tkn");
    admin
        .data(
            CREATE,
            create_input(&taken, json!({"password": "x"}), "void"),
        )
        .expect("the first creation");
    let head = repo.head().unwrap();
    let ok = |options: Value| create_input("fine", options, "void");
    let cases: Vec<(&str, Value, &str, &str, Option<&str>)> = vec![
        (
            "replicas too high",
            ok(json!({"password": "x", "replicas": 10})),
            "VALIDATION",
            "replicas must be at most 3",
            Some("options.replicas"),
        ),
        (
            "unknown option",
            ok(json!({"password": "x", "replica": 2})),
            "VALIDATION",
            "replica: unknown option",
            Some("options.replica"),
        ),
        (
            "missing secret",
            ok(json!({})),
            "VALIDATION",
            "password is required",
            Some("options.password"),
        ),
        (
            "a kept secret with nothing stored",
            ok(json!({"password": {"$secret": "VOC_SECRET_PASSWORD"}})),
            "VALIDATION",
            "no stored value for the secret option password",
            Some("options.password"),
        ),
        (
            "wrong type",
            ok(json!({"password": 5})),
            "VALIDATION",
            "password",
            Some("options.password"),
        ),
        (
            "not an object",
            ok(json!([1, 2])),
            "VALIDATION",
            "options must be a JSON object",
            Some("options"),
        ),
        (
            "injection in a pattern option",
            ok(json!({"password": "x", "tag": "1\nprivileged: true"})),
            "VALIDATION",
            "tag",
            Some("options.tag"),
        ),
        (
            "unknown definition",
            json!({"i": {"name": "fine", "definition": "nope", "options": {}}}),
            "NOT_FOUND",
            "there is no stack definition nope",
            None,
        ),
        (
            "unknown target",
            create_input("fine", json!({"password": "x"}), "mars"),
            "VALIDATION",
            "there is no target mars",
            Some("target"),
        ),
        (
            "upper case",
            create_input("Shop", json!({"password": "x"}), "void"),
            "VALIDATION",
            "stack name \"Shop\"",
            Some("name"),
        ),
        (
            "too long",
            create_input(
                "a-very-long-stack-name-that-docker-cannot-take",
                json!({"password": "x"}),
                "void",
            ),
            "VALIDATION",
            "stack name",
            Some("name"),
        ),
        (
            "leading dash",
            create_input("-x", json!({"password": "x"}), "void"),
            "VALIDATION",
            "stack name \"-x\"",
            Some("name"),
        ),
        (
            "path",
            create_input("../x", json!({"password": "x"}), "void"),
            "VALIDATION",
            "stack name \"../x\"",
            Some("name"),
        ),
        (
            "newline",
            create_input("a\nb", json!({"password": "x"}), "void"),
            "VALIDATION",
            "stack name",
            Some("name"),
        ),
        (
            "empty",
            create_input("", json!({"password": "x"}), "void"),
            "VALIDATION",
            "stack name",
            Some("name"),
        ),
        (
            "taken",
            create_input(&taken, json!({"password": "y"}), "void"),
            "CONFLICT",
            "is taken",
            None,
        ),
    ];
    for (what, variables, code, message, field) in cases {
        let (got_code, got_message, fields) = failure(&admin, CREATE, variables);
        assert_eq!(got_code, code, "{what}: {got_message}");
        assert!(got_message.contains(message), "{what}: {got_message}");
        if let Some(field) = field {
            assert!(
                fields.iter().any(|f| f == field),
                "{what}: {fields:?} ({got_message})"
            );
        }
    }
    let others: Vec<(&str, &str, Value, &str)> = vec![
        (
            "update unknown",
            UPDATE,
            json!({"n": "ghost", "i": {"options": {"password": "x"}}}),
            "NOT_FOUND",
        ),
        (
            "update with a bad option",
            UPDATE,
            json!({"n": taken, "i": {"options": {"password": "x", "replicas": 0}}}),
            "VALIDATION",
        ),
        (
            "upgrade unknown",
            UPGRADE,
            json!({"n": "ghost"}),
            "NOT_FOUND",
        ),
        ("delete unknown", DELETE, json!({"n": "ghost"}), "NOT_FOUND"),
        (
            "enable unknown",
            ENABLE,
            json!({"n": "ghost", "e": false}),
            "NOT_FOUND",
        ),
        (
            "roll back to no commit",
            ROLLBACK,
            json!({"n": taken, "c": "not-a-sha"}),
            "VALIDATION",
        ),
        (
            "roll back to an unknown commit",
            ROLLBACK,
            json!({"n": taken, "c": "0123456789abcdef0123456789abcdef01234567"}),
            "VALIDATION",
        ),
        (
            "roll back to before the stack",
            ROLLBACK,
            json!({"n": taken, "c": repo.git(&["rev-parse", "main~1"]).unwrap().trim()}),
            "VALIDATION",
        ),
    ];
    for (what, query, variables, code) in others {
        let (got_code, message, _) = failure(&admin, query, variables);
        assert_eq!(got_code, code, "{what}: {message}");
    }
    let viewer_less = repo.server.anonymous();
    let (code, _, _) = failure(
        &viewer_less,
        CREATE,
        create_input("anon", json!({"password": "x"}), "void"),
    );
    assert_eq!(code, "UNAUTHENTICATED");
    assert_eq!(repo.head().unwrap(), head, "nothing was committed");
}

#[test]
fn option_values_cannot_change_the_structure_of_the_rendered_file() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let head = repo.head().unwrap();
    let attempts = [
        "x\nprivileged: true",
        "a: b",
        "- item",
        "{}",
        "[1, 2]",
        "---\nservices: {}",
        "*alias",
        "&anchor x",
        "\"quoted\" 'single'",
        "# comment",
        "${VOC_SECRET_PASSWORD}",
        "$HOME and $$",
        "!!binary aGVsbG8=",
        "|\n  block",
        "x\n  cap_add: [ALL]",
    ];
    for (i, attempt) in attempts.iter().enumerate() {
        let preview = admin
            .data(
                PREVIEW,
                json!({"d": "sleeper", "o": {"password": attempt, "greeting": attempt}, "n": format!("inj{i}")}),
            )
            .expect("previewStack")["previewStack"]
            .clone();
        assert_eq!(preview["valid"], true, "{attempt:?}: {preview}");
        let compose = preview["compose"].as_str().unwrap();
        let yaml: Value = yaml_serde::from_str(compose).expect("one YAML document");
        assert_eq!(
            yaml.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["services"],
            "{attempt:?}: {compose}"
        );
        let app = &yaml["services"]["app"];
        let mut keys: Vec<&String> = app.as_object().unwrap().keys().collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "command",
                "deploy",
                "environment",
                "image",
                "stop_grace_period"
            ],
            "{attempt:?}: {compose}"
        );
        let environment = app["environment"].as_object().unwrap();
        assert_eq!(environment.len(), 2, "{attempt:?}: {compose}");
        // What Compose interpolation gives back is exactly the value.
        let greeting = environment["GREETING"].as_str().unwrap().replace("$$", "$");
        assert_eq!(greeting, *attempt, "{compose}");
        assert_eq!(
            environment["PASSWORD"], "${VOC_SECRET_PASSWORD}",
            "{compose}"
        );
        assert!(!compose.contains("privileged: true\n") || attempt.contains("privileged"));
    }
    // And a creation with such a value commits that same one string.
    let name = unique_name("inj");
    let change = admin
        .data(
            CREATE,
            create_input(
                &name,
                json!({"password": "p", "greeting": attempts[0]}),
                "void",
            ),
        )
        .expect("createStack")["createStack"]
        .clone();
    let compose = repo
        .file_at(
            change["commit"].as_str().unwrap(),
            &format!("docker-compose-{name}.yml"),
        )
        .unwrap();
    let yaml: Value = yaml_serde::from_str(&compose).unwrap();
    assert_eq!(
        yaml["services"]["app"]["environment"]["GREETING"],
        attempts[0]
    );
    assert!(yaml["services"]["app"].get("privileged").is_none());
    assert_eq!(
        repo.git(&["rev-list", "--count", &format!("{head}..main")])
            .unwrap()
            .trim(),
        "1",
        "previews commit nothing"
    );
}

#[test]
fn a_stack_is_updated_upgraded_disabled_rolled_back_and_deleted_in_git() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let name = unique_name("life");
    let compose_path = format!("docker-compose-{name}.yml");
    let config_path = format!("stack-{name}.json");
    let created = admin
        .data(
            CREATE,
            create_input(&name, json!({"password": "first"}), "void"),
        )
        .unwrap()["createStack"]["commit"]
        .as_str()
        .unwrap()
        .to_owned();
    let config_at = |rev: &str| -> Value {
        serde_json::from_str(&repo.file_at(rev, &config_path).expect("the settings file")).unwrap()
    };
    let sealed = config_at(&created)["secrets"]["VOC_SECRET_PASSWORD"].clone();

    // Update: new options, the secret given as its placeholder is kept.
    let updated = admin
        .data(
            UPDATE,
            json!({"n": name, "i": {"options": {"replicas": 2, "greeting": "bye", "password": {"$secret": "VOC_SECRET_PASSWORD"}}, "message": "two of them"}}),
        )
        .unwrap()["updateStack"]
        .clone();
    let updated_commit = updated["commit"].as_str().unwrap().to_owned();
    assert_eq!(updated["created"], true);
    let config = config_at(&updated_commit);
    assert_eq!(config["options"]["replicas"], 2);
    assert_eq!(
        config["secrets"]["VOC_SECRET_PASSWORD"], sealed,
        "the stored secret is kept"
    );
    let compose = repo.file_at(&updated_commit, &compose_path).unwrap();
    assert!(
        compose.contains("replicas: 2") && compose.contains("\"bye\""),
        "{compose}"
    );
    let message = repo
        .git(&["log", "-1", "--format=%B", &updated_commit])
        .unwrap();
    assert_eq!(
        message.trim(),
        format!("voc: update stack {name} (definition sleeper@1.0.0)\n\ntwo of them")
    );
    // The same update again changes nothing and commits nothing.
    let again = admin
        .data(
            UPDATE,
            json!({"n": name, "i": {"options": {"replicas": 2, "greeting": "bye", "password": {"$secret": "VOC_SECRET_PASSWORD"}}}}),
        )
        .unwrap()["updateStack"]
        .clone();
    assert_eq!(again["created"], false);
    assert_eq!(again["commit"], updated_commit.as_str());

    // Upgrade: up to date, then a new definition version is pushed.
    assert_eq!(
        admin.data(UPGRADE_DIFF, json!({"n": name})).unwrap()["stackUpgradeDiff"],
        Value::Null
    );
    push_as_someone_else(
        &repo.bare,
        &[
            (
                "definitions/sleeper/definition.json",
                &SLEEPER_META.replace("1.0.0", "1.1.0"),
            ),
            (
                "definitions/sleeper/docker-compose.yml.tera",
                &SLEEPER_TEMPLATE.replace("stop_grace_period: 1s", "stop_grace_period: 2s"),
            ),
        ],
        "sleeper 1.1.0",
    )
    .unwrap();
    let diff = wait_for("the upgrade diff", Duration::from_secs(90), || {
        // voc sees the new head once its follow loop fetched it.
        Ok(
            admin.data(UPGRADE_DIFF, json!({"n": name}))?["stackUpgradeDiff"]
                .as_str()
                .map(str::to_owned),
        )
    })
    .unwrap();
    assert!(
        diff.contains("-    stop_grace_period: 1s\n+    stop_grace_period: 2s\n"),
        "{diff}"
    );
    assert!(diff.contains("sleeper@1.1.0"), "{diff}");
    let upgraded = admin.data(UPGRADE, json!({"n": name})).unwrap()["upgradeStack"]["commit"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = repo.git(&["log", "-1", "--format=%s", &upgraded]).unwrap();
    assert_eq!(
        message.trim(),
        format!("voc: upgrade stack {name} to definition sleeper@1.1.0")
    );
    assert_eq!(
        config_at(&upgraded)["secrets"]["VOC_SECRET_PASSWORD"],
        sealed
    );
    assert_eq!(
        admin.data(UPGRADE_DIFF, json!({"n": name})).unwrap()["stackUpgradeDiff"],
        Value::Null
    );

    // Disable: only `enabled` changes.
    let disabled =
        admin.data(ENABLE, json!({"n": name, "e": false})).unwrap()["setStackEnabled"]["commit"]
            .as_str()
            .unwrap()
            .to_owned();
    let config = config_at(&disabled);
    assert_eq!(config["enabled"], false);
    assert_eq!(config["options"]["replicas"], 2);
    let changed = repo
        .git(&["show", "--name-only", "--format=", &disabled])
        .unwrap();
    assert_eq!(changed.trim(), config_path);

    // Roll back to the creation: both files as they were then.
    let rolled = admin
        .data(ROLLBACK, json!({"n": name, "c": &created[..10]}))
        .unwrap()["rollbackStack"]["commit"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        repo.file_at(&rolled, &compose_path),
        repo.file_at(&created, &compose_path)
    );
    assert_eq!(
        repo.file_at(&rolled, &config_path),
        repo.file_at(&created, &config_path)
    );
    let parents = repo.git(&["rev-list", "--parents", "-1", &rolled]).unwrap();
    assert!(
        parents.contains(&disabled),
        "a new commit on top: {parents}"
    );

    // Delete: both files go, in one commit that touches nothing else.
    let deleted = admin.data(DELETE, json!({"n": name})).unwrap()["deleteStack"]["commit"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(repo.file_at(&deleted, &compose_path), None);
    assert_eq!(repo.file_at(&deleted, &config_path), None);
    let mut changed: Vec<String> = repo
        .git(&["show", "--name-only", "--format=", &deleted])
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    changed.sort_unstable();
    assert_eq!(changed, [compose_path.clone(), config_path.clone()]);
    assert!(
        repo.file_at(&deleted, "definitions/sleeper/definition.json")
            .is_some()
    );
}

#[test]
fn an_edit_of_a_file_someone_changed_meanwhile_never_loses_their_change() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let name = unique_name("race");
    admin
        .data(
            CREATE,
            create_input(&name, json!({"password": "p"}), "void"),
        )
        .expect("createStack");
    // Someone edits the stack's settings by hand, right after.
    let config_path = format!("stack-{name}.json");
    let mut theirs: Value =
        serde_json::from_str(&repo.file_at("main", &config_path).unwrap()).unwrap();
    theirs["selfHeal"] = json!(true);
    push_as_someone_else(
        &repo.bare,
        &[(
            &config_path,
            &serde_json::to_string_pretty(&theirs).unwrap(),
        )],
        "self-heal it",
    )
    .unwrap();
    let theirs_head = repo.head().unwrap();
    let answer = admin
        .query(
            UPDATE,
            json!({"n": name, "i": {"options": {"replicas": 3, "password": {"$secret": "VOC_SECRET_PASSWORD"}}}}),
        )
        .unwrap();
    match answer.get("errors") {
        // voc had not fetched their commit: the lease refuses the edit.
        Some(errors) => {
            assert_eq!(errors[0]["extensions"]["code"], "CONFLICT", "{answer}");
            let message = errors[0]["message"].as_str().unwrap();
            assert!(message.contains(&config_path), "{message}");
            assert_eq!(repo.head().unwrap(), theirs_head, "nothing committed");
        }
        // voc had fetched it: the edit is made on top of theirs.
        None => {
            let config: Value =
                serde_json::from_str(&repo.file_at("main", &config_path).unwrap()).unwrap();
            assert_eq!(config["selfHeal"], true, "their change is kept: {config}");
            assert_eq!(config["options"]["replicas"], 3);
        }
    }
}

#[test]
fn twenty_concurrent_creations_give_twenty_commits() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let before: u32 = repo
        .git(&["rev-list", "--count", "main"])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let names: Vec<String> = (0..20)
        .map(|i| format!("{}-{i}", unique_name("cc")))
        .collect();
    let answers: Vec<Result<Value>> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let client = admin.clone();
                scope.spawn(move || {
                    client.data(CREATE, create_input(name, json!({"password": "p"}), "void"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread"))
            .collect()
    });
    let mut commits = std::collections::BTreeSet::new();
    for (name, answer) in names.iter().zip(answers) {
        let answer = answer.unwrap_or_else(|e| panic!("createStack {name}: {e:#}"));
        assert_eq!(answer["createStack"]["created"], true, "{name}");
        commits.insert(answer["createStack"]["commit"].as_str().unwrap().to_owned());
    }
    assert_eq!(commits.len(), 20, "twenty distinct commits");
    let after: u32 = repo
        .git(&["rev-list", "--count", "main"])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(after, before + 20, "none lost");
    let tree = repo.git(&["ls-tree", "--name-only", "main"]).unwrap();
    for name in &names {
        assert!(
            tree.contains(&format!("docker-compose-{name}.yml\n")),
            "{name}"
        );
        assert!(tree.contains(&format!("stack-{name}.json\n")), "{name}");
    }
    let log = repo.git(&["log", "--format=%H", "main"]).unwrap();
    for commit in &commits {
        assert!(log.contains(commit.as_str()), "{commit} is on the branch");
    }
}

#[test]
fn a_secret_encrypted_to_another_key_fails_the_stack_s_deploy_with_a_sentence_saying_so() {
    require_engine();
    // The stack's secret is sealed with a key that is not this server's.
    let other = tempfile::tempdir().unwrap();
    let foreign = voc::secret::SecretKey::load_or_create(other.path()).unwrap();
    let name = unique_name("fkey");
    let _guard = StackGuard::new(&name);
    let sealed = foreign.encrypt("pw").unwrap();
    let compose = "services:\n  app:\n    image: voc-test/busybox:latest\n    command: [\"sleep\", \"3600\"]\n    environment:\n      PASSWORD: ${VOC_SECRET_PASSWORD}\n    stop_grace_period: 1s\n";
    let config = json!({"secrets": {"VOC_SECRET_PASSWORD": sealed}}).to_string();
    let compose_path = format!("docker-compose-{name}.yml");
    let config_path = format!("stack-{name}.json");
    let mut files = sleeper_repo_files();
    files.push((&compose_path, compose));
    files.push((&config_path, &config));
    let repo = EditServer::start(&files).expect("server");
    let admin = repo.server.admin().expect("admin");
    let error = wait_for(
        "the stack's failed deploy",
        Duration::from_secs(120),
        || {
            let jobs = admin.data(
                "query($s: String) { jobs(stack: $s, status: FAILED) { nodes { kind error } } }",
                json!({"s": name}),
            )?;
            Ok(jobs["jobs"]["nodes"][0]["error"]
                .as_str()
                .map(str::to_owned))
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}\nserver log:\n{}", repo.server.log_text()));
    assert!(
        error.contains(&format!(
            "the secret VOC_SECRET_PASSWORD of stack {name} cannot be decrypted"
        )),
        "{error}"
    );
    assert!(error.contains("was it replaced"), "{error}");
    assert_eq!(
        voc_tests::inspect_service(&format!("{name}_app")).unwrap(),
        None,
        "nothing was deployed"
    );
}

/// A file that renders but fails the Compose loader comes back with the
/// preview, so a form can show the problems at their lines; creating it
/// commits nothing.
#[test]
fn a_render_that_does_not_validate_is_previewed_with_its_problems_lines() {
    let repo = EditServer::start(&sleeper_repo_files()).expect("server");
    let admin = repo.server.admin().expect("admin");
    let head = repo.head().unwrap();
    // `..` fits the option's pattern but makes an invalid image reference.
    let options = json!({"password": "x", "tag": ".."});
    let preview = admin
        .data(
            PREVIEW,
            json!({"d": "sleeper", "o": options, "n": "badtag"}),
        )
        .expect("previewStack")["previewStack"]
        .clone();
    assert_eq!(preview["valid"], false, "{preview}");
    let compose = preview["compose"].as_str().expect("the rendered file");
    let problem = &preview["problems"][0];
    assert_eq!(problem["field"], "services.app.image", "{preview}");
    let line = problem["line"].as_u64().expect("a line") as usize;
    assert!(
        compose
            .lines()
            .nth(line - 1)
            .is_some_and(|text| text.contains("busybox:..")),
        "line {line} of {compose}"
    );
    let (code, _) = admin
        .error_code(CREATE, create_input("badtag", options, "void"))
        .unwrap();
    assert_eq!(code, "VALIDATION");
    assert_eq!(repo.head().unwrap(), head, "nothing committed");
}
