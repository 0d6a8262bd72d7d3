//! Where the conf repo lives ([`Remote`]) and how to log in to it
//! ([`Credentials`]), plus the libgit2 callbacks that hand the credentials
//! over exactly once.
//!
//! libgit2 asks for credentials through a callback and, when the server
//! rejects what the callback returned, simply calls it again: a callback that
//! always answers with the same secret makes libgit2 loop until the server
//! gives up (for HTTP, libgit2 stops only after a fixed number of replays).
//! [`Authenticator`] answers once, refuses the second call, and remembers
//! why, so the caller can turn libgit2's error into
//! [`Error::AuthenticationFailed`] or [`Error::AuthenticationRequired`].

use std::cell::Cell;
use std::fmt;
use std::path::PathBuf;

use git2::{Cred, CredentialType, RemoteCallbacks};

use super::error::Error;

/// User name sent with a [`Credentials::Token`] over HTTPS when the URL names
/// none. GitHub accepts any user name with a token and documents
/// `x-access-token` for app tokens; GitLab wants `oauth2` for OAuth tokens
/// (put it in the URL: `https://oauth2@gitlab.example.org/...`).
pub const TOKEN_USERNAME: &str = "x-access-token";

/// User name for SSH when neither the credentials nor the URL name one.
const SSH_DEFAULT_USERNAME: &str = "git";

/// How to authenticate to a remote. `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Anonymous access (public HTTPS, `git://`, local paths).
    #[default]
    None,
    /// An access token over HTTPS, sent as the password of HTTP Basic auth;
    /// the user name is the URL's if it has one, else [`TOKEN_USERNAME`].
    Token {
        /// The token.
        token: String,
    },
    /// A user name and password over HTTPS (HTTP Basic auth).
    UserPassword {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// A private key file for SSH.
    SshKey {
        /// The private key file (OpenSSH or PEM format).
        private_key: PathBuf,
        /// The key's passphrase, if it is encrypted.
        passphrase: Option<String>,
        /// The SSH user; by default the URL's (`git@host:...`), else `git`.
        username: Option<String>,
    },
}

impl Credentials {
    /// What kind of credentials these are, for messages.
    fn kind(&self) -> &'static str {
        match self {
            Credentials::None => "no credentials",
            Credentials::Token { .. } => "a token",
            Credentials::UserPassword { .. } => "a user name and password",
            Credentials::SshKey { .. } => "an SSH key",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MASK: &str = "***";
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Token { .. } => f.debug_struct("Token").field("token", &MASK).finish(),
            Credentials::UserPassword { username, .. } => f
                .debug_struct("UserPassword")
                .field("username", username)
                .field("password", &MASK)
                .finish(),
            Credentials::SshKey {
                private_key,
                passphrase,
                username,
            } => f
                .debug_struct("SshKey")
                .field("private_key", private_key)
                .field("passphrase", &passphrase.as_ref().map(|_| MASK))
                .field("username", username)
                .finish(),
        }
    }
}

/// The conf repo's remote: where to fetch from, which branch, and how to log
/// in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Anything libgit2 can fetch from: `https://`, `ssh://`, `git@host:path`,
    /// `git://`, `file://` or a local path. Compared as written with the
    /// checkout's `origin` (no normalisation).
    pub url: String,
    /// The branch voc follows (a plain name: `main`, not `refs/heads/main`).
    pub branch: String,
    /// How to authenticate.
    pub credentials: Credentials,
}

impl Remote {
    /// The fetch refspec for the branch. Leading `+`: the remote-tracking ref
    /// follows force-pushes instead of refusing the non-fast-forward update.
    pub(crate) fn refspec(&self) -> String {
        format!("+refs/heads/{0}:refs/remotes/origin/{0}", self.branch)
    }

    /// Checks the branch name, so it cannot change the meaning of the
    /// refspec (`*`, `:`, `..`, spaces...).
    pub(crate) fn check_branch(&self) -> Result<(), Error> {
        let full = format!("refs/heads/{}", self.branch);
        if self.branch.is_empty() || !git2::Reference::is_valid_name(&full) {
            return Err(Error::InvalidBranch {
                branch: self.branch.clone(),
            });
        }
        Ok(())
    }
}

/// What the credential callback saw, read after the network operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthOutcome {
    /// The callback was not called, or its one answer was not refused.
    Untouched,
    /// The remote asked for credentials and none are configured.
    Required,
    /// The remote asked a second time: it rejected what we sent.
    Rejected,
    /// The remote asked for a kind of credential we do not have.
    WrongKind,
}

/// Hands [`Credentials`] to libgit2 at most once per operation and records
/// why it stopped. Make one per network operation (clone, fetch, push).
pub(crate) struct Authenticator<'a> {
    credentials: &'a Credentials,
    offered: Cell<bool>,
    outcome: Cell<AuthOutcome>,
}

impl<'a> Authenticator<'a> {
    /// An authenticator for one operation.
    pub(crate) fn new(credentials: &'a Credentials) -> Self {
        Authenticator {
            credentials,
            offered: Cell::new(false),
            outcome: Cell::new(AuthOutcome::Untouched),
        }
    }

    /// Callbacks with the credential callback set. A push adds
    /// `push_update_reference` to these (libgit2 reports a push as Ok even
    /// when the server rejected a ref; only that callback tells).
    pub(crate) fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |_url, username_from_url, allowed| {
            self.credential(username_from_url, allowed)
        });
        callbacks
    }

    fn credential(
        &self,
        username_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        if *self.credentials == Credentials::None {
            self.outcome.set(AuthOutcome::Required);
            return Err(git2::Error::from_str(
                "the remote asks for credentials and none are configured",
            ));
        }
        // SSH first asks for the user name alone when the URL has none; that
        // is not an attempt to log in, so it does not count.
        if allowed == CredentialType::USERNAME {
            return Cred::username(self.ssh_username(username_from_url));
        }
        if self.offered.replace(true) {
            self.outcome.set(AuthOutcome::Rejected);
            return Err(git2::Error::from_str(&format!(
                "the remote rejected {}",
                self.credentials.kind()
            )));
        }
        match self.credentials {
            Credentials::Token { token }
                if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) =>
            {
                Cred::userpass_plaintext(username_from_url.unwrap_or(TOKEN_USERNAME), token)
            }
            Credentials::UserPassword { username, password }
                if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) =>
            {
                Cred::userpass_plaintext(username, password)
            }
            Credentials::SshKey {
                private_key,
                passphrase,
                ..
            } if allowed.contains(CredentialType::SSH_KEY) => Cred::ssh_key(
                self.ssh_username(username_from_url),
                None,
                private_key,
                passphrase.as_deref(),
            ),
            _ => {
                self.outcome.set(AuthOutcome::WrongKind);
                Err(git2::Error::from_str(&format!(
                    "the remote does not accept {} (it asks for {})",
                    self.credentials.kind(),
                    describe_allowed(allowed)
                )))
            }
        }
    }

    fn ssh_username<'u>(&'u self, username_from_url: Option<&'u str>) -> &'u str {
        match self.credentials {
            Credentials::SshKey {
                username: Some(user),
                ..
            } => user,
            _ => username_from_url.unwrap_or(SSH_DEFAULT_USERNAME),
        }
    }

    /// Turns a failed operation's error into an authentication error when
    /// authentication is what failed, else hands it to `otherwise`.
    pub(crate) fn classify(
        &self,
        url: &str,
        error: git2::Error,
        otherwise: impl FnOnce(git2::Error) -> Error,
    ) -> Error {
        let url = url.to_owned();
        match self.outcome.get() {
            AuthOutcome::Required => Error::AuthenticationRequired { url, source: error },
            AuthOutcome::Rejected | AuthOutcome::WrongKind => {
                Error::AuthenticationFailed { url, source: error }
            }
            AuthOutcome::Untouched if error.code() == git2::ErrorCode::Auth => {
                Error::AuthenticationFailed { url, source: error }
            }
            AuthOutcome::Untouched => otherwise(error),
        }
    }
}

/// The credential kinds a remote accepts, in words.
fn describe_allowed(allowed: CredentialType) -> String {
    let names: Vec<&str> = [
        (
            CredentialType::USER_PASS_PLAINTEXT,
            "a user name and password",
        ),
        (CredentialType::SSH_KEY, "an SSH key"),
        (CredentialType::SSH_MEMORY, "an SSH key"),
        (CredentialType::SSH_CUSTOM, "a custom SSH signature"),
        (CredentialType::SSH_INTERACTIVE, "keyboard-interactive SSH"),
        (CredentialType::DEFAULT, "NTLM or Negotiate"),
        (CredentialType::USERNAME, "a user name"),
    ]
    .into_iter()
    .filter(|(kind, _)| allowed.contains(*kind))
    .map(|(_, name)| name)
    .collect();
    if names.is_empty() {
        "nothing voc supports".to_owned()
    } else {
        names.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let all = [
            Credentials::Token {
                token: "tok-secret".into(),
            },
            Credentials::UserPassword {
                username: "alice".into(),
                password: "pw-secret".into(),
            },
            Credentials::SshKey {
                private_key: "/keys/id".into(),
                passphrase: Some("pp-secret".into()),
                username: None,
            },
        ];
        for credentials in all {
            let text = format!("{credentials:?}");
            assert!(!text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn branch_names_that_would_change_the_refspec_are_refused() {
        for bad in ["", "a:b", "*", "a..b", "a b", "main.lock", "/main"] {
            let remote = Remote {
                url: "x".into(),
                branch: bad.into(),
                credentials: Credentials::None,
            };
            assert!(remote.check_branch().is_err(), "{bad:?}");
        }
        let good = Remote {
            url: "x".into(),
            branch: "release/1.x".into(),
            credentials: Credentials::None,
        };
        good.check_branch().unwrap();
        assert_eq!(
            good.refspec(),
            "+refs/heads/release/1.x:refs/remotes/origin/release/1.x"
        );
    }

    #[test]
    fn a_second_request_for_credentials_is_refused() {
        let credentials = Credentials::UserPassword {
            username: "alice".into(),
            password: "pw".into(),
        };
        let auth = Authenticator::new(&credentials);
        auth.credential(None, CredentialType::USER_PASS_PLAINTEXT)
            .unwrap();
        let Err(error) = auth.credential(None, CredentialType::USER_PASS_PLAINTEXT) else {
            panic!("a second answer was given");
        };
        assert!(error.message().contains("rejected"), "{error}");
        let classified = auth.classify("http://x", error, |e| Error::Fetch {
            url: "x".into(),
            branch: "main".into(),
            source: e,
        });
        assert!(matches!(classified, Error::AuthenticationFailed { .. }));
    }

    #[test]
    fn a_token_offered_to_ssh_fails_with_the_kinds_in_the_message() {
        let credentials = Credentials::Token { token: "t".into() };
        let auth = Authenticator::new(&credentials);
        let Err(error) = auth.credential(Some("git"), CredentialType::SSH_KEY) else {
            panic!("a token was offered to SSH");
        };
        assert!(error.message().contains("an SSH key"), "{error}");
    }
}
