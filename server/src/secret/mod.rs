//! voc's own key for the secrets it keeps in the conf repo.
//!
//! A `writeOnly` option of a stack definition (a database password) must
//! never reach git in plain text, yet the deploy needs it. voc encrypts
//! such a value with [age](https://age-encryption.org) to an x25519 key of
//! its own, commits the ciphertext in `stack-<stack>.json` under
//! `"secrets": {"VOC_SECRET_<NAME>": "<ciphertext>"}`, and decrypts it into
//! the stack's interpolation variables when it deploys
//! ([`stack_variables`]). The rendered Compose file only holds
//! `${VOC_SECRET_<NAME>}`.
//!
//! The key is `<data folder>/secrets.key` (an age identity file, mode
//! 0600), generated the first time `voc serve` starts
//! ([`SecretKey::load_or_create`]); `voc apply` uses the same file when its
//! data folder has one ([`SecretKey::load`]). Or it is a file of the
//! operator's (`secrets_key_file`, e.g. a swarm secret made with `voc
//! keygen`), which voc only reads ([`SecretKey::from_file`]). Whoever holds
//! the key can read every secret of the repo: back it up with the data
//! folder, and never commit it. A ciphertext is the base64 of age's binary format
//! (voc builds age without its ASCII armour).
//!
//! Everything here is blocking (file I/O, and age's scrypt-free x25519
//! work is fast but not free): call it from `spawn_blocking` in async
//! code.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use age::secrecy::ExposeSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::conf::model::StackConfig;

/// The key's file in the data folder.
pub const KEY_FILE: &str = "secrets.key";

/// What can go wrong with voc's key or a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key file exists but cannot be read.
    #[error("reading voc's secrets key {}", path.display())]
    ReadKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configured key file does not exist.
    #[error(
        "voc's secrets key {} does not exist (set by secrets_key_file or VOC_SECRETS_KEY_FILE; make a key with `voc keygen`)",
        path.display()
    )]
    MissingKey {
        /// The key file.
        path: PathBuf,
    },
    /// The key file holds no age identity.
    #[error("voc's secrets key {} is not an age identity file: {reason}", path.display())]
    InvalidKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// The key file cannot be created.
    #[error("creating voc's secrets key {}", path.display())]
    WriteKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// age refused to encrypt (it only fails on I/O into memory, which
    /// does not fail; kept for completeness).
    #[error("encrypting a secret: {0}")]
    Encrypt(String),
    /// A stack's secret cannot be decrypted.
    #[error(
        "the secret {variable} of stack {stack} cannot be decrypted with voc's key {}: {reason} (was it replaced since the secret was written? give the option's value again to encrypt it to the current key)",
        key_file.display()
    )]
    Decrypt {
        /// The stack.
        stack: String,
        /// The variable (`VOC_SECRET_DB_PASSWORD`).
        variable: String,
        /// The key file used.
        key_file: PathBuf,
        /// What age said, or why the text is no ciphertext.
        reason: String,
    },
    /// A stack has secrets and this run has no key to decrypt them.
    #[error(
        "stack {stack} has encrypted secrets ({}) and no secrets key is available: voc keeps it in its data folder as {KEY_FILE} (set --data-dir or VOC_DATA_DIR to the folder of the voc that wrote them)",
        variables.join(", ")
    )]
    NoKey {
        /// The stack.
        stack: String,
        /// Its secret variables.
        variables: Vec<String>,
    },
}

/// The result of this module's functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// voc's age key: encrypts secrets to itself and decrypts them. Cheap to
/// clone.
#[derive(Clone)]
pub struct SecretKey {
    identity: Arc<age::x25519::Identity>,
    file: PathBuf,
}

impl fmt::Debug for SecretKey {
    // The identity is the secret of secrets: only its file and public half.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("file", &self.file)
            .field("recipient", &self.recipient())
            .finish()
    }
}

impl SecretKey {
    /// The key in `data_dir`, generated (mode 0600) if there is none yet.
    /// Two processes starting at once end up with the same key: the file
    /// is created atomically and never overwritten.
    pub fn load_or_create(data_dir: &Path) -> Result<SecretKey> {
        if let Some(key) = SecretKey::load(data_dir)? {
            return Ok(key);
        }
        let path = data_dir.join(KEY_FILE);
        let write_error = |source| Error::WriteKey {
            path: path.clone(),
            source,
        };
        let (identity, text) = new_identity();
        // Written under a temporary name, then linked to the final one:
        // the link fails if another process created the key meanwhile, and
        // a reader never sees a half-written file.
        let temporary = data_dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
        let written = write_private(&temporary, text.as_bytes())
            .and_then(|()| std::fs::hard_link(&temporary, &path));
        let _ = std::fs::remove_file(&temporary);
        match written {
            Ok(()) => Ok(SecretKey {
                identity: Arc::new(identity),
                file: path,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                SecretKey::load(data_dir)?.ok_or_else(|| write_error(error))
            }
            Err(error) => Err(write_error(error)),
        }
    }

    /// The key in `data_dir`, if there is one.
    pub fn load(data_dir: &Path) -> Result<Option<SecretKey>> {
        match SecretKey::from_file(&data_dir.join(KEY_FILE)) {
            Ok(key) => Ok(Some(key)),
            Err(Error::MissingKey { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The key in the identity file `path` (one `AGE-SECRET-KEY-1...` line,
    /// `#` comments allowed), which must exist. voc never writes it.
    pub fn from_file(path: &Path) -> Result<SecretKey> {
        let path = path.to_owned();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingKey { path });
            }
            Err(source) => return Err(Error::ReadKey { path, source }),
        };
        let invalid = |reason: &str| Error::InvalidKey {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .ok_or_else(|| invalid("it holds no key line"))?;
        let identity = age::x25519::Identity::from_str(line)
            .map_err(|_| invalid("its key line is not an AGE-SECRET-KEY-1... identity"))?;
        Ok(SecretKey {
            identity: Arc::new(identity),
            file: path,
        })
    }

    /// The key file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The public half (`age1...`): anyone may encrypt to it.
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// `plain` encrypted to this key: base64 of age's binary format. Each
    /// call gives a different text (age uses a fresh file key), so equal
    /// secrets do not show as equal in git.
    pub fn encrypt(&self, plain: &str) -> Result<String> {
        let ciphertext = age::encrypt(&self.identity.to_public(), plain.as_bytes())
            .map_err(|error| Error::Encrypt(error.to_string()))?;
        Ok(STANDARD.encode(ciphertext))
    }

    /// The plain text of `ciphertext` (from [`SecretKey::encrypt`]), the
    /// secret `variable` of stack `stack` (named in the error).
    pub fn decrypt(&self, stack: &str, variable: &str, ciphertext: &str) -> Result<String> {
        let failure = |reason: String| Error::Decrypt {
            stack: stack.to_owned(),
            variable: variable.to_owned(),
            key_file: self.file.clone(),
            reason,
        };
        let binary = STANDARD.decode(ciphertext.trim()).map_err(|_| {
            failure("it is not base64 (voc writes age's binary format in base64)".to_owned())
        })?;
        let plain = age::decrypt(self.identity.as_ref(), &binary).map_err(|error| {
            failure(match error {
                age::DecryptError::NoMatchingKeys => "it was encrypted to another key".to_owned(),
                other => other.to_string(),
            })
        })?;
        String::from_utf8(plain).map_err(|_| failure("its plain text is not UTF-8".to_owned()))
    }
}

/// A new key and the text of its identity file (what `voc keygen` prints
/// and what voc writes to `secrets.key`): comments, then the key line.
pub fn new_identity() -> (age::x25519::Identity, String) {
    let identity = age::x25519::Identity::generate();
    let text = format!(
        "# voc's key for the secrets in the conf repo (age x25519). Keep it safe; never commit it.\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    );
    (identity, text)
}

/// Writes `bytes` to a new file `path` readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The interpolation variables of stack `stack` at deploy time: its
/// `variables`, and each of its `secrets` decrypted with `key` (a secret
/// wins over a variable of the same name). A secret that cannot be
/// decrypted, or secrets without a key, fail the stack's deploy.
pub fn stack_variables(
    stack: &str,
    config: &StackConfig,
    key: Option<&SecretKey>,
) -> Result<BTreeMap<String, String>> {
    let mut variables = config.variables.clone();
    if config.secrets.is_empty() {
        return Ok(variables);
    }
    let Some(key) = key else {
        return Err(Error::NoKey {
            stack: stack.to_owned(),
            variables: config.secrets.keys().cloned().collect(),
        });
    };
    for (variable, ciphertext) in &config.secrets {
        let plain = key.decrypt(stack, variable, ciphertext)?;
        variables.insert(variable.clone(), plain);
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_and_never_shows_in_its_ciphertext() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(dir.path()).unwrap();
        for plain in ["hunter2", "", "multi\nline: {x}", "ünïcødé ✓"] {
            let sealed = key.encrypt(plain).unwrap();
            if !plain.is_empty() {
                assert!(!sealed.contains(plain), "{sealed}");
            }
            assert_eq!(key.decrypt("shop", "VOC_SECRET_X", &sealed).unwrap(), plain);
        }
        assert_ne!(key.encrypt("same").unwrap(), key.encrypt("same").unwrap());
    }

    #[test]
    fn the_key_is_created_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SecretKey::load(dir.path()).unwrap().is_none());
        let created = SecretKey::load_or_create(dir.path()).unwrap();
        let again = SecretKey::load_or_create(dir.path()).unwrap();
        let loaded = SecretKey::load(dir.path()).unwrap().unwrap();
        assert_eq!(created.recipient(), again.recipient());
        assert_eq!(created.recipient(), loaded.recipient());
        assert!(created.recipient().starts_with("age1"));
        let sealed = created.encrypt("pw").unwrap();
        assert_eq!(loaded.decrypt("s", "VOC_SECRET_PW", &sealed).unwrap(), "pw");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(created.file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the key file remains");
        assert!(!format!("{created:?}").contains("AGE-SECRET-KEY"));
    }

    #[test]
    fn a_secret_for_another_key_fails_with_a_sentence_naming_it() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let writer = SecretKey::load_or_create(one.path()).unwrap();
        let reader = SecretKey::load_or_create(two.path()).unwrap();
        let sealed = writer.encrypt("pw").unwrap();
        let message = reader
            .decrypt("shop", "VOC_SECRET_DB_PASSWORD", &sealed)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("VOC_SECRET_DB_PASSWORD of stack shop"),
            "{message}"
        );
        assert!(message.contains("another key"), "{message}");
        assert!(message.contains("was it replaced"), "{message}");
        for garbage in ["not base64!", "aGVsbG8="] {
            let error = reader.decrypt("shop", "VOC_SECRET_A", garbage).unwrap_err();
            assert!(matches!(error, Error::Decrypt { .. }), "{error}");
        }
    }

    #[test]
    fn a_key_file_without_an_identity_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "# nothing\n").unwrap();
        let error = SecretKey::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("holds no key line"), "{error}");
        std::fs::write(dir.path().join(KEY_FILE), "AGE-SECRET-KEY-1NOPE\n").unwrap();
        let error = SecretKey::load_or_create(dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not an AGE-SECRET-KEY"), "{error}");
        assert!(
            !error.contains("NOPE"),
            "the key line is never echoed: {error}"
        );
    }

    #[test]
    fn a_configured_key_file_is_read_and_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voc_secrets_key");
        let error = SecretKey::from_file(&path).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("does not exist"), "{error}");
        assert!(error.contains("VOC_SECRETS_KEY_FILE"), "{error}");
        assert!(error.contains("voc keygen"), "{error}");
        assert!(!path.exists(), "no key is made in its place");

        let (identity, text) = new_identity();
        std::fs::write(&path, &text).unwrap();
        let key = SecretKey::from_file(&path).unwrap();
        assert_eq!(key.recipient(), identity.to_public().to_string());
        assert!(text.contains(&format!("# public key: {}", key.recipient())));
        assert_eq!(key.file(), path);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        std::fs::write(&path, "AGE-SECRET-KEY-1NOPE\n").unwrap();
        let error = SecretKey::from_file(&path).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("is not an AGE-SECRET-KEY"), "{error}");
    }

    #[test]
    fn stack_variables_add_the_decrypted_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(dir.path()).unwrap();
        let mut config = StackConfig::default();
        config.variables.insert("PORT".into(), "80".into());
        assert_eq!(
            stack_variables("shop", &config, None).unwrap(),
            config.variables
        );
        config
            .secrets
            .insert("VOC_SECRET_PW".into(), key.encrypt("s3cret").unwrap());
        let variables = stack_variables("shop", &config, Some(&key)).unwrap();
        assert_eq!(variables["VOC_SECRET_PW"], "s3cret");
        assert_eq!(variables["PORT"], "80");
        let error = stack_variables("shop", &config, None)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("stack shop has encrypted secrets (VOC_SECRET_PW)"),
            "{error}"
        );
    }
}
