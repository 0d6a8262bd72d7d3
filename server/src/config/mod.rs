//! `voc serve`'s configuration: a TOML file, then environment overrides,
//! then defaults. Reading it is pure apart from reading the file; nothing
//! here connects to anything.
//!
//! With no file and no environment at all, voc still serves: a local conf
//! repo in the data folder (seeded from `templates/`), the local engine as
//! target `default`, and a listen address on loopback.
//!
//! Every key, its environment variable and its default are in
//! `docs/configuration.md`; [`ServerConfig::from_toml`] refuses unknown keys
//! with their path, so a typo never passes silently.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::conf::model::DEFAULT_TARGET;

mod notify;
pub use notify::NotifyConfig;

/// The whole configuration of `voc serve`. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// voc's data folder: the store, the clone of the conf repo, the
    /// secrets key, the local conf repo when no URL is configured.
    pub data_dir: PathBuf,
    /// The conf repo.
    pub repo: RepoConfig,
    /// Who voc's own commits are by (the committer; the author is the API
    /// user).
    pub author: AuthorConfig,
    /// Secrets the webhook endpoints check.
    pub webhooks: WebhookConfig,
    /// Docker engines, by name; `default` always exists.
    pub targets: BTreeMap<String, TargetConfig>,
    /// Names of environment variables the Compose files may read for
    /// interpolation (voc never reads its environment otherwise).
    pub interpolation_variables: Vec<String>,
    /// Values for `$NAME` build args, by name. From the file's
    /// `[secret_variables]` table, or from the environment for names listed
    /// in `secret_variables_from_env`.
    pub secret_variables: BTreeMap<String, String>,
    /// How often live state (services, tasks) is read from each target.
    pub live_interval: Duration,
    /// How often the live specs are compared with the desired ones.
    pub drift_interval: Duration,
    /// How long a deploy job waits for its services to converge.
    pub deploy_timeout: Duration,
    /// The first admin's password (else one is generated and printed once),
    /// from `VOC_ADMIN_PASSWORD` or read from `admin_password_file`.
    pub admin_password: Option<String>,
    /// voc's age key for the conf repo's secrets, read from this file (a
    /// swarm secret); `None`: `secrets.key` in the data folder, made at the
    /// first start.
    pub secrets_key_file: Option<PathBuf>,
    /// The `Origin`s a browser may use the session cookie from on the
    /// WebSocket; empty: the server's own address only.
    pub allowed_origins: Vec<String>,
    /// The bearer token `GET /metrics` asks for; `None`: open, like
    /// `/healthz` (see `docs/observability.md`).
    pub metrics_token: Option<String>,
}

/// The conf repo.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RepoConfig {
    /// Anything git can fetch from. `None`: a local bare repo in the data
    /// folder (`repo.git`), seeded from `templates/` at the first start.
    pub url: Option<String>,
    /// The branch voc follows.
    pub branch: String,
    /// An access token for HTTPS.
    pub token: Option<String>,
    /// A user name for HTTPS (with `password`) or SSH.
    pub username: Option<String>,
    /// A password for HTTPS.
    pub password: Option<String>,
    /// A private key file for SSH.
    pub ssh_key: Option<PathBuf>,
    /// How often the branch is fetched (webhooks make it sooner).
    pub poll_interval: Duration,
}

/// Who voc's commits are by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorConfig {
    /// The name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
}

/// The secrets the webhook endpoints check; an endpoint without its secret
/// refuses every delivery.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct WebhookConfig {
    /// GitLab's `X-Gitlab-Token`.
    pub gitlab_token: Option<String>,
    /// GitHub's HMAC key (`X-Hub-Signature-256`).
    pub github_secret: Option<String>,
    /// Gitea's HMAC key (`X-Gitea-Signature`).
    pub gitea_secret: Option<String>,
}

/// One Docker engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// `unix:///var/run/docker.sock` or `tcp://host:2376`. `None`: the
    /// way the docker CLI finds it (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`,
    /// `DOCKER_CERT_PATH`).
    pub host: Option<String>,
    /// TLS files for a `tcp://` host.
    pub tls: Option<TlsConfig>,
    /// The webhook told when a job on this target fails or recovers.
    pub notify: Option<NotifyConfig>,
}

/// The files of mutual TLS with a remote engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The CA that signed the engine's certificate.
    pub ca: PathBuf,
    /// voc's client certificate.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
}

/// How a secret shows in `Debug`: whether it is set, never its value.
fn masked(secret: &Option<String>) -> &'static str {
    if secret.is_some() { "***" } else { "unset" }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("repo", &self.repo)
            .field("author", &self.author)
            .field("webhooks", &self.webhooks)
            .field("targets", &self.targets)
            .field("interpolation_variables", &self.interpolation_variables)
            .field(
                "secret_variables",
                &self.secret_variables.keys().collect::<Vec<_>>(),
            )
            .field("live_interval", &self.live_interval)
            .field("drift_interval", &self.drift_interval)
            .field("deploy_timeout", &self.deploy_timeout)
            .field("admin_password", &masked(&self.admin_password))
            .field("secrets_key_file", &self.secrets_key_file)
            .field("allowed_origins", &self.allowed_origins)
            .field("metrics_token", &masked(&self.metrics_token))
            .finish()
    }
}

impl std::fmt::Debug for RepoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoConfig")
            .field("url", &self.url)
            .field("branch", &self.branch)
            .field("token", &masked(&self.token))
            .field("username", &self.username)
            .field("password", &masked(&self.password))
            .field("ssh_key", &self.ssh_key)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("gitlab_token", &masked(&self.gitlab_token))
            .field("github_secret", &masked(&self.github_secret))
            .field("gitea_secret", &masked(&self.gitea_secret))
            .finish()
    }
}

/// A configuration that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the configuration file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is invalid, or a key is unknown or has the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line, column and key.
        message: String,
    },
    /// A value is invalid.
    #[error("{key}: {message}")]
    Invalid {
        /// The key (`repo.poll_interval`) or environment variable.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// The file's shape. Every key optional; unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    repo: FileRepo,
    #[serde(default)]
    author: FileAuthor,
    #[serde(default)]
    webhooks: FileWebhooks,
    #[serde(default)]
    targets: BTreeMap<String, FileTarget>,
    #[serde(default)]
    interpolation_variables: Vec<String>,
    #[serde(default)]
    secret_variables: BTreeMap<String, String>,
    #[serde(default)]
    secret_variables_from_env: Vec<String>,
    live_interval: Option<String>,
    drift_interval: Option<String>,
    deploy_timeout: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    admin_password_file: Option<PathBuf>,
    secrets_key_file: Option<PathBuf>,
    metrics_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepo {
    url: Option<String>,
    branch: Option<String>,
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    ssh_key: Option<PathBuf>,
    poll_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuthor {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhooks {
    gitlab_token: Option<String>,
    github_secret: Option<String>,
    gitea_secret: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTarget {
    host: Option<String>,
    tls_ca: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    notify: Option<notify::FileNotify>,
}

/// The default listen address: loopback, so a fresh voc is not reachable
/// from the network before its admin password is known.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl ServerConfig {
    /// Reads the configuration: the file at `path` when given, then the
    /// `VOC_*` variables of `env` over it.
    pub fn load(
        path: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<ServerConfig, ConfigError> {
        let (text, path) = match path {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?,
                path.to_owned(),
            ),
            None => (String::new(), PathBuf::from("(defaults)")),
        };
        ServerConfig::from_toml(&text, &path, env)
    }

    /// The configuration from TOML text (named `path` in errors) and the
    /// environment `env`.
    pub fn from_toml(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<ServerConfig, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            message: error.to_string().trim_end().replace('\n', " "),
        })?;
        let get = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();

        let listen_text = get("VOC_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                key: "listen".into(),
                message: format!(
                    "`{listen_text}` is not an address and port (e.g. `0.0.0.0:8080`)"
                ),
            })?;
        let data_dir = get("VOC_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(default_data_dir);

        let duration =
            |key: &str, env_name: &str, value: Option<String>, default: Duration| match get(
                env_name,
            )
            .or(value)
            {
                None => Ok(default),
                Some(text) => parse_duration(&text).ok_or_else(|| ConfigError::Invalid {
                    key: key.to_owned(),
                    message: format!(
                        "`{text}` is not a duration (use a number and a unit: 30s, 5m, 1h)"
                    ),
                }),
            };
        let repo = RepoConfig {
            url: get("VOC_REPO_URL").or(file.repo.url),
            branch: get("VOC_REPO_BRANCH")
                .or(file.repo.branch)
                .unwrap_or_else(|| "main".to_owned()),
            token: get("VOC_REPO_TOKEN").or(file.repo.token),
            username: get("VOC_REPO_USERNAME").or(file.repo.username),
            password: get("VOC_REPO_PASSWORD").or(file.repo.password),
            ssh_key: get("VOC_REPO_SSH_KEY")
                .map(PathBuf::from)
                .or(file.repo.ssh_key),
            poll_interval: duration(
                "repo.poll_interval",
                "VOC_POLL_INTERVAL",
                file.repo.poll_interval,
                Duration::from_secs(60),
            )?,
        };
        if repo.poll_interval < Duration::from_secs(1) {
            return Err(ConfigError::Invalid {
                key: "repo.poll_interval".into(),
                message: "must be at least 1s".into(),
            });
        }
        let author = AuthorConfig {
            name: get("VOC_AUTHOR_NAME")
                .or(file.author.name)
                .unwrap_or_else(|| "voc".to_owned()),
            email: get("VOC_AUTHOR_EMAIL")
                .or(file.author.email)
                .unwrap_or_else(|| "voc@localhost".to_owned()),
        };
        let webhooks = WebhookConfig {
            gitlab_token: get("VOC_GITLAB_TOKEN").or(file.webhooks.gitlab_token),
            github_secret: get("VOC_GITHUB_SECRET").or(file.webhooks.github_secret),
            gitea_secret: get("VOC_GITEA_SECRET").or(file.webhooks.gitea_secret),
        };

        let mut targets = BTreeMap::new();
        for (name, target) in file.targets {
            crate::conf::name::check_name(&name).map_err(|error| ConfigError::Invalid {
                key: format!("targets.{name}"),
                message: error.to_string(),
            })?;
            let tls = match (target.tls_ca, target.tls_cert, target.tls_key) {
                (None, None, None) => None,
                (Some(ca), Some(cert), Some(key)) => Some(TlsConfig { ca, cert, key }),
                _ => {
                    return Err(ConfigError::Invalid {
                        key: format!("targets.{name}"),
                        message: "TLS needs all three of tls_ca, tls_cert and tls_key".into(),
                    });
                }
            };
            if let Some(host) = &target.host
                && !(host.starts_with("unix://") || host.starts_with("tcp://"))
            {
                return Err(ConfigError::Invalid {
                    key: format!("targets.{name}.host"),
                    message: format!("`{host}` must start with unix:// or tcp://"),
                });
            }
            let notify = target
                .notify
                .map(|table| notify::read_notify(&name, table))
                .transpose()?;
            targets.insert(
                name,
                TargetConfig {
                    host: target.host,
                    tls,
                    notify,
                },
            );
        }
        targets
            .entry(DEFAULT_TARGET.to_owned())
            .or_insert(TargetConfig {
                host: None,
                tls: None,
                notify: None,
            });

        let mut secret_variables = file.secret_variables;
        for name in &file.secret_variables_from_env {
            if let Some(value) = env.get(name) {
                secret_variables.insert(name.clone(), value.clone());
            }
        }
        let mut allowed_origins = file.allowed_origins;
        if let Some(origins) = get("VOC_ALLOWED_ORIGINS") {
            allowed_origins = origins
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
        }

        Ok(ServerConfig {
            listen,
            data_dir,
            repo,
            author,
            webhooks,
            targets,
            interpolation_variables: file.interpolation_variables,
            secret_variables,
            live_interval: duration(
                "live_interval",
                "VOC_LIVE_INTERVAL",
                file.live_interval,
                Duration::from_secs(2),
            )?,
            drift_interval: duration(
                "drift_interval",
                "VOC_DRIFT_INTERVAL",
                file.drift_interval,
                Duration::from_secs(30),
            )?,
            deploy_timeout: duration(
                "deploy_timeout",
                "VOC_DEPLOY_TIMEOUT",
                file.deploy_timeout,
                Duration::from_secs(300),
            )?,
            admin_password: admin_password(
                get("VOC_ADMIN_PASSWORD"),
                get("VOC_ADMIN_PASSWORD_FILE")
                    .map(PathBuf::from)
                    .or(file.admin_password_file),
            )?,
            secrets_key_file: get("VOC_SECRETS_KEY_FILE")
                .map(PathBuf::from)
                .or(file.secrets_key_file),
            allowed_origins,
            metrics_token: get("VOC_METRICS_TOKEN").or(file.metrics_token),
        })
    }

    /// The interpolation variables the configuration allows, with their
    /// values from `env`.
    pub fn allowed_variables(&self, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        self.interpolation_variables
            .iter()
            .filter_map(|name| env.get(name).map(|value| (name.clone(), value.clone())))
            .collect()
    }
}

/// The first admin's password: `VOC_ADMIN_PASSWORD`, or the contents of
/// `password_file` (a swarm secret), without the line break a file made
/// with `echo` ends with.
fn admin_password(
    password: Option<String>,
    password_file: Option<PathBuf>,
) -> Result<Option<String>, ConfigError> {
    let Some(path) = password_file else {
        return Ok(password);
    };
    let invalid = |message: String| ConfigError::Invalid {
        key: "admin_password_file".into(),
        message,
    };
    if password.is_some() {
        return Err(invalid(
            "VOC_ADMIN_PASSWORD is set too: give the password one way only".into(),
        ));
    }
    read_secret_file(&path).map(Some).map_err(invalid)
}

/// A secret given as a file (a swarm secret): its contents without the
/// line break a file made with `echo` ends with. An unreadable or empty
/// file is an error sentence naming it.
fn read_secret_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let secret = text
        .strip_suffix('\n')
        .map(|text| text.strip_suffix('\r').unwrap_or(text))
        .unwrap_or(&text);
    if secret.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(secret.to_owned())
}

/// The default data folder: `/var/lib/voc` for root, else
/// `~/.local/share/voc`.
pub fn default_data_dir() -> PathBuf {
    let is_root = std::env::var("USER").is_ok_and(|user| user == "root")
        || std::env::var("HOME").is_ok_and(|home| home == "/root");
    if is_root {
        return PathBuf::from("/var/lib/voc");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/voc"),
        None => PathBuf::from(".voc"),
    }
}

/// `500ms`, `30s`, `5m`, `1h`, or a plain number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis = match unit {
        "ms" => number,
        "" | "s" => number.checked_mul(1000)?,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests;
