//! Rendering: option values that try to change the document, secrets,
//! template misuse, Compose problems, and the definitions shipped in
//! `templates/`.

use super::*;
use serde_json::json;

fn definition(schema: Value, template: &str) -> DefinitionEntry {
    DefinitionEntry {
        name: "test".to_owned(),
        folder: "definitions/test".into(),
        meta: crate::conf::DefinitionMeta {
            title: "Test".to_owned(),
            description: String::new(),
            version: "1.0.0".to_owned(),
            options: schema,
        },
        template: template.to_owned(),
        readme: None,
    }
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

/// The rendered file without its header, parsed as plain YAML.
fn parse(compose: &str) -> yaml_serde::Value {
    yaml_serde::from_str(compose).unwrap_or_else(|e| panic!("{e}\n{compose}"))
}

fn keys(value: &yaml_serde::Value) -> Vec<String> {
    value
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

/// Loads `compose` with `variables` and returns its one service.
fn load(compose: &str, variables: &[(&str, &str)]) -> voc_compose::model::Service {
    let variables: Variables = variables
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let loaded = load_sources(
        &[ComposeSource {
            path: "/dev/null/x/docker-compose-s.yml".into(),
            text: compose.to_owned(),
        }],
        &variables,
    )
    .unwrap_or_else(|e| panic!("{e}\n{compose}"));
    loaded.file.services.into_values().next().unwrap()
}

const INJECTION_TEMPLATE: &str = "\
services:
  web:
    image: nginx:1.27
    environment:
      VALUE: {{ options.value }}
      OTHER: fixed
    command: [{{ options.value }}, \"x\"]
    entrypoint:
      - {{ options.value }}
    deploy:
      labels:
        {{ \"k\" ~ options.value }}: label
";

/// Values that would change a naively templated YAML document.
const NASTY: &[&str] = &[
    "x\nprivileged: true",
    "x\n    privileged: true",
    "a: b",
    "- item",
    "\n- item",
    "{}",
    "[]",
    "{a: b}",
    "[a, b]",
    "---",
    "x\n---\nservices: {}",
    "...",
    "x\n...\n",
    "*alias",
    "&anchor x",
    "!!tag x",
    "!!binary aGVsbG8=",
    "#comment",
    "x #comment",
    "\"double\"",
    "'single'",
    "it's \"both\"",
    "\"",
    "'",
    "back\\slash\\",
    "\\n",
    "${VAR}",
    "${VAR:-default}",
    "$VAR",
    "$",
    "$$",
    "$${VAR}",
    "${VOC_SECRET_PASSWORD}",
    "price: 5$ ${",
    "héllo wörld 中文 😀 \u{200b}",
    "",
    " leading and trailing ",
    "\t",
    "line\r\nbreak",
    "nel\u{85}ls\u{2028}ps\u{2029}",
    "\u{feff}bom",
    "bell\u{7}del\u{7f}c1\u{9b}",
    "null",
    "~",
    "true",
    "yes",
    "123",
    "0x1f",
    "1e3",
    "? key",
    "| block",
    "> folded",
    "%YAML 1.2",
    "@at `tick`",
    "<< : *x",
    "{{ options.value }}",
    "{% raw %}",
    "\"}}",
    "a,b]",
];

#[test]
fn no_option_value_changes_the_structure() {
    let definition = definition(
        json!({"type": "object", "properties": {"value": {"type": "string"}}}),
        INJECTION_TEMPLATE,
    );
    for value in NASTY {
        let rendered = render_stack(&definition, "s", &map(json!({ "value": value })))
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let yaml = parse(&rendered.compose);
        // The key set is the template's, at every level.
        assert_eq!(keys(&yaml), ["services"], "{value:?}");
        assert_eq!(keys(&yaml["services"]), ["web"], "{value:?}");
        let web = &yaml["services"]["web"];
        assert_eq!(
            keys(web),
            ["image", "environment", "command", "entrypoint", "deploy"],
            "{value:?}"
        );
        assert_eq!(keys(&web["environment"]), ["VALUE", "OTHER"], "{value:?}");
        // Each occurrence is one string: `$` doubled for Compose.
        let escaped = value.replace('$', "$$");
        assert_eq!(web["environment"]["VALUE"].as_str(), Some(escaped.as_str()));
        let command = web["command"].as_sequence().unwrap();
        assert_eq!(command.len(), 2, "{value:?}");
        assert_eq!(command[0].as_str(), Some(escaped.as_str()));
        let entrypoint = web["entrypoint"].as_sequence().unwrap();
        assert_eq!(entrypoint.len(), 1, "{value:?}");
        assert_eq!(keys(&web["deploy"]["labels"]), [format!("k{escaped}")]);

        // Through Compose interpolation the value arrives intact.
        let service = load(&rendered.compose, &[("VAR", "injected")]);
        assert_eq!(
            service.environment.get("VALUE"),
            Some(&Some((*value).to_owned())),
            "{value:?}"
        );
        assert_eq!(service.environment.len(), 2);
        assert_eq!(
            service.command.as_deref(),
            Some(&[(*value).to_owned(), "x".to_owned()][..])
        );
        assert_eq!(
            service.entrypoint.as_deref(),
            Some(&[(*value).to_owned()][..])
        );
        assert!(!service.read_only && service.cap_add.is_empty());
    }
}

#[test]
fn lists_and_filter_results_are_one_node_too() {
    let definition = definition(
        json!({"type": "object", "properties": {
            "args": {"type": "array", "items": {"type": "string"}},
            "value": {"type": "string"}
        }}),
        "services:\n  web:\n    image: nginx\n    command: {{ options.args }}\n    entrypoint: {{ options.value | split(pat=\",\") }}\n    environment:\n      UPPER: {{ options.value | upper }}\n      JOINED: {{ options.args | join(sep=\" \") }}\n",
    );
    let args = ["a\nprivileged: true", "]", "${X}"];
    let rendered = render_stack(
        &definition,
        "s",
        &map(json!({"args": args, "value": "x: y\n- z,w"})),
    )
    .unwrap();
    let service = load(&rendered.compose, &[]);
    assert_eq!(
        service.command.unwrap(),
        args.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    assert_eq!(service.entrypoint.unwrap(), ["x: y\n- z", "w"]);
    assert_eq!(service.environment["UPPER"].as_deref(), Some("X: Y\n- Z,W"));
    assert_eq!(
        service.environment["JOINED"].as_deref(),
        Some("a\nprivileged: true ] ${X}")
    );
}

#[test]
fn numbers_and_booleans_are_bare() {
    let definition = definition(
        json!({"type": "object", "properties": {
            "replicas": {"type": "integer", "default": 3},
            "ro": {"type": "boolean", "default": true}
        }}),
        "services:\n  web:\n    image: nginx\n    read_only: {{ options.ro }}\n    deploy:\n      replicas: {{ options.replicas }}\n",
    );
    let rendered = render_stack(&definition, "s", &Map::new()).unwrap();
    assert!(
        rendered.compose.contains("replicas: 3\n"),
        "{}",
        rendered.compose
    );
    assert!(rendered.compose.contains("read_only: true\n"));
    let service = load(&rendered.compose, &[]);
    assert!(service.read_only);
    assert_eq!(rendered.options, map(json!({"replicas": 3, "ro": true})));
}

#[test]
fn the_first_line_says_where_the_file_comes_from() {
    let definition = definition(
        json!({"type": "object"}),
        "services:\n  {{ stack.name }}:\n    image: nginx\n    labels:\n      from: {{ definition.name ~ \"@\" ~ definition.version }}",
    );
    let rendered = render_stack(&definition, "shop", &Map::new()).unwrap();
    assert_eq!(
        rendered.compose,
        "# Generated by voc from definition test@1.0.0: do not edit, voc renders it again from stack-shop.json.\nservices:\n  \"shop\":\n    image: nginx\n    labels:\n      from: \"test@1.0.0\"\n"
    );
}

const SECRET_SCHEMA: &str = r#"{"type": "object", "required": ["password"], "properties": {
    "password": {"type": "string", "writeOnly": true, "minLength": 4},
    "note": {"type": "string", "default": ""}
}}"#;

#[test]
fn secrets_become_references_and_never_reach_the_file() {
    let definition = definition(
        serde_json::from_str(SECRET_SCHEMA).unwrap(),
        "services:\n  db:\n    image: postgres:17\n    environment:\n      POSTGRES_PASSWORD: {{ options.password }}\n      URL: {{ \"postgres://app:\" ~ options.password ~ \"@db/app\" }}\n      NOTE: {{ options.note }}\n",
    );
    let password = "p$w: \"x\"\n- y";
    let rendered = render_stack(
        &definition,
        "db",
        &map(json!({"password": password, "note": "${VOC_SECRET_PASSWORD}"})),
    )
    .unwrap();
    assert!(!rendered.compose.contains("p$w"), "{}", rendered.compose);
    assert!(
        rendered
            .compose
            .contains("POSTGRES_PASSWORD: \"${VOC_SECRET_PASSWORD}\"\n")
    );
    assert!(
        rendered
            .compose
            .contains("URL: \"postgres://app:${VOC_SECRET_PASSWORD}@db/app\"\n")
    );
    assert_eq!(
        rendered.options,
        map(
            json!({"password": {"$secret": "VOC_SECRET_PASSWORD"}, "note": "${VOC_SECRET_PASSWORD}"})
        )
    );
    let secret = &rendered.secret_options["password"];
    assert_eq!(
        (secret.variable.as_str(), secret.value.as_str()),
        ("VOC_SECRET_PASSWORD", password)
    );
    // At deploy time the variable carries the value; a user's look-alike
    // reference in another option stays text.
    let service = load(&rendered.compose, &[("VOC_SECRET_PASSWORD", password)]);
    assert_eq!(
        service.environment["POSTGRES_PASSWORD"].as_deref(),
        Some(password)
    );
    assert_eq!(
        service.environment["URL"].as_deref(),
        Some(format!("postgres://app:{password}@db/app").as_str())
    );
    assert_eq!(
        service.environment["NOTE"].as_deref(),
        Some("${VOC_SECRET_PASSWORD}")
    );
    // The placeholder keeps the stored value: same file, nothing to store.
    let again = render_stack(&definition, "db", &rendered.options).unwrap();
    assert_eq!(again.compose, rendered.compose);
    assert!(again.secret_options.is_empty());
}

#[test]
fn a_secret_printed_raw_is_refused() {
    for template in [
        "services:\n  db:\n    image: postgres\n    environment:\n      P: {{ options.password | safe }}\n",
        "services:\n  db:\n    image: postgres\n    environment:\n      P: {% filter upper %}x{% endfilter %}{{ options.password | safe }}\n",
    ] {
        let definition = definition(serde_json::from_str(SECRET_SCHEMA).unwrap(), template);
        let error =
            render_stack(&definition, "db", &map(json!({"password": "secret"}))).unwrap_err();
        assert!(
            matches!(&error, RenderError::Template { message, .. } if message.starts_with("a secret option is printed raw")),
            "{error}"
        );
        assert!(!error.to_string().contains("secret\""));
    }
}

#[test]
fn template_mistakes_are_reported_with_their_line() {
    let schema = json!({"type": "object", "properties": {"v": {"type": "string", "default": "7"}}});
    let cases: &[(&str, Option<usize>, &str)] = &[
        (
            "services:\n  web:\n    image: redis:{{ options.v }}\n",
            Some(3),
            "{{ options.v }} must be a whole YAML value (it prints a quoted value): build the value inside the tag, as in {{ \"redis:\" ~ options.version }}",
        ),
        (
            "services:\n  web:\n    image: {{ options.v }\n",
            Some(3),
            "the template does not parse: ",
        ),
        (
            "services:\n  web:\n    image: {{ options.missing }}\n",
            None,
            "Variable `options.missing` not found",
        ),
        (
            "services:\n  web:\n    image: {{ get_env(name=\"HOME\") }}\n",
            None,
            "get_env is disabled in stack definitions",
        ),
    ];
    for (template, line, message) in cases {
        let error =
            render_stack(&definition(schema.clone(), template), "s", &Map::new()).unwrap_err();
        match &error {
            RenderError::Template {
                line: l,
                message: m,
            } => {
                assert_eq!(l, line, "{template}");
                assert!(m.starts_with(message), "{m}");
            }
            other => panic!("{template}: {other}"),
        }
    }
}

#[test]
fn safe_is_the_authors_raw_output() {
    let definition = definition(
        json!({"type": "object", "properties": {"v": {"type": "string", "enum": ["7", "8"], "default": "7"}}}),
        "services:\n  web:\n    image: redis:{{ options.v | safe }}-alpine\n",
    );
    let rendered = render_stack(&definition, "s", &Map::new()).unwrap();
    assert!(rendered.compose.ends_with("image: redis:7-alpine\n"));
}

#[test]
fn optional_options_without_default_are_null() {
    let definition = definition(
        json!({"type": "object", "properties": {"domain": {"type": "string", "format": "hostname"}}}),
        "services:\n  web:\n    image: nginx\n{% if options.domain %}    hostname: {{ options.domain }}\n{% endif %}    user: {{ options.domain | default(value=\"nobody\") }}\n",
    );
    let without = render_stack(&definition, "s", &Map::new()).unwrap();
    assert!(!without.compose.contains("hostname"), "{}", without.compose);
    assert!(
        without.compose.contains("user: \"nobody\""),
        "{}",
        without.compose
    );
    assert!(without.options.is_empty());
    let with = render_stack(&definition, "s", &map(json!({"domain": "a.example"}))).unwrap();
    assert!(with.compose.contains("hostname: \"a.example\""));
}

#[test]
fn every_step_refuses_with_its_own_error() {
    let good = definition(
        json!({"type": "object", "required": ["replicas"], "properties": {"replicas": {"type": "integer", "maximum": 20}, "mode": {"type": "string"}}}),
        "services:\n  web:\n    image: nginx\n    deploy:\n      mode: {{ options.mode | default(value=\"replicated\") }}\n      replicas: {{ options.replicas }}\n",
    );
    // The stack name.
    let error = render_stack(&good, "Shop", &map(json!({"replicas": 1}))).unwrap_err();
    assert_eq!(error.to_string(), "stack name \"Shop\" must be lowercase");
    // The options: all problems.
    let error = render_stack(&good, "s", &map(json!({"replicas": 21, "domain": "x"}))).unwrap_err();
    assert_eq!(
        error,
        RenderError::InvalidOptions(vec![
            OptionProblem {
                option: "domain".to_owned(),
                message: "domain: unknown option".to_owned()
            },
            OptionProblem {
                option: "replicas".to_owned(),
                message: "replicas must be at most 20".to_owned()
            },
        ])
    );
    // The rendered file, with its line (the header is line 1).
    let error = render_stack(
        &good,
        "s",
        &map(json!({"replicas": 1, "mode": "sometimes"})),
    )
    .unwrap_err();
    let RenderError::InvalidCompose { problems, compose } = &error else {
        panic!("{error}");
    };
    // The text comes with the problems, line 6 being the one they name.
    assert!(
        compose
            .lines()
            .nth(5)
            .is_some_and(|line| line.contains("mode")),
        "{compose}"
    );
    assert_eq!(problems.len(), 1, "{error}");
    assert_eq!(problems[0].location.line, Some(6), "{error}");
    assert_eq!(
        problems[0].location.file,
        PathBuf::from("docker-compose-s.yml")
    );
    assert_eq!(problems[0].location.path, "services.web.deploy.mode");
    // The schema.
    let bad_schema = definition(
        json!({"type": "object", "properties": {"a": {"type": "string", "format": "email"}}}),
        "services: {}\n",
    );
    let error = render_stack(&bad_schema, "s", &Map::new()).unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidDefinition { ref problems, .. } if problems.len() == 1),
        "{error}"
    );
}

#[test]
fn file_references_are_refused() {
    let cases = [
        "services:\n  web:\n    image: nginx\n    env_file: web.env\n",
        "services:\n  web:\n    image: nginx\n    secrets: [s]\nsecrets:\n  s:\n    file: ./s.txt\n",
        "services:\n  web:\n    image: nginx\n    volumes:\n      - ./data:/data\n",
    ];
    for template in cases {
        let definition = definition(json!({"type": "object"}), template);
        let error = render_stack(&definition, "s", &Map::new()).unwrap_err();
        assert!(
            matches!(error, RenderError::InvalidCompose { .. }),
            "{template}: {error}"
        );
    }
    // Named volumes and absolute host paths are fine.
    let definition = definition(
        json!({"type": "object"}),
        "services:\n  web:\n    image: nginx\n    volumes:\n      - data:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\nvolumes:\n  data: {}\n",
    );
    render_stack(&definition, "s", &Map::new()).unwrap();
}

#[test]
fn form_defaults_come_from_the_schema() {
    let definition = definition(
        json!({"type": "object", "properties": {"a": {"type": "integer", "default": 2}, "p": {"type": "string", "writeOnly": true}}}),
        "services: {}\n",
    );
    assert_eq!(
        definition_schema_defaults(&definition),
        map(json!({"a": 2}))
    );
}

/// The options each shipped definition needs besides its defaults.
fn required_options(definition: &str) -> Value {
    match definition {
        "webapp" => json!({"image": "nginx:1.27-alpine"}),
        "postgres" => json!({"password": "correct horse battery staple"}),
        _ => json!({}),
    }
}

#[test]
fn the_shipped_definitions_validate_and_render() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let report = crate::conf::read_conf(&root.canonicalize().unwrap());
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let names: Vec<&str> = report.conf.definitions.keys().map(String::as_str).collect();
    for expected in ["postgres", "redis", "static-site", "webapp"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(report.conf.images.contains_key("static-site"));
    for (name, definition) in &report.conf.definitions {
        assert!(definition.readme.is_some(), "{name} has no README.md");
        assert!(check_schema_support(&definition.meta.options).is_empty());
        let rendered = render_stack(definition, name, &map(required_options(name)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            rendered.warnings.is_empty(),
            "{name}: {:?}",
            rendered.warnings
        );
        for secret in rendered.secret_options.values() {
            assert!(!rendered.compose.contains(&secret.value), "{name}");
        }
    }
}

#[test]
fn the_webapp_definition_routes_its_domain() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let report = crate::conf::read_conf(&root.canonicalize().unwrap());
    let webapp = &report.conf.definitions["webapp"];
    let rendered = render_stack(
        webapp,
        "shop",
        &map(json!({"image": "shop/web:1.2", "replicas": 3, "domain": "shop.example.org"})),
    )
    .unwrap();
    let service = load(&rendered.compose, &[]);
    assert_eq!(service.image.as_deref(), Some("shop/web:1.2"));
    let deploy = service.deploy.unwrap();
    assert_eq!(deploy.replicas, Some(3));
    assert_eq!(
        deploy
            .labels
            .get("traefik.http.routers.shop.rule")
            .map(String::as_str),
        Some("Host(`shop.example.org`)")
    );
    assert_eq!(
        deploy.labels.get("voc.domain").map(String::as_str),
        Some("shop.example.org")
    );
    let error = render_stack(
        webapp,
        "shop",
        &map(json!({"replicas": 30, "domain": "x y"})),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "image is required; replicas must be at most 20; domain must be a host name (dot-separated labels of letters, digits and hyphens, each at most 63 characters)"
    );
}
