use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(text: &str, pairs: &[(&str, &str)]) -> Result<ServerConfig, ConfigError> {
    ServerConfig::from_toml(text, Path::new("voc.toml"), &env(pairs))
}

#[test]
fn no_configuration_at_all_gives_the_defaults() {
    let config = load("", &[("VOC_DATA_DIR", "/tmp/voc-data")]).unwrap();
    assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(config.repo.url, None);
    assert_eq!(config.repo.branch, "main");
    assert_eq!(config.repo.poll_interval, Duration::from_secs(60));
    assert_eq!(config.targets.keys().collect::<Vec<_>>(), ["default"]);
    assert_eq!(config.author.name, "voc");
    assert!(config.webhooks.github_secret.is_none());
}

#[test]
fn the_environment_overrides_the_file() {
    let text = r#"
listen = "0.0.0.0:9000"
[repo]
url = "https://git.example.org/ops/conf.git"
branch = "prod"
poll_interval = "5m"
"#;
    let config = load(
        text,
        &[
            ("VOC_REPO_BRANCH", "staging"),
            ("VOC_POLL_INTERVAL", "30s"),
            ("VOC_ADMIN_PASSWORD", "s3cret-pass"),
        ],
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(
        config.repo.url.as_deref(),
        Some("https://git.example.org/ops/conf.git")
    );
    assert_eq!(config.repo.branch, "staging");
    assert_eq!(config.repo.poll_interval, Duration::from_secs(30));
    assert_eq!(config.admin_password.as_deref(), Some("s3cret-pass"));
}

#[test]
fn an_unknown_key_is_refused_with_its_name_and_line() {
    let error = load("[repo]\nurl = \"x\"\npoll_intervall = \"5m\"\n", &[]).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("voc.toml"), "{message}");
    assert!(message.contains("poll_intervall"), "{message}");
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn bad_values_name_their_key() {
    let error = load("listen = \"localhost\"\n", &[]).unwrap_err();
    assert!(error.to_string().starts_with("listen:"), "{error}");
    let error = load("[repo]\npoll_interval = \"soon\"\n", &[]).unwrap_err();
    assert!(
        error.to_string().starts_with("repo.poll_interval:"),
        "{error}"
    );
    let error = load(
        "[targets.edge]\nhost = \"tcp://10.0.0.2:2376\"\ntls_ca = \"ca.pem\"\n",
        &[],
    )
    .unwrap_err();
    assert!(error.to_string().contains("tls_cert"), "{error}");
    let error = load("[targets.edge]\nhost = \"10.0.0.2\"\n", &[]).unwrap_err();
    assert!(error.to_string().contains("targets.edge.host"), "{error}");
    let error = load("[targets.Bad_Name]\n", &[]).unwrap_err();
    assert!(error.to_string().contains("targets.Bad_Name"), "{error}");
}

#[test]
fn targets_with_tls_and_secret_variables() {
    let text = r#"
secret_variables_from_env = ["REGISTRY_TOKEN", "MISSING"]
interpolation_variables = ["DOMAIN"]
[secret_variables]
NPM_TOKEN = "abc"
[targets.edge]
host = "tcp://10.0.0.2:2376"
tls_ca = "/etc/voc/edge/ca.pem"
tls_cert = "/etc/voc/edge/cert.pem"
tls_key = "/etc/voc/edge/key.pem"
"#;
    let config = load(
        text,
        &[("REGISTRY_TOKEN", "t0k"), ("DOMAIN", "example.org")],
    )
    .unwrap();
    assert_eq!(config.targets.len(), 2);
    let edge = &config.targets["edge"];
    assert_eq!(edge.host.as_deref(), Some("tcp://10.0.0.2:2376"));
    assert!(edge.tls.is_some());
    assert_eq!(config.secret_variables["NPM_TOKEN"], "abc");
    assert_eq!(config.secret_variables["REGISTRY_TOKEN"], "t0k");
    assert!(!config.secret_variables.contains_key("MISSING"));
    let vars = config.allowed_variables(&env(&[("DOMAIN", "example.org"), ("HOME", "/root")]));
    assert_eq!(vars.len(), 1);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
    assert_eq!(parse_duration("1.5s"), None);
    assert_eq!(parse_duration("-1s"), None);
}

#[test]
fn debug_output_never_shows_a_secret() {
    let text = r#"
[repo]
token = "repo-token-value"
password = "repo-password-value"
[webhooks]
github_secret = "github-secret-value"
[secret_variables]
NPM_TOKEN = "npm-token-value"
"#;
    let config = load(text, &[("VOC_ADMIN_PASSWORD", "admin-password-value")]).unwrap();
    let shown = format!("{config:?}");
    for secret in [
        "repo-token-value",
        "repo-password-value",
        "github-secret-value",
        "npm-token-value",
        "admin-password-value",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("NPM_TOKEN"), "{shown}");
}

#[test]
fn the_admin_password_and_the_secrets_key_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("voc_admin_password");
    std::fs::write(&password_file, "from-a-swarm-secret\n").unwrap();
    let password_path = password_file.to_str().unwrap();

    let config = load(
        "",
        &[
            ("VOC_ADMIN_PASSWORD_FILE", password_path),
            ("VOC_SECRETS_KEY_FILE", "/run/secrets/voc_secrets_key"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.admin_password.as_deref(),
        Some("from-a-swarm-secret")
    );
    assert_eq!(
        config.secrets_key_file.as_deref(),
        Some(Path::new("/run/secrets/voc_secrets_key"))
    );
    assert!(!format!("{config:?}").contains("from-a-swarm-secret"));

    // The same keys in the file; the environment wins over it.
    let text = format!(
        "admin_password_file = {password_path:?}\nsecrets_key_file = \"/etc/voc/secrets.key\"\n"
    );
    let config = load(&text, &[]).unwrap();
    assert_eq!(
        config.admin_password.as_deref(),
        Some("from-a-swarm-secret")
    );
    assert_eq!(
        config.secrets_key_file.as_deref(),
        Some(Path::new("/etc/voc/secrets.key"))
    );
    let config = load(&text, &[("VOC_SECRETS_KEY_FILE", "/run/secrets/k")]).unwrap();
    assert_eq!(
        config.secrets_key_file.as_deref(),
        Some(Path::new("/run/secrets/k"))
    );

    // Only the one line break `echo` adds goes; other spaces are the password's.
    std::fs::write(&password_file, "  spaced password \r\n").unwrap();
    let config = load("", &[("VOC_ADMIN_PASSWORD_FILE", password_path)]).unwrap();
    assert_eq!(config.admin_password.as_deref(), Some("  spaced password "));

    // Unset: no password, the data folder's key.
    let config = load("", &[]).unwrap();
    assert_eq!(config.admin_password, None);
    assert_eq!(config.secrets_key_file, None);
}

#[test]
fn a_bad_admin_password_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = load(
        "",
        &[("VOC_ADMIN_PASSWORD_FILE", missing.to_str().unwrap())],
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("admin_password_file:"), "{error}");
    assert!(error.contains(missing.to_str().unwrap()), "{error}");

    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let error = load("", &[("VOC_ADMIN_PASSWORD_FILE", empty.to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(error.contains("is empty"), "{error}");

    std::fs::write(&empty, "a-password-in-a-file").unwrap();
    let error = load(
        "",
        &[
            ("VOC_ADMIN_PASSWORD_FILE", empty.to_str().unwrap()),
            ("VOC_ADMIN_PASSWORD", "another-password"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("VOC_ADMIN_PASSWORD is set too"), "{error}");
}

#[test]
fn the_metrics_token_comes_from_the_file_or_the_environment_and_stays_masked() {
    assert_eq!(load("", &[]).unwrap().metrics_token, None);
    let config = load("metrics_token = \"from-file\"\n", &[]).unwrap();
    assert_eq!(config.metrics_token.as_deref(), Some("from-file"));
    let config = load(
        "metrics_token = \"from-file\"\n",
        &[("VOC_METRICS_TOKEN", "from-env")],
    )
    .unwrap();
    assert_eq!(config.metrics_token.as_deref(), Some("from-env"));
    let shown = format!("{config:?}");
    assert!(!shown.contains("from-env"), "{shown}");
    assert!(shown.contains("metrics_token: \"***\""), "{shown}");
}
