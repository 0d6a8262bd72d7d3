//! End-to-end tests of the loader on whole files: normalisation into the
//! model, every problem with its file and line, warnings, several files.

use std::path::PathBuf;

use tempfile::TempDir;

use super::*;
use crate::model::{FileReference, Port, ServiceVolume};

/// A folder with `c.yml` and the files it names.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Project { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn load(&self, text: &str, variables: &[(&str, &str)]) -> Result<Loaded, LoadError> {
        self.load_many(&[("c.yml", text)], variables)
    }

    fn load_many(
        &self,
        files: &[(&str, &str)],
        variables: &[(&str, &str)],
    ) -> Result<Loaded, LoadError> {
        let sources: Vec<ComposeSource> = files
            .iter()
            .map(|(name, text)| ComposeSource {
                path: self.path(name),
                text: (*text).to_owned(),
            })
            .collect();
        let variables: Variables = variables
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load_sources(&sources, &variables)
    }
}

fn problems(result: Result<Loaded, LoadError>) -> Vec<String> {
    match result {
        Ok(loaded) => panic!("expected problems, got {:#?}", loaded.file),
        Err(error) => error.problems.iter().map(ToString::to_string).collect(),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

#[test]
fn a_full_file_is_normalised_into_the_model() {
    let project = Project::new(&[
        ("web.env", "FROM_FILE=1\nOVERRIDDEN=file\nBARE\nEMPTY=\n"),
        ("secrets/db.txt", "hunter2"),
        ("site.conf", "server {}"),
    ]);
    let text = r#"
version: "3.8"
x-defaults: &defaults
  restart: "no"
  labels: [team=web]
services:
  web:
    <<: *defaults
    image: "registry:5000/web:${TAG:-latest}"
    command: sh -c 'echo "$$HOME"; sleep 1'
    entrypoint: ["/init"]
    env_file: web.env
    environment:
      OVERRIDDEN: env
      COUNT: 0755
      FROM_VARS:
      RATIO: 1.50
    ports:
      - 80
      - "8080:80/udp"
      - target: 443
        published: ${HTTPS_PORT}
        mode: host
    volumes:
      - data:/data:ro
      - ./html:/usr/share/html
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 1000}
    networks: [front]
    secrets:
      - db
      - source: db
        target: /run/db
        mode: 0440
    configs: [site]
    healthcheck:
      test: curl -f localhost
      interval: 30s
      retries: ${RETRIES}
    extra_hosts:
      somehost: "[::1]"
      other: 10.0.0.1
    sysctls: ["net.core.somaxconn=1024"]
    ulimits:
      nofile: {soft: 10, hard: 20}
      nproc: 5
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: 3}
    deploy:
      replicas: ${REPLICAS}
      endpoint_mode: DNSRR
      resources:
        limits: {cpus: "0.5", memory: 512M}
      update_config: {parallelism: 2, delay: 10s}
      placement:
        constraints: [node.role == manager]
        preferences: [{spread: node.labels.zone}]
networks:
  front:
    external:
      name: edge
volumes:
  data: {}
secrets:
  db:
    file: ./secrets/db.txt
configs:
  site:
    file: site.conf
    labels: {a: 1}
"#;
    let loaded = project
        .load(
            text,
            &[
                ("HTTPS_PORT", "8443"),
                ("RETRIES", "3"),
                ("REPLICAS", "2"),
                ("FROM_VARS", "v"),
                ("BARE", "b"),
            ],
        )
        .unwrap();
    let file = &loaded.file;
    let web = &file.services["web"];
    assert_eq!(web.image.as_deref(), Some("registry:5000/web:latest"));
    assert_eq!(
        web.command,
        Some(vec![s("sh"), s("-c"), s("echo \"$HOME\"; sleep 1")])
    );
    assert_eq!(web.entrypoint, Some(vec![s("/init")]));
    assert_eq!(web.restart.as_deref(), Some("no"));
    assert_eq!(web.labels.get("team").map(String::as_str), Some("web"));
    let env: Vec<(&str, Option<&str>)> = web
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    assert_eq!(
        env,
        [
            ("FROM_FILE", Some("1")),
            ("OVERRIDDEN", Some("env")),
            ("BARE", Some("b")),
            ("EMPTY", Some("")),
            ("COUNT", Some("493")),
            ("FROM_VARS", Some("v")),
            ("RATIO", Some("1.5")),
        ]
    );
    let tcp = |target, published| Port {
        target,
        published,
        protocol: Some(s("tcp")),
        mode: Some(s("ingress")),
    };
    assert_eq!(
        web.ports,
        [
            tcp(80, None),
            Port {
                protocol: Some(s("udp")),
                ..tcp(80, Some(8080))
            },
            Port {
                target: 443,
                published: Some(8443),
                protocol: None,
                mode: Some(s("host")),
            },
        ]
    );
    let html = project.path("html").to_string_lossy().into_owned();
    assert_eq!(
        web.volumes,
        [
            ServiceVolume {
                kind: s("volume"),
                source: Some(s("data")),
                target: s("/data"),
                read_only: true,
                ..Default::default()
            },
            ServiceVolume {
                kind: s("bind"),
                source: Some(html),
                target: s("/usr/share/html"),
                ..Default::default()
            },
            ServiceVolume {
                kind: s("tmpfs"),
                target: s("/tmp"),
                tmpfs_size: Some(1000),
                ..Default::default()
            },
        ]
    );
    assert_eq!(
        web.networks.as_ref().unwrap().keys().collect::<Vec<_>>(),
        ["front"]
    );
    assert_eq!(
        web.secrets,
        [
            FileReference {
                source: s("db"),
                ..Default::default()
            },
            FileReference {
                source: s("db"),
                target: Some(s("/run/db")),
                mode: Some(0o440),
                ..Default::default()
            },
        ]
    );
    let healthcheck = web.healthcheck.as_ref().unwrap();
    assert_eq!(
        healthcheck.test,
        Some(vec![s("CMD-SHELL"), s("curl -f localhost")])
    );
    assert_eq!(
        (healthcheck.interval.as_deref(), healthcheck.retries),
        (Some("30s"), Some(3))
    );
    assert_eq!(web.extra_hosts, [s("other:10.0.0.1"), s("somehost:::1")]);
    assert_eq!(web.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(
        (web.ulimits["nofile"].soft, web.ulimits["nofile"].hard),
        (10, 20)
    );
    assert_eq!(
        (web.ulimits["nproc"].soft, web.ulimits["nproc"].hard),
        (5, 5)
    );
    let logging = web.logging.as_ref().unwrap();
    assert_eq!(logging.options["max-file"], "3");
    let deploy = web.deploy.as_ref().unwrap();
    assert_eq!(deploy.replicas, Some(2));
    assert_eq!(deploy.endpoint_mode.as_deref(), Some("dnsrr"));
    let limits = deploy.resources.limits.as_ref().unwrap();
    assert_eq!(
        (limits.cpus.as_deref(), limits.memory),
        (Some("0.5"), Some(536_870_912))
    );
    assert_eq!(deploy.update_config.as_ref().unwrap().parallelism, Some(2));
    assert_eq!(deploy.placement.constraints, [s("node.role == manager")]);
    assert_eq!(deploy.placement.preferences, [s("node.labels.zone")]);

    let front = &file.networks["front"];
    assert!(front.external);
    assert_eq!(front.name.as_deref(), Some("edge"));
    let db = &file.secrets["db"];
    assert_eq!(
        db.file.as_deref(),
        Some(project.path("secrets/db.txt").as_path())
    );
    assert_eq!(db.content.as_deref(), Some(&b"hunter2"[..]));
    assert_eq!(file.configs["site"].labels["a"], "1");
    assert_eq!(
        file.files_read,
        [
            project.path("web.env"),
            project.path("secrets/db.txt"),
            project.path("site.conf")
        ]
    );
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("services.web.restart: is not a swarm option")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("networks.front.external.name: is deprecated")),
        "{warnings:?}"
    );
}

#[test]
fn each_problem_is_reported_with_its_file_line_and_path() {
    let project = Project::new(&[("exists.txt", "x")]);
    let web = |body: &str| format!("services:\n  web:\n    image: nginx\n{body}");
    let cases: Vec<(String, &str)> = vec![
        (
            s("version: \"2.4\"\nservices: {}\n"),
            "c.yml:1: version \"2.4\" is not supported: docker stack deploy reads Compose file versions 3.0 to 3.13 (or no version, for the newest); version 2 files need converting",
        ),
        (
            s("version: \"3.14\"\n"),
            "c.yml:1: version \"3.14\" is not supported: docker stack deploy reads Compose file versions 3.0 to 3.13 (or no version, for the newest); version 2 files need converting",
        ),
        (
            s("version: \"${V}\"\n"),
            "c.yml:1: version \"${V}\" is not supported: docker stack deploy reads Compose file versions 3.0 to 3.13 (or no version, for the newest); version 2 files need converting",
        ),
        (
            s("version: 3.8\n"),
            "c.yml:1: version must be a string: quote it, like \"3.8\"",
        ),
        (
            s(""),
            "c.yml: is empty: a Compose file is a mapping with `services`",
        ),
        (
            s("- a\n"),
            "c.yml:1: must be a mapping at the top level (with `services`, `networks`...)",
        ),
        (
            s("services:\n  web:\n    image: x\n  web:\n    image: y\n"),
            "c.yml:4: mapping key \"web\" already defined at line 2",
        ),
        (
            web("    extends: base\n"),
            "c.yml:4: services.web.extends is not supported by docker stack deploy: Support for `extends` is not implemented yet.",
        ),
        (
            web("    cpu_shares: 2\n"),
            "c.yml:4: services.web.cpu_shares is not supported by docker stack deploy: Set resource limits using deploy.resources",
        ),
        (
            s("services:\n  web:\n    command: x\n"),
            "c.yml:2: services.web.image is missing: docker stack deploy only runs images, so build and push the image, then name it here",
        ),
        (
            s("services:\n  web:\n    image: Nginx\n"),
            "c.yml:3: services.web.image has uppercase letters in the repository name: repository names must be lowercase (\"Nginx\")",
        ),
        (
            s("services:\n  web.app:\n    image: x\n"),
            "c.yml:2: services.web.app is not a valid service name: swarm service names use letters, digits, '-' and '_', and end with a letter or digit",
        ),
        (
            web("    networks: [front]\n"),
            "c.yml:4: services.web.networks.front is a network that is not declared: add `front` under the top-level `networks`",
        ),
        (
            web("    volumes: [\"data:/data\"]\n"),
            "c.yml:4: services.web.volumes[0] uses the volume \"data\", which is not declared: add it under the top-level `volumes` (or write a path starting with ./ or / for a bind mount)",
        ),
        (
            web("    secrets:\n      - s\n"),
            "c.yml:5: services.web.secrets[0] uses the secret \"s\", which is not declared: add it under the top-level `secrets`",
        ),
        (
            web("    configs: [c]\n"),
            "c.yml:4: services.web.configs[0] uses the config \"c\", which is not declared: add it under the top-level `configs`",
        ),
        (
            web("    deploy:\n      mode: global\n      replicas: 2\n"),
            "c.yml:6: services.web.deploy.replicas can only be used with replicated or replicated-job mode: a global service runs one task per node",
        ),
        (web("    env_file: missing.env\n"), ""),
        (
            web("    ports: [\"80:abc\"]\n"),
            "c.yml:4: services.web.ports[0] is not a valid port: invalid container port: abc",
        ),
        (
            web("    ports: [\"80:80\", \"80:80/udp\", \"80:81\"]\n"),
            "c.yml:4: services.web.ports[2] publishes 80/tcp a second time; each published port can be used once",
        ),
        (
            web("    volumes: [\"~/x:/x\"]\n"),
            "c.yml:4: services.web.volumes[0] cannot expand `~` in \"~/x\": HOME is not among the variables; use an absolute path",
        ),
        (
            web("    volumes: [{type: bind, target: /x}]\n"),
            "c.yml:4: services.web.volumes[0] is a bind mount without a source: name a host path",
        ),
        (
            web("    restart: sometimes\n"),
            "c.yml:4: services.web.restart is not a restart policy (\"sometimes\"): use \"no\", \"always\", \"unless-stopped\" or \"on-failure[:max-retries]\"",
        ),
        (
            web("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      disable: true\n"),
            "c.yml:6: services.web.healthcheck sets both `test` and `disable: true`; keep one of them",
        ),
        (
            web("    command: \"echo 'unclosed\"\n"),
            "c.yml:4: services.web.command cannot be split into words: it has a quote that is never closed",
        ),
        (
            s("services:\n  web:\n    image: \"x$\"\n"),
            "c.yml:3: services.web.image has an invalid interpolation format: \"x$\"; you may need to escape any $ with another $",
        ),
        (
            s("services:\n  web:\n    image: x\n    deploy:\n      replicas: \"${N}\"\n"),
            "c.yml:5: services.web.deploy.replicas must be an integer, but it is \"\" after interpolation",
        ),
        (
            s("services: {}\nsecrets:\n  s:\n    labels: {a: b}\n"),
            "c.yml:3: secrets.s needs a `file`, `external: true` or a `driver`: there is nothing to create the secret from",
        ),
        (s("services: {}\nsecrets:\n  s:\n    file: nope.txt\n"), ""),
        (
            s("services: {}\nsecrets:\n  s:\n    file: exists.txt\n    driver: vault\n"),
            "c.yml:4: secrets.s.file conflicts with `driver` (secret.driver and secret.file conflict; only use secret.driver)",
        ),
        (
            s("services: {}\nconfigs:\n  c:\n    name: -bad\n    file: exists.txt\n"),
            "c.yml:4: configs.c.name \"-bad\" is not a valid name: use up to 64 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        ),
        (
            s("services: {}\nvolumes:\n  v:\n    external: true\n    driver: local\n"),
            "c.yml:5: volumes.v.driver cannot be set on an external volume (conflicting parameters \"external\" and \"driver\"): the volume is managed outside the stack",
        ),
        (
            s("services: {}\nnetworks:\n  n:\n    name: a\n    external: {name: b}\n"),
            "c.yml:5: networks.n.external.name conflicts with `name` (network.external.name and network.name conflict; only use network.name)",
        ),
    ];
    for (text, want) in cases {
        let got = problems(project.load(&text, &[]));
        if want.is_empty() {
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            continue;
        }
        assert_eq!(got, vec![want.to_owned()], "{text}");
    }
    let missing = problems(project.load(&web("    env_file: [missing.env]\n"), &[]));
    let path = project.path("missing.env");
    assert_eq!(
        missing,
        [format!(
            "c.yml:4: services.web.env_file[0] cannot read env file {}: no such file",
            path.display()
        )]
    );
}

#[test]
fn all_problems_of_a_file_are_reported_together() {
    let text = "services:\n  web:\n    image: x\n    foo: 1\n    read_only: \"yes\"\n    networks: [nope]\n    command: \"$\"\n    deploy:\n      replicas: many\n";
    let got = problems(Project::new(&[]).load(text, &[]));
    assert_eq!(
        got,
        [
            "c.yml:7: services.web.command has an invalid interpolation format: \"$\"; you may need to escape any $ with another $",
            "c.yml:4: services.web.foo is not a known key here; check its spelling and indentation",
            "c.yml:5: services.web.read_only must be a boolean (true or false)",
            "c.yml:9: services.web.deploy.replicas must be an integer",
            "c.yml:6: services.web.networks.nope is a network that is not declared: add `nope` under the top-level `networks`",
        ]
    );
}

#[test]
fn warnings_are_what_the_cli_would_print() {
    let text = concat!(
        "services:\n  web:\n    image: x\n",
        "    build: .\n    container_name: w\n    privileged: true\n    depends_on: [db]\n    x-note: 1\n",
        "    hostname: \"$UNSET\"\n",
        "    ports: [\"127.0.0.1:80:80\"]\n",
        "  db:\n    image: y\n",
    );
    let loaded = Project::new(&[]).load(text, &[]).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "c.yml:9: services.web.hostname: the \"UNSET\" variable is not set; defaulting to a blank string",
            "c.yml:4: services.web.build: is ignored: docker stack deploy does not support it",
            "c.yml:5: services.web.container_name: is ignored (deprecated): Setting the container name is not supported.",
            "c.yml:6: services.web.privileged: is ignored: docker stack deploy does not support it",
            "c.yml:10: services.web.ports[0]: host IP 127.0.0.1 is ignored: swarm publishes the port on every address",
        ]
    );
}

#[test]
fn home_in_the_variables_expands_tilde() {
    let loaded = Project::new(&[])
        .load(
            "services:\n  web:\n    image: x\n    volumes: [\"~/data:/data\"]\n",
            &[("HOME", "/home/me")],
        )
        .unwrap();
    assert_eq!(
        loaded.file.services["web"].volumes[0].source.as_deref(),
        Some("/home/me/data")
    );
}

#[test]
fn several_files_merge_and_resolve_paths_against_the_first_files_folder() {
    let project = Project::new(&[("a.env", "A=1\n"), ("sub/b.env", "B=2\n")]);
    let first = "version: \"3.8\"\nservices:\n  web:\n    image: web:1\n    env_file: a.env\n    ports: [\"80:80\"]\n";
    let second = "version: \"3.8\"\nservices:\n  web:\n    image: web:2\n    env_file: sub/b.env\n    ports: [\"443:443\"]\n  db:\n    image: db\n";
    let loaded = project
        .load_many(&[("c.yml", first), ("sub/override.yml", second)], &[])
        .unwrap();
    let file = loaded.file;
    assert_eq!(file.services.keys().collect::<Vec<_>>(), ["db", "web"]);
    let web = &file.services["web"];
    assert_eq!(web.image.as_deref(), Some("web:2"));
    assert_eq!(web.environment.len(), 2);
    let published: Vec<_> = web.ports.iter().map(|p| p.published).collect();
    assert_eq!(published, [Some(80), Some(443)]);
}

#[test]
fn problems_in_a_second_file_name_that_file() {
    let project = Project::new(&[]);
    let first = "version: \"3.8\"\nservices:\n  web:\n    image: web:1\n";
    let second = "version: \"3.7\"\nservices:\n  web:\n    networks: [back]\n";
    let got = problems(project.load_many(&[("c.yml", first), ("d.yml", second)], &[]));
    assert_eq!(
        got,
        [
            "d.yml:1: version is 3.7 but the first file is 3.8: all files must have the same version",
            "d.yml:4: services.web.networks.back is a network that is not declared: add `back` under the top-level `networks`",
        ]
    );
}

#[test]
fn load_files_reads_from_disk_and_reports_unreadable_files() {
    let project = Project::new(&[("c.yml", "services:\n  web:\n    image: x\n")]);
    let loaded = load_files(&[project.path("c.yml")], &Variables::new()).unwrap();
    assert_eq!(loaded.file.services["web"].image.as_deref(), Some("x"));
    let error = load_files(&[project.path("nope.yml")], &Variables::new()).unwrap_err();
    assert!(
        error.to_string().starts_with("nope.yml: cannot be read"),
        "{error}"
    );
    let none = load_sources(&[], &Variables::new()).unwrap_err();
    assert_eq!(none.to_string(), ": no Compose file was given");
}

#[test]
fn load_error_displays_one_problem_per_line() {
    let error = problems(Project::new(&[]).load(
        "services:\n  a:\n    command: x\n  b:\n    command: y\n",
        &[],
    ));
    assert_eq!(error.len(), 2);
    let joined = Project::new(&[])
        .load(
            "services:\n  a:\n    command: x\n  b:\n    command: y\n",
            &[],
        )
        .unwrap_err()
        .to_string();
    assert_eq!(joined.lines().count(), 2);
}
