//! A target's notifications: `[targets.<name>.notify]`, the webhook voc
//! calls when a job on the target fails and when it recovers (see
//! `notify`). Reading it is pure apart from reading `secret_file`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, parse_duration, read_secret_file};

/// How many times a notification is sent before voc gives up, by default.
pub const DEFAULT_ATTEMPTS: u32 = 5;
/// The most attempts the configuration accepts (about an hour of retries).
pub const MAX_ATTEMPTS: u32 = 20;
/// How long one attempt may take, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a target's notifications go. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The receiver: an `http://` or `https://` URL voc POSTs JSON to.
    pub url: String,
    /// The HMAC-SHA256 key of the `X-Voc-Signature-256` header; `None`:
    /// deliveries are not signed.
    pub secret: Option<String>,
    /// How many times a delivery is tried, the first included.
    pub attempts: u32,
    /// How long one attempt may take (connection and answer).
    pub timeout: Duration,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("url", &self.url)
            .field("secret", &super::masked(&self.secret))
            .field("attempts", &self.attempts)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The table's shape in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileNotify {
    url: Option<String>,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    attempts: Option<u32>,
    timeout: Option<String>,
}

/// Validates target `target`'s `notify` table.
pub(super) fn read_notify(target: &str, file: FileNotify) -> Result<NotifyConfig, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        key: format!("targets.{target}.notify.{key}"),
        message,
    };
    let url = file.url.ok_or_else(|| {
        invalid(
            "url",
            "is missing: where should voc POST the notifications?".into(),
        )
    })?;
    check_url(&url).map_err(|message| invalid("url", message))?;
    let secret = match (file.secret, file.secret_file) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "secret_file",
                "secret is set too: give the secret one way only".into(),
            ));
        }
        (Some(secret), None) if secret.is_empty() => {
            return Err(invalid(
                "secret",
                "is empty: remove it to send unsigned notifications".into(),
            ));
        }
        (secret, None) => secret,
        (None, Some(path)) => Some(read_secret_file(&path).map_err(|m| invalid("secret_file", m))?),
    };
    let attempts = file.attempts.unwrap_or(DEFAULT_ATTEMPTS);
    if !(1..=MAX_ATTEMPTS).contains(&attempts) {
        return Err(invalid(
            "attempts",
            format!("{attempts} is not between 1 and {MAX_ATTEMPTS}"),
        ));
    }
    let timeout = match file.timeout {
        None => DEFAULT_TIMEOUT,
        Some(text) => parse_duration(&text)
            .filter(|timeout| *timeout >= Duration::from_secs(1))
            .ok_or_else(|| {
                invalid(
                    "timeout",
                    format!("`{text}` is not a duration of at least 1s (e.g. 10s)"),
                )
            })?,
    };
    Ok(NotifyConfig {
        url,
        secret,
        attempts,
        timeout,
    })
}

/// Why `url` cannot receive notifications, if it cannot.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` must start with https:// or http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    if authority.contains('@') {
        return Err(format!(
            "`{url}` carries a user or password: use `secret` to authenticate voc"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{url}` contains a space or a control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(toml: &str) -> Result<NotifyConfig, ConfigError> {
        let file: FileNotify = toml::from_str(toml).expect("valid TOML");
        read_notify("edge", file)
    }

    #[test]
    fn only_the_url_is_needed() {
        let config = read("url = \"https://hooks.example.org/voc\"").expect("valid");
        assert_eq!(
            config,
            NotifyConfig {
                url: "https://hooks.example.org/voc".into(),
                secret: None,
                attempts: DEFAULT_ATTEMPTS,
                timeout: DEFAULT_TIMEOUT,
            }
        );
    }

    #[test]
    fn every_key() {
        let config = read(
            "url = \"http://10.0.0.9:8080/hook?x=1\"\nsecret = \"s3cret\"\nattempts = 3\ntimeout = \"30s\"",
        )
        .expect("valid");
        assert_eq!(config.secret.as_deref(), Some("s3cret"));
        assert_eq!(config.attempts, 3);
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert!(!format!("{config:?}").contains("s3cret"), "{config:?}");
    }

    #[test]
    fn the_secret_comes_from_a_file() {
        let dir = tempfile::tempdir().expect("temp folder");
        let path = dir.path().join("notify-secret");
        std::fs::write(&path, "from-a-file\n").expect("write");
        let toml = format!("url = \"https://h.example/x\"\nsecret_file = {:?}", path);
        assert_eq!(
            read(&toml).expect("valid").secret.as_deref(),
            Some("from-a-file")
        );
        let both = format!("{toml}\nsecret = \"x\"");
        let error = read(&both).unwrap_err().to_string();
        assert!(
            error.starts_with("targets.edge.notify.secret_file: secret is set too"),
            "{error}"
        );
        std::fs::write(&path, "\n").expect("write");
        let error = read(&toml).unwrap_err().to_string();
        assert!(error.ends_with("is empty"), "{error}");
        let missing = "url = \"https://h.example/x\"\nsecret_file = \"/nonexistent/secret\"";
        let error = read(missing).unwrap_err().to_string();
        assert!(error.contains("cannot read /nonexistent/secret"), "{error}");
    }

    #[test]
    fn each_target_has_its_own_and_unknown_keys_are_refused() {
        let load = |text: &str| {
            super::super::ServerConfig::from_toml(
                text,
                std::path::Path::new("voc.toml"),
                &std::collections::BTreeMap::new(),
            )
        };
        let text = "[targets.edge]\nhost = \"tcp://10.0.0.2:2376\"\n[targets.edge.notify]\nurl = \"https://h.example/x\"\n";
        let config = load(text).expect("valid");
        let edge = config.targets["edge"]
            .notify
            .as_ref()
            .expect("edge notifies");
        assert_eq!(edge.url, "https://h.example/x");
        assert_eq!(config.targets["default"].notify, None);
        let error = load(&format!("{text}attemps = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("attemps") && error.contains("line 5"),
            "{error}"
        );
        let error = load("[targets.default.notify]\nurl = \"mailto:ops\"\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("targets.default.notify.url: `mailto:ops` must start"),
            "{error}"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("secret = \"x\"", "targets.edge.notify.url: is missing"),
            (
                "url = \"ftp://h/x\"",
                "targets.edge.notify.url: `ftp://h/x` must start with",
            ),
            (
                "url = \"https:///x\"",
                "targets.edge.notify.url: `https:///x` names no host",
            ),
            (
                "url = \"https://u:p@h/x\"",
                "targets.edge.notify.url: `https://u:p@h/x` carries a user",
            ),
            (
                "url = \"https://h/a b\"",
                "targets.edge.notify.url: `https://h/a b` contains a space",
            ),
            (
                "url = \"https://h\"\nsecret = \"\"",
                "targets.edge.notify.secret: is empty",
            ),
            (
                "url = \"https://h\"\nattempts = 0",
                "targets.edge.notify.attempts: 0 is not between 1 and 20",
            ),
            (
                "url = \"https://h\"\nattempts = 21",
                "targets.edge.notify.attempts: 21 is not",
            ),
            (
                "url = \"https://h\"\ntimeout = \"soon\"",
                "targets.edge.notify.timeout: `soon` is not a duration",
            ),
            (
                "url = \"https://h\"\ntimeout = \"500ms\"",
                "targets.edge.notify.timeout: `500ms` is not a duration of at least 1s",
            ),
        ];
        for (toml, expected) in cases {
            let error = read(toml).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{toml}: {error}");
        }
    }
}
