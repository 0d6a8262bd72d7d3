//! The walker on whole repos, built in temp folders: what a valid repo
//! becomes, and one case per rule with the exact lines `voc validate`
//! prints.

use std::path::Path;

use tempfile::TempDir;

use super::*;
use crate::conf::model::Conf;

/// A conf repo in a temp folder.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, text) in files {
            repo.write(path, text);
        }
        repo
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn read(&self) -> ConfReport {
        read_conf(self.path())
    }

    fn read_with(&self, options: &ReadOptions) -> ConfReport {
        read_conf_with(self.path(), options)
    }
}

fn lines(report: &ConfReport) -> Vec<String> {
    report.problems.iter().map(ToString::to_string).collect()
}

const COMPOSE: &str = "services:\n  web:\n    image: busybox\n";
const META: &str = r#"{"title": "Web", "version": "1.0.0", "options": {"type": "object", "properties": {"image": {"type": "string"}}}}"#;
const TEMPLATE: &str = "services:\n  web:\n    image: {{ options.image }}\n";

fn good_repo() -> Repo {
    Repo::new(&[
        (
            "shop/docker-compose-shop.yml",
            "services:\n  web:\n    image: shop/api:${TAG}\n    env_file: web.env\n    volumes:\n      - ./static:/srv\n",
        ),
        ("shop/web.env", "A=1\n"),
        ("shop/static/index.html", "hi"),
        (
            "shop/stack-shop.json",
            r#"{"variables": {"TAG": "1.0"}, "dependsOn": ["db"], "definition": "webapp", "options": {"image": "x"}}"#,
        ),
        ("db/docker-compose-db.yaml", COMPOSE),
        ("docker-compose-tools.yml", COMPOSE),
        ("stack-tools.json", r#"{"enabled": false}"#),
        ("api/Dockerfile-api", "FROM busybox\n"),
        ("api/Dockerfile-api.dockerignore", "target\n"),
        (
            "api/image-api.json",
            r#"{"tag": "shop/api:1.0", "push": "127.0.0.1:5000/shop/api:1.0"}"#,
        ),
        ("images/Dockerfile-tool", "FROM busybox\n"),
        (
            "images/image-tool.json",
            r#"{"tag": "tool:1", "context": "api"}"#,
        ),
        ("definitions/webapp/definition.json", META),
        ("definitions/webapp/docker-compose.yml.tera", TEMPLATE),
        ("definitions/README.md", "not a definition"),
        (".git/docker-compose-hidden.yml", "not: [valid"),
        ("README.md", "# conf"),
        ("docker-compose.yml", "not a stack: no name"),
    ])
}

#[test]
fn a_valid_repo_becomes_its_conf() {
    let repo = good_repo();
    let report = repo.read();
    assert_eq!(lines(&report), Vec::<String>::new());
    assert!(report.is_valid());
    assert_eq!(report.root, repo.path().canonicalize().unwrap());
    let conf = &report.conf;
    assert_eq!(
        conf.stacks.keys().collect::<Vec<_>>(),
        ["db", "shop", "tools"]
    );
    let shop = &conf.stacks["shop"];
    assert_eq!(shop.compose_file, "shop/docker-compose-shop.yml");
    assert_eq!(shop.config_file.as_deref(), Some("shop/stack-shop.json"));
    assert_eq!(shop.config.depends_on, ["db"]);
    assert_eq!(
        shop.reads.iter().collect::<Vec<_>>(),
        ["shop/static", "shop/web.env"]
    );
    assert_eq!(shop.images.iter().collect::<Vec<_>>(), ["shop/api:1.0"]);
    assert_eq!(conf.stacks["db"].compose_file, "db/docker-compose-db.yaml");
    assert_eq!(conf.stacks["db"].config_file, None);
    assert_eq!(conf.stacks["db"].config, StackConfig::default());
    assert!(!conf.stacks["tools"].config.enabled);

    assert_eq!(conf.images.keys().collect::<Vec<_>>(), ["api", "tool"]);
    let api = &conf.images["api"];
    assert_eq!(api.dockerfile, "api/Dockerfile-api");
    assert_eq!(api.config_file, "api/image-api.json");
    assert_eq!(api.context, "api");
    assert_eq!(api.config.push, ["127.0.0.1:5000/shop/api:1.0"]);
    assert_eq!(conf.images["tool"].context, "api");

    assert_eq!(conf.definitions.keys().collect::<Vec<_>>(), ["webapp"]);
    assert_eq!(conf.definitions["webapp"].template, TEMPLATE);
    assert!(conf.invalid_stacks.is_empty());
    assert!(conf.invalid_images.is_empty());
    assert!(conf.invalid_definitions.is_empty());
}

#[test]
fn an_empty_repo_is_valid_and_empty() {
    let repo = Repo::new(&[]);
    let report = repo.read();
    assert!(report.is_valid());
    assert_eq!(report.conf, Conf::default());
}

#[test]
fn a_missing_folder_is_one_problem() {
    let report = read_conf(Path::new("/nonexistent/voc-conf-repo"));
    assert_eq!(report.problems.len(), 1);
    assert!(lines(&report)[0].starts_with("/nonexistent/voc-conf-repo: cannot be read: "));
}

/// One case per rule: the files of a repo, and exactly the lines
/// `voc validate` prints for it.
/// Files of a repo (path, text).
type Files<'a> = &'a [(&'a str, &'a str)];

#[test]
fn every_rule_is_reported_with_file_line_and_hint() {
    let cases: &[(&str, Files<'_>, &[&str])] = &[
        (
            "upper-case stack name",
            &[("a/docker-compose-Shop.yml", COMPOSE)],
            &[
                "a/docker-compose-Shop.yml: stack name \"Shop\" must be lowercase (rename it to docker-compose-shop.yml)",
            ],
        ),
        (
            "stack name with a dot, and its settings",
            &[
                ("docker-compose-shop.v2.yml", COMPOSE),
                ("stack-shop.v2.json", "{}"),
            ],
            &[
                "docker-compose-shop.v2.yml: stack name \"shop.v2\" may only contain lowercase letters, digits, `_` and `-`, not `.` (rename it to docker-compose-shop-v2.yml)",
                "stack-shop.v2.json: stack name \"shop.v2\" may only contain lowercase letters, digits, `_` and `-`, not `.` (rename it to stack-shop-v2.json)",
            ],
        ),
        (
            "empty stack name",
            &[("docker-compose-.yml", COMPOSE)],
            &[
                "docker-compose-.yml: stack name \"\" is empty (the name in the file name must be 1 to 40 lowercase letters, digits, `_` or `-`, starting with a letter or a digit)",
            ],
        ),
        (
            "too long a stack name",
            &[(
                "docker-compose-abcdefghijklmnopqrstuvwxyz0123456789abcdef.yml",
                COMPOSE,
            )],
            &[
                "docker-compose-abcdefghijklmnopqrstuvwxyz0123456789abcdef.yml: stack name \"abcdefghijklmnopqrstuvwxyz0123456789abcdef\" is 42 characters long, at most 40 are allowed (rename it to docker-compose-abcdefghijklmnopqrstuvwxyz0123456789abcd.yml)",
            ],
        ),
        (
            "a stack in two folders",
            &[
                ("a/docker-compose-shop.yml", COMPOSE),
                ("b/docker-compose-shop.yml", COMPOSE),
            ],
            &[
                "b/docker-compose-shop.yml: stack \"shop\" has two Compose files: a/docker-compose-shop.yml and b/docker-compose-shop.yml (a name must be unique in the repo: rename or remove one of them)",
            ],
        ),
        (
            "a stack as .yml and .yaml",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                ("docker-compose-shop.yaml", COMPOSE),
            ],
            &[
                "docker-compose-shop.yml: stack \"shop\" has two Compose files: docker-compose-shop.yaml and docker-compose-shop.yml (a name must be unique in the repo: rename or remove one of them)",
            ],
        ),
        (
            "two settings files",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                ("a/stack-shop.json", "{}"),
                ("b/stack-shop.json", "{}"),
            ],
            &[
                "b/stack-shop.json: stack \"shop\" has two settings files: a/stack-shop.json and b/stack-shop.json (a name must be unique in the repo: rename or remove one of them)",
            ],
        ),
        (
            "settings without a Compose file",
            &[("shop/stack-shop.json", "{}")],
            &[
                "shop/stack-shop.json: stack \"shop\" has settings but no Compose file (add shop/docker-compose-shop.yml, or remove shop/stack-shop.json)",
            ],
        ),
        (
            "unknown field in the settings",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                (
                    "shop/stack-shop.json",
                    "{\n  \"enabled\": true,\n  \"enabeld\": false\n}",
                ),
            ],
            &["shop/stack-shop.json:3: unknown field \"enabeld\" (did you mean \"enabled\"?)"],
        ),
        (
            "settings that are not JSON",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                ("stack-shop.json", "{\n  \"enabled\": tru\n}"),
            ],
            &["stack-shop.json:3: is not valid JSON: expected ident"],
        ),
        (
            "a definition that does not exist",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                (
                    "stack-shop.json",
                    "{\"definition\": \"webap\",\n\"options\": {}}",
                ),
                ("definitions/webapp/definition.json", META),
                ("definitions/webapp/docker-compose.yml.tera", TEMPLATE),
            ],
            &[
                "stack-shop.json:1: definition \"webap\" does not exist in definitions/ (did you mean \"webapp\"?)",
            ],
        ),
        (
            "a dependency that does not exist",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                ("stack-shop.json", "{\"dependsOn\": [\n\"db\"]}"),
            ],
            &[
                "stack-shop.json:2: stack \"shop\" depends on stack \"db\", which does not exist (add docker-compose-db.yml, or remove \"db\" from dependsOn)",
            ],
        ),
        (
            "a dependency on another target",
            &[
                ("docker-compose-shop.yml", COMPOSE),
                ("stack-shop.json", "{\"dependsOn\": [\"db\"]}"),
                ("docker-compose-db.yml", COMPOSE),
                ("stack-db.json", "{\"target\": \"edge\"}"),
            ],
            &[
                "stack-shop.json:1: stack \"shop\" (target \"default\") depends on stack \"db\", which deploys to target \"edge\" (a stack can only depend on stacks of its own target)",
            ],
        ),
        (
            "a dependency cycle",
            &[
                ("a/docker-compose-a.yml", COMPOSE),
                ("a/stack-a.json", "{\n\"dependsOn\": [\"b\"]}"),
                ("b/docker-compose-b.yml", COMPOSE),
                ("b/stack-b.json", "{\"dependsOn\": [\n\"a\"]}"),
            ],
            &[
                "a/stack-a.json:2: dependency cycle: a -> b -> a (remove one of these dependencies: stacks in a cycle can never be deployed)",
                "b/stack-b.json:2: dependency cycle: b -> a -> b (remove one of these dependencies: stacks in a cycle can never be deployed)",
            ],
        ),
        (
            "a Compose file with a field of the wrong type",
            &[(
                "shop/docker-compose-shop.yml",
                "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: two\n",
            )],
            &["shop/docker-compose-shop.yml:5: services.web.deploy.replicas must be an integer"],
        ),
        (
            "a Compose file that is not YAML",
            &[("docker-compose-shop.yml", "services:\n  web: [\n")],
            &["docker-compose-shop.yml:3: "],
        ),
        (
            "a Dockerfile without its image file",
            &[("api/Dockerfile-api", "FROM busybox\n")],
            &[
                "api/Dockerfile-api: image \"api\" has no image-api.json (add image-api.json beside Dockerfile-api with at least a \"tag\")",
            ],
        ),
        (
            "an image file without its Dockerfile",
            &[("api/image-api.json", "{\"tag\": \"api:1\"}")],
            &[
                "api/image-api.json: image \"api\" has no Dockerfile-api (add Dockerfile-api beside image-api.json, or remove image-api.json)",
            ],
        ),
        (
            "an image in two folders",
            &[
                ("a/Dockerfile-api", "FROM busybox\n"),
                ("a/image-api.json", "{\"tag\": \"api:1\"}"),
                ("b/Dockerfile-api", "FROM busybox\n"),
            ],
            &[
                "b/Dockerfile-api: image \"api\" has two Dockerfiles: a/Dockerfile-api and b/Dockerfile-api (a name must be unique in the repo: rename or remove one of them)",
            ],
        ),
        (
            "an image name with upper case",
            &[
                ("Dockerfile-API", "FROM busybox\n"),
                ("image-API.json", "{\"tag\": \"api:1\"}"),
            ],
            &[
                "Dockerfile-API: image name \"API\" must be lowercase (rename it to Dockerfile-api)",
                "image-API.json: image name \"API\" must be lowercase (rename it to image-api.json)",
            ],
        ),
        (
            "unknown fields in an image file",
            &[
                ("Dockerfile-api", "FROM busybox\n"),
                (
                    "image-api.json",
                    "{\"tag\": \"api:1\",\n\"contxt\": \".\",\n\"pull\": true}",
                ),
            ],
            &[
                "image-api.json:2: unknown field \"contxt\" (did you mean \"context\"?)",
                "image-api.json:3: unknown field \"pull\" (the known fields are \"tag\", \"push\", \"context\", \"buildArgs\", \"target\" and \"labels\")",
            ],
        ),
        (
            "an image file without a tag",
            &[
                ("Dockerfile-api", "FROM busybox\n"),
                ("image-api.json", "{}"),
            ],
            &["image-api.json:1: field \"tag\" is missing (add \"tag\")"],
        ),
        (
            "an invalid push destination",
            &[
                ("Dockerfile-api", "FROM busybox\n"),
                (
                    "image-api.json",
                    "{\"tag\": \"api:1\",\n\"push\": [\"ok:1\",\n\"Bad Name\"]}",
                ),
            ],
            &[
                "image-api.json:3: \"push[1]\" is not a valid image reference: the repository name must be lowercase",
            ],
        ),
        (
            "a context that does not exist",
            &[
                ("Dockerfile-api", "FROM busybox\n"),
                (
                    "image-api.json",
                    "{\"tag\": \"api:1\",\n\"context\": \"src\"}",
                ),
            ],
            &[
                "image-api.json:2: the build context \"src\" does not exist (\"context\" is a folder relative to the repo root)",
            ],
        ),
        (
            "a context that is a file",
            &[
                ("Dockerfile-api", "FROM busybox\n"),
                (
                    "image-api.json",
                    "{\"tag\": \"api:1\",\n\"context\": \"Dockerfile-api\"}",
                ),
            ],
            &[
                "image-api.json:2: the build context \"Dockerfile-api\" is not a folder (\"context\" is a folder relative to the repo root)",
            ],
        ),
        (
            "two images with the same tag",
            &[
                ("Dockerfile-a", "FROM busybox\n"),
                ("image-a.json", "{\"tag\": \"shop:1\"}"),
                ("Dockerfile-b", "FROM busybox\n"),
                ("image-b.json", "{\n\"tag\": \"shop:1\"}"),
            ],
            &[
                "image-a.json:1: images \"a\" and \"b\" are built as the same tag shop:1 (give each image its own tag)",
                "image-b.json:2: images \"a\" and \"b\" are built as the same tag shop:1 (give each image its own tag)",
            ],
        ),
        (
            "a broken definition",
            &[
                (
                    "definitions/web/definition.json",
                    "{\"title\": \"Web\", \"version\": \"1\",\n\"options\": {\"type\": \"object\", \"required\": [\"image\"]}}",
                ),
                ("definitions/web/docker-compose.yml.tera", TEMPLATE),
            ],
            &[
                "definitions/web/definition.json:2: \"options.required\" names \"image\", which is not in \"options.properties\" (add \"image\" to \"options.properties\", or remove it from \"required\")",
            ],
        ),
    ];
    for (what, files, expected) in cases {
        let report = Repo::new(files).read();
        let actual = lines(&report);
        let matches = actual.len() == expected.len()
            && actual
                .iter()
                .zip(expected.iter())
                .all(|(a, e)| a.starts_with(e));
        assert!(
            matches,
            "{what}:\n  expected {expected:#?}\n  got {actual:#?}"
        );
    }
}

#[test]
fn problems_are_sorted_by_file_then_line_and_all_reported_at_once() {
    let repo = Repo::new(&[
        ("z/Dockerfile-x", "FROM busybox\n"),
        (
            "a/docker-compose-shop.yml",
            "services:\n  web:\n    image: 3\n    deploy:\n      replicas: two\n",
        ),
        ("a/stack-shop.json", "{\"enabeld\": true,\n\"prune\": 1}"),
        ("b/docker-compose-shop.yml", COMPOSE),
    ]);
    let report = repo.read();
    let places: Vec<(String, Option<usize>)> = report
        .problems
        .iter()
        .map(|p| (p.file.clone(), p.line))
        .collect();
    let mut sorted = places.clone();
    sorted.sort();
    assert_eq!(places, sorted);
    let files: BTreeSet<&str> = report.problems.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            "a/docker-compose-shop.yml",
            "a/stack-shop.json",
            "b/docker-compose-shop.yml",
            "z/Dockerfile-x"
        ]
    );
    assert!(report.problems.len() >= 5, "{:#?}", lines(&report));
}

#[test]
fn invalid_stacks_images_and_definitions_are_known_by_name_only() {
    let repo = good_repo();
    repo.write(
        "docker-compose-broken.yml",
        "services:\n  web:\n    image: [1]\n",
    );
    repo.write("stack-orphan.json", "{}");
    repo.write("Dockerfile-noconf", "FROM busybox\n");
    repo.write("definitions/empty/README.md", "");
    let report = repo.read();
    let conf = &report.conf;
    assert_eq!(
        conf.stacks.keys().collect::<Vec<_>>(),
        ["db", "shop", "tools"]
    );
    assert_eq!(
        conf.invalid_stacks.iter().collect::<Vec<_>>(),
        ["broken", "orphan"]
    );
    assert_eq!(conf.images.keys().collect::<Vec<_>>(), ["api", "tool"]);
    assert_eq!(conf.invalid_images.iter().collect::<Vec<_>>(), ["noconf"]);
    assert_eq!(
        conf.invalid_definitions.iter().collect::<Vec<_>>(),
        ["empty"]
    );
    for subject in [
        Subject::Stack("broken".into()),
        Subject::Stack("orphan".into()),
        Subject::Image("noconf".into()),
        Subject::Definition("empty".into()),
    ] {
        assert!(report.has_problem(&subject), "{subject}");
    }
    assert!(!report.has_problem(&Subject::Stack("shop".into())));
}

#[test]
fn a_stack_whose_dependency_is_invalid_stays_valid() {
    let repo = Repo::new(&[
        ("docker-compose-web.yml", COMPOSE),
        ("stack-web.json", r#"{"dependsOn": ["db"]}"#),
        ("docker-compose-db.yml", "services: 3\n"),
    ]);
    let report = repo.read();
    assert!(report.conf.stacks.contains_key("web"));
    assert!(report.conf.invalid_stacks.contains("db"));
}

#[test]
fn a_stack_with_broken_settings_is_still_loaded_with_its_valid_variables() {
    let repo = Repo::new(&[
        (
            "docker-compose-shop.yml",
            "services:\n  web:\n    image: busybox:${TAG:?set TAG}\n",
        ),
        (
            "stack-shop.json",
            r#"{"variables": {"TAG": "1"}, "typo": 1}"#,
        ),
    ]);
    let report = repo.read();
    assert_eq!(
        lines(&report),
        [
            "stack-shop.json:1: unknown field \"typo\" (the known fields are \"enabled\", \"target\", \"variables\", \"definition\", \"options\", \"secrets\", \"dependsOn\", \"prune\", \"resolveImage\", \"withRegistryAuth\" and \"selfHeal\")"
        ]
    );
    assert!(report.conf.invalid_stacks.contains("shop"));
}

#[test]
fn server_variables_are_used_and_a_stack_s_own_win() {
    let compose = "services:\n  web:\n    image: busybox:${TAG:?set TAG}\n    environment:\n      DOMAIN: ${DOMAIN:?set DOMAIN}\n";
    let repo = Repo::new(&[
        ("docker-compose-shop.yml", compose),
        ("stack-shop.json", r#"{"variables": {"TAG": "2"}}"#),
    ]);
    assert!(!repo.read().is_valid());
    let options = ReadOptions {
        variables: [("TAG", "1"), ("DOMAIN", "example.org")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..ReadOptions::default()
    };
    let report = repo.read_with(&options);
    assert_eq!(lines(&report), Vec::<String>::new());
    assert_eq!(
        report.conf.stacks["shop"].images.iter().collect::<Vec<_>>(),
        ["busybox:2"]
    );
}

#[test]
fn a_stack_s_encrypted_secrets_count_as_set_without_being_decrypted() {
    let compose = "services:\n  db:\n    image: busybox\n    environment:\n      PASSWORD: ${VOC_SECRET_PASSWORD:?no secret}\n";
    let repo = Repo::new(&[
        ("docker-compose-db.yml", compose),
        (
            "stack-db.json",
            r#"{"definition": "pg", "secrets": {"VOC_SECRET_PASSWORD": "not even age"}}"#,
        ),
    ]);
    let report = repo.read();
    let problems: Vec<String> = lines(&report)
        .into_iter()
        .filter(|line| !line.contains("definition"))
        .collect();
    assert_eq!(problems, Vec::<String>::new());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn compose_warnings_are_kept_apart_from_problems() {
    let repo = Repo::new(&[(
        "docker-compose-shop.yml",
        "services:\n  web:\n    image: busybox\n    build: .\n",
    )]);
    let report = repo.read();
    assert!(report.is_valid(), "{:?}", lines(&report));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(report.warnings[0].file, "docker-compose-shop.yml");
    assert_eq!(report.warnings[0].line, Some(4));
    assert_eq!(
        report.warnings[0].subject,
        Some(Subject::Stack("shop".into()))
    );
}

#[test]
fn targets_and_secrets_are_checked_when_the_server_names_them() {
    let repo = Repo::new(&[
        ("docker-compose-shop.yml", COMPOSE),
        ("stack-shop.json", "{\n\"target\": \"edg\"}"),
        ("Dockerfile-api", "FROM busybox\n"),
        (
            "image-api.json",
            "{\"tag\": \"api:1\", \"buildArgs\": {\n\"TOKEN\": \"$NPM_TOKEN\",\n\"PLAIN\": \"$1.50\"}}",
        ),
    ]);
    assert!(repo.read().is_valid());
    let options = ReadOptions {
        targets: Some(["default".to_owned(), "edge".to_owned()].into()),
        secrets: Some(["OTHER".to_owned()].into()),
        ..ReadOptions::default()
    };
    assert_eq!(
        lines(&repo.read_with(&options)),
        [
            "image-api.json:2: build arg \"TOKEN\" takes its value from secret \"NPM_TOKEN\", which is not configured (configure the secret variable NPM_TOKEN on the server)",
            "stack-shop.json:2: target \"edg\" is not configured on the server (did you mean \"edge\"?)",
        ]
    );
}

#[test]
fn symbolic_links_never_lead_out_of_the_repo() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("compose.yml"), COMPOSE).unwrap();
    std::fs::write(outside.path().join("secret.txt"), "hunter2").unwrap();
    std::fs::create_dir(outside.path().join("more")).unwrap();
    std::fs::write(outside.path().join("more/docker-compose-more.yml"), COMPOSE).unwrap();
    let repo = Repo::new(&[
        ("real/docker-compose-real.yml", COMPOSE),
        (
            "docker-compose-leak.yml",
            "services:\n  web:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    file: ./secret.txt\n",
        ),
    ]);
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, repo.path().join(name)).unwrap()
    };
    link(
        &outside.path().join("compose.yml"),
        "docker-compose-out.yml",
    );
    link(&outside.path().join("secret.txt"), "secret.txt");
    link(&outside.path().join("more"), "more");
    link(&repo.path().join("real"), "again");
    let report = repo.read();
    assert_eq!(
        lines(&report),
        [
            "docker-compose-leak.yml: uses secret.txt, a symbolic link that leads out of the repo (a conf repo must deploy the same wherever it is checked out: put the file itself in the repo)",
            "docker-compose-out.yml: is a symbolic link that leads out of the repo (voc reads only what is in the repo: put the file itself there)",
        ]
    );
    // Linked folders are not walked: `more` is outside, `again` is `real`.
    assert_eq!(report.conf.stacks.keys().collect::<Vec<_>>(), ["real"]);
}

#[test]
fn file_names_are_classified_by_prefix_and_suffix() {
    let cases = [
        ("docker-compose-shop.yml", Some((Role::ComposeFile, "shop"))),
        (
            "docker-compose-shop.yaml",
            Some((Role::ComposeFile, "shop")),
        ),
        ("docker-compose-shop.json", None),
        ("docker-compose.yml", None),
        ("docker-compose-.yml", Some((Role::ComposeFile, ""))),
        ("stack-shop.json", Some((Role::StackSettings, "shop"))),
        ("stack-shop.yml", None),
        ("Dockerfile-api", Some((Role::Dockerfile, "api"))),
        ("Dockerfile-api.dockerignore", None),
        ("Dockerfile", None),
        ("dockerfile-api", None),
        ("image-api.json", Some((Role::ImageConfig, "api"))),
        ("image-api.png", None),
        ("README.md", None),
    ];
    for (file_name, expected) in cases {
        assert_eq!(classify(file_name), expected, "{file_name}");
    }
}

#[test]
fn image_fields_become_json_pointers() {
    let cases = [
        ("tag", "/tag"),
        ("push[1]", "/push/1"),
        ("buildArgs.TOKEN", "/buildArgs/TOKEN"),
        ("buildArgs.A.B", "/buildArgs/A.B"),
        ("labels", "/labels"),
    ];
    for (field, pointer) in cases {
        assert_eq!(field_pointer(field), pointer, "{field}");
    }
}
