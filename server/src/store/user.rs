//! Users, their sessions and their API tokens: who may call `voc serve`.
//!
//! - A user has a name (the naming rule of [`check_user_name`]), an e-mail
//!   address (commits are authored with it), a [`Role`] and a password,
//!   kept as an argon2id PHC string.
//! - A session is what the `voc_session` cookie names: 32 random bytes,
//!   base64url, of which only the SHA-256 is stored. It lasts
//!   [`SESSION_LIFETIME_MS`] from its last use (sliding; the store writes
//!   the new expiry at most once per [`SESSION_REFRESH_MS`]).
//! - An API token is `voc_` + base64url(32 random bytes), shown once when
//!   created; the store keeps its SHA-256, a short display prefix, and when
//!   it was last used, expires or was revoked. A token acts with its user's
//!   role.
//!
//! Deleting a user deletes their sessions and tokens. voc always keeps at
//! least one admin: deleting or demoting the last one is refused
//! ([`UserError::LastAdmin`]).
//!
//! Secrets (passwords, session ids, tokens) travel as [`Secret`], whose
//! `Debug` prints no text, and never appear in errors. Like the rest of the
//! store, everything here blocks (argon2 takes tens of milliseconds on
//! purpose): async callers use `spawn_blocking`.

use std::fmt;
use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sha2::{Digest, Sha256};

use super::{Store, now_ms};
use crate::api::Role;

/// How long a session lasts after its last use (7 days).
pub const SESSION_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// A session's expiry is moved forward at most this often (a minute): the
/// cookie comes with every request, and a write per request is waste.
pub const SESSION_REFRESH_MS: i64 = 60 * 1000;
/// How API tokens begin (so that secret scanners and people recognise them).
pub const TOKEN_PREFIX: &str = "voc_";
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (argon2's work grows with the input; a
/// megabyte "password" is an attack, not a password).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The longest e-mail address accepted.
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest API token name accepted.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;
/// The longest lifetime an API token may be given (10 years).
pub const MAX_TOKEN_DAYS: i64 = 3650;
/// How many characters of a token [`ApiToken::prefix`] keeps: `voc_` and
/// 6 more, enough to tell one's tokens apart, far too few to guess the rest.
const DISPLAY_PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 6;
/// Random bytes in a session id or a token.
const SECRET_BYTES: usize = 32;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A secret text (a password, a session id, an API token): `Debug` shows
/// no character of it, so it cannot leak into logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The text itself, for the one place that must send or check it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret(text.to_owned())
    }
}

/// What went wrong with users, sessions or tokens. No variant holds a
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A query failed.
    #[error("{step}")]
    Sql {
        /// What the store was doing.
        step: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// An input breaks a rule; nothing was changed.
    #[error("{field}: {message}")]
    Invalid {
        /// The input (`name`, `email`, `password`, `role`,
        /// `expiresInDays`).
        field: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The user name is taken.
    #[error("a user named `{name}` already exists")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// No user has this name.
    #[error("no user is named `{name}`")]
    UserNotFound {
        /// The name asked for.
        name: String,
    },
    /// No user has this id (deleted meanwhile).
    #[error("user {id} does not exist")]
    UserIdNotFound {
        /// The id.
        id: i64,
    },
    /// No API token has this id.
    #[error("API token {id} does not exist")]
    TokenNotFound {
        /// The id asked for.
        id: i64,
    },
    /// The change would leave voc without an admin.
    #[error("{action} `{name}` would leave voc without an admin: make another user admin first")]
    LastAdmin {
        /// The last admin.
        name: String,
        /// `deleting` or `demoting`.
        action: &'static str,
    },
    /// The current password given to a password change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// argon2 failed (not a wrong password: a malformed stored hash, or
    /// a parameter out of range).
    #[error("hashing a password: {message}")]
    Hash {
        /// argon2's message.
        message: String,
    },
    /// The operating system gave no random bytes.
    #[error("reading random bytes from the operating system: {message}")]
    Random {
        /// getrandom's message.
        message: String,
    },
}

/// The result of user, session and token operations.
pub type UserResult<T> = Result<T, UserError>;

fn sql(step: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> UserError {
    let step = step.into();
    move |source| UserError::Sql { step, source }
}

fn invalid(field: &'static str, message: impl Into<String>) -> UserError {
    UserError::Invalid {
        field,
        message: message.into(),
    }
}

/// A user, as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The id.
    pub id: i64,
    /// The unique name users sign in with.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// When the user was created (milliseconds since the Unix epoch).
    pub created_at: i64,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The name ([`check_user_name`]).
    pub name: String,
    /// The e-mail address ([`check_email`]).
    pub email: String,
    /// The role.
    pub role: Role,
    /// The password ([`check_password`]).
    pub password: Secret,
}

/// Changes to a user; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// A new e-mail address.
    pub email: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// A new password (ends the user's sessions).
    pub password: Option<Secret>,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The id (never the secret the cookie holds).
    pub id: i64,
    /// Whose.
    pub user_id: i64,
    /// When it started.
    pub created_at: i64,
    /// When it ends unless used again.
    pub expires_at: i64,
    /// When it was last used (to the minute).
    pub last_seen_at: i64,
}

/// A session just created, with the secret for the cookie (only now).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value.
    pub secret: Secret,
    /// The session.
    pub session: Session,
}

/// An API token, as stored (without the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// The id.
    pub id: i64,
    /// Whose.
    pub user_id: i64,
    /// The owner's name.
    pub user_name: String,
    /// What the owner called it.
    pub name: String,
    /// The token's first characters (`voc_` and 6 more), to recognise it.
    pub prefix: String,
    /// When it was created.
    pub created_at: i64,
    /// When it was last used (to the minute), `None` if never.
    pub last_used_at: Option<i64>,
    /// When it stops working, `None` for never.
    pub expires_at: Option<i64>,
    /// When it was revoked, `None` if it was not.
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// Whether the token works at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// An API token just created, with its text (only now).
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The token.
    pub token: Secret,
    /// The stored token.
    pub api_token: ApiToken,
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialId {
    /// A session, by id.
    Session(i64),
    /// An API token, by id.
    Token(i64),
}

/// A user and the session or token they proved it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// The credential.
    pub credential: CredentialId,
}

/// Checks a user name: 1 to 40 characters, lowercase letters, digits,
/// `.`, `_` and `-`, starting with a letter or digit.
pub fn check_user_name(name: &str) -> UserResult<()> {
    let rule = "1 to 40 characters: lowercase letters, digits, `.`, `_` and `-`, \
                starting with a letter or a digit";
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(invalid(
            "name",
            format!("the user name is empty; use {rule}"),
        ));
    };
    if name.chars().count() > 40 {
        return Err(invalid(
            "name",
            format!("`{name}` is longer than 40 characters; use {rule}"),
        ));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(invalid(
            "name",
            format!("`{name}` starts with `{first}`; use {rule}"),
        ));
    }
    if let Some(bad) = chars
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(invalid(
            "name",
            format!("`{name}` contains `{bad}`; use {rule}"),
        ));
    }
    Ok(())
}

/// Checks an e-mail address, loosely: one `@` with text on both sides,
/// no spaces or control characters, at most [`MAX_EMAIL_CHARS`].
pub fn check_email(email: &str) -> UserResult<()> {
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid(
            "email",
            format!("the e-mail address is longer than {MAX_EMAIL_CHARS} characters"),
        ));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "email",
            format!("`{email}` contains a space or a control character"),
        ));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(invalid(
            "email",
            format!("`{email}` is not an e-mail address (expected name@domain)"),
        )),
    }
}

/// Checks a new password's length: [`MIN_PASSWORD_CHARS`] to
/// [`MAX_PASSWORD_CHARS`] characters.
pub fn check_password(password: &Secret) -> UserResult<()> {
    let chars = password.expose().chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("the password has {chars} characters; use at least {MIN_PASSWORD_CHARS}"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("the password has {chars} characters; use at most {MAX_PASSWORD_CHARS}"),
        ));
    }
    Ok(())
}

/// Checks an API token's name: not blank, at most
/// [`MAX_TOKEN_NAME_CHARS`], no control characters.
pub fn check_token_name(name: &str) -> UserResult<()> {
    if name.trim().is_empty() {
        return Err(invalid(
            "name",
            "the token name is empty; say what the token is for (e.g. `ci`)",
        ));
    }
    if name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("the token name is longer than {MAX_TOKEN_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "the token name contains a control character",
        ));
    }
    Ok(())
}

/// `N` random bytes from the operating system.
fn random_bytes<const N: usize>() -> UserResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| UserError::Random {
        message: error.to_string(),
    })?;
    Ok(bytes)
}

/// A random secret: base64url of 32 random bytes (43 characters).
fn random_secret() -> UserResult<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<SECRET_BYTES>()?))
}

/// A random password for the first admin: 24 characters of base64url
/// (144 random bits).
pub fn generate_password() -> UserResult<Secret> {
    Ok(Secret(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?)))
}

/// The SHA-256 of a session id or a token, as stored. A plain hash is
/// enough: the secrets are 256 random bits, not guessable passwords.
fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The argon2id PHC string of `password`, with a random salt.
pub fn hash_password(password: &Secret) -> UserResult<String> {
    let salt = random_bytes::<16>()?;
    let hash = Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map_err(|error| UserError::Hash {
            message: error.to_string(),
        })?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`.
fn password_matches(password: &Secret, hash: &str) -> UserResult<bool> {
    match Argon2::default().verify_password(password.expose().as_bytes(), hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(error) => Err(UserError::Hash {
            message: error.to_string(),
        }),
    }
}

/// A hash to check wrong user names against, so that a sign-in with an
/// unknown name takes as long as one with a wrong password (the time must
/// not tell which names exist).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&Secret::from("not the password of anyone")).unwrap_or_default()
    })
}

const USER_COLUMNS: &str = "id, name, email, role, created_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(3)?;
    let role = Role::parse(&role).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("`{role}` is not a role").into(),
        )
    })?;
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        role,
        created_at: row.get(4)?,
    })
}

const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.name, t.name, t.prefix, t.created_at, \
                             t.last_used_at, t.expires_at, t.revoked_at";

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        user_id: row.get(1)?,
        user_name: row.get(2)?,
        name: row.get(3)?,
        prefix: row.get(4)?,
        created_at: row.get(5)?,
        last_used_at: row.get(6)?,
        expires_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

fn user_by_name(connection: &Connection, name: &str) -> UserResult<Option<User>> {
    connection
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
            [name],
            user_from_row,
        )
        .optional()
        .map_err(sql(format!("reading user `{name}`")))
}

fn user_by_id(connection: &Connection, id: i64) -> UserResult<Option<User>> {
    connection
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
            [id],
            user_from_row,
        )
        .optional()
        .map_err(sql(format!("reading user {id}")))
}

fn admins_other_than(connection: &Connection, id: i64) -> UserResult<i64> {
    connection
        .query_row(
            "SELECT count(*) FROM users WHERE role = 'admin' AND id <> ?1",
            [id],
            |row| row.get(0),
        )
        .map_err(sql("counting admins"))
}

fn insert_user(connection: &Connection, user: &NewUser, hash: &str, now: i64) -> UserResult<User> {
    connection
        .execute(
            "INSERT INTO users (name, email, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user.name, user.email, user.role.as_str(), hash, now],
        )
        .map_err(sql(format!("creating user `{}`", user.name)))?;
    Ok(User {
        id: connection.last_insert_rowid(),
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role,
        created_at: now,
    })
}

fn check_new_user(user: &NewUser) -> UserResult<()> {
    check_user_name(&user.name)?;
    check_email(&user.email)?;
    check_password(&user.password)
}

impl Store {
    /// How many users there are. Blocking.
    pub fn count_users(&self) -> UserResult<i64> {
        self.connection()
            .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
            .map_err(sql("counting users"))
    }

    /// Creates `user` if there is no user at all (the first start), in one
    /// transaction so that two processes cannot both do it. `None` when
    /// users exist. Blocking.
    pub fn create_first_user(&self, user: &NewUser) -> UserResult<Option<User>> {
        check_new_user(user)?;
        let hash = hash_password(&user.password)?;
        let mut connection = self.connection();
        let transaction = connection
            .transaction()
            .map_err(sql("creating the first user"))?;
        let count: i64 = transaction
            .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
            .map_err(sql("counting users"))?;
        if count > 0 {
            return Ok(None);
        }
        let created = insert_user(&transaction, user, &hash, now_ms())?;
        transaction
            .commit()
            .map_err(sql("creating the first user"))?;
        Ok(Some(created))
    }

    /// Creates a user. Blocking.
    pub fn create_user(&self, user: &NewUser) -> UserResult<User> {
        check_new_user(user)?;
        // Hash before taking the connection: argon2 is slow on purpose,
        // and nobody else should wait for it.
        let hash = hash_password(&user.password)?;
        let mut connection = self.connection();
        let transaction = connection
            .transaction()
            .map_err(sql(format!("creating user `{}`", user.name)))?;
        if user_by_name(&transaction, &user.name)?.is_some() {
            return Err(UserError::NameTaken {
                name: user.name.clone(),
            });
        }
        let created = insert_user(&transaction, user, &hash, now_ms())?;
        transaction
            .commit()
            .map_err(sql(format!("creating user `{}`", user.name)))?;
        Ok(created)
    }

    /// The user named `name`. Blocking.
    pub fn user(&self, name: &str) -> UserResult<Option<User>> {
        user_by_name(&self.connection(), name)
    }

    /// The user with id `id`. Blocking.
    pub fn user_by_id(&self, id: i64) -> UserResult<Option<User>> {
        user_by_id(&self.connection(), id)
    }

    /// Every user, by name. Blocking.
    pub fn users(&self) -> UserResult<Vec<User>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
            .map_err(sql("listing users"))?;
        statement
            .query_map([], user_from_row)
            .and_then(Iterator::collect)
            .map_err(sql("listing users"))
    }

    /// Changes user `name`'s e-mail address, role or password. A new
    /// password ends their sessions; demoting the last admin is refused.
    /// Blocking.
    pub fn update_user(&self, name: &str, update: &UserUpdate) -> UserResult<User> {
        if let Some(email) = &update.email {
            check_email(email)?;
        }
        let hash = match &update.password {
            Some(password) => {
                check_password(password)?;
                Some(hash_password(password)?)
            }
            None => None,
        };
        let step = || format!("updating user `{name}`");
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(sql(step()))?;
        let Some(mut user) = user_by_name(&transaction, name)? else {
            return Err(UserError::UserNotFound {
                name: name.to_owned(),
            });
        };
        if let Some(email) = &update.email {
            user.email = email.clone();
        }
        if let Some(role) = update.role {
            if user.role == Role::Admin
                && role != Role::Admin
                && admins_other_than(&transaction, user.id)? == 0
            {
                return Err(UserError::LastAdmin {
                    name: name.to_owned(),
                    action: "demoting",
                });
            }
            user.role = role;
        }
        transaction
            .execute(
                "UPDATE users SET email = ?1, role = ?2 WHERE id = ?3",
                params![user.email, user.role.as_str(), user.id],
            )
            .map_err(sql(step()))?;
        if let Some(hash) = hash {
            transaction
                .execute(
                    "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                    params![hash, user.id],
                )
                .map_err(sql(step()))?;
            transaction
                .execute("DELETE FROM sessions WHERE user_id = ?1", [user.id])
                .map_err(sql(step()))?;
        }
        transaction.commit().map_err(sql(step()))?;
        Ok(user)
    }

    /// Deletes user `name`, their sessions and their tokens; deleting the
    /// last admin is refused. Blocking.
    pub fn delete_user(&self, name: &str) -> UserResult<User> {
        let step = || format!("deleting user `{name}`");
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(sql(step()))?;
        let Some(user) = user_by_name(&transaction, name)? else {
            return Err(UserError::UserNotFound {
                name: name.to_owned(),
            });
        };
        if user.role == Role::Admin && admins_other_than(&transaction, user.id)? == 0 {
            return Err(UserError::LastAdmin {
                name: name.to_owned(),
                action: "deleting",
            });
        }
        transaction
            .execute("DELETE FROM users WHERE id = ?1", [user.id])
            .map_err(sql(step()))?;
        transaction.commit().map_err(sql(step()))?;
        Ok(user)
    }

    /// The user named `name` if `password` is theirs; `None` for a wrong
    /// name or a wrong password alike, taking about as long for both.
    /// Blocking.
    pub fn check_login(&self, name: &str, password: &Secret) -> UserResult<Option<User>> {
        let found = {
            let connection = self.connection();
            let user = user_by_name(&connection, name)?;
            match user {
                Some(user) => {
                    let hash: String = connection
                        .query_row(
                            "SELECT password_hash FROM users WHERE id = ?1",
                            [user.id],
                            |row| row.get(0),
                        )
                        .map_err(sql(format!("reading user `{name}`")))?;
                    Some((user, hash))
                }
                None => None,
            }
        };
        match found {
            Some((user, hash)) => Ok(password_matches(password, &hash)?.then_some(user)),
            None => {
                // The result does not matter, the time it takes does.
                let _ = password_matches(password, decoy_hash());
                Ok(None)
            }
        }
    }

    /// Changes user `user_id`'s password after checking the current one,
    /// and ends their other sessions (all but `keep_session`). Blocking.
    pub fn change_password(
        &self,
        user_id: i64,
        current: &Secret,
        new: &Secret,
        keep_session: Option<i64>,
    ) -> UserResult<()> {
        check_password(new)?;
        let step = || format!("changing the password of user {user_id}");
        let stored: Option<String> = self
            .connection()
            .query_row(
                "SELECT password_hash FROM users WHERE id = ?1",
                [user_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql(step()))?;
        let Some(stored) = stored else {
            return Err(UserError::UserIdNotFound { id: user_id });
        };
        if !password_matches(current, &stored)? {
            return Err(UserError::WrongPassword);
        }
        let hash = hash_password(new)?;
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(sql(step()))?;
        // Compare-and-set on the old hash: two changes at once cannot both
        // pass the check above with the same current password.
        let changed = transaction
            .execute(
                "UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3",
                params![hash, user_id, stored],
            )
            .map_err(sql(step()))?;
        if changed == 0 {
            return Err(UserError::WrongPassword);
        }
        transaction
            .execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2",
                params![user_id, keep_session],
            )
            .map_err(sql(step()))?;
        transaction.commit().map_err(sql(step()))?;
        Ok(())
    }

    /// Starts a session for user `user_id`. Blocking.
    pub fn create_session(&self, user_id: i64) -> UserResult<NewSession> {
        self.create_session_at(user_id, now_ms())
    }

    fn create_session_at(&self, user_id: i64, now: i64) -> UserResult<NewSession> {
        let secret = random_secret()?;
        let connection = self.connection();
        // Expired sessions are otherwise deleted only when their cookie
        // comes back, which for most never happens: sweep them here, where
        // sessions are added.
        connection
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
            .map_err(sql("deleting expired sessions"))?;
        let expires_at = now.saturating_add(SESSION_LIFETIME_MS);
        connection
            .execute(
                "INSERT INTO sessions (secret_hash, user_id, created_at, expires_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?3)",
                params![secret_hash(&secret), user_id, now, expires_at],
            )
            .map_err(sql(format!("starting a session for user {user_id}")))?;
        Ok(NewSession {
            secret: Secret(secret),
            session: Session {
                id: connection.last_insert_rowid(),
                user_id,
                created_at: now,
                expires_at,
                last_seen_at: now,
            },
        })
    }

    /// The user of the session whose cookie holds `secret`, if it has not
    /// expired; moves its expiry forward (at most once a minute). An
    /// expired session is deleted. Blocking.
    pub fn session_user(&self, secret: &Secret) -> UserResult<Option<Authenticated>> {
        self.session_user_at(secret, now_ms())
    }

    fn session_user_at(&self, secret: &Secret, now: i64) -> UserResult<Option<Authenticated>> {
        let step = "reading a session";
        let connection = self.connection();
        let found: Option<(i64, i64, i64, i64)> = connection
            .query_row(
                "SELECT id, user_id, expires_at, last_seen_at FROM sessions WHERE secret_hash = ?1",
                [secret_hash(secret.expose())],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()
            .map_err(sql(step))?;
        let Some((id, user_id, expires_at, last_seen_at)) = found else {
            return Ok(None);
        };
        if now >= expires_at {
            connection
                .execute("DELETE FROM sessions WHERE id = ?1", [id])
                .map_err(sql("deleting an expired session"))?;
            return Ok(None);
        }
        if now - last_seen_at >= SESSION_REFRESH_MS {
            connection
                .execute(
                    "UPDATE sessions SET last_seen_at = ?1, expires_at = ?2 WHERE id = ?3",
                    params![now, now.saturating_add(SESSION_LIFETIME_MS), id],
                )
                .map_err(sql("extending a session"))?;
        }
        Ok(user_by_id(&connection, user_id)?.map(|user| Authenticated {
            user,
            credential: CredentialId::Session(id),
        }))
    }

    /// The session whose cookie holds `secret`, expired or not. Blocking.
    pub fn session(&self, secret: &Secret) -> UserResult<Option<Session>> {
        self.connection()
            .query_row(
                "SELECT id, user_id, created_at, expires_at, last_seen_at
                 FROM sessions WHERE secret_hash = ?1",
                [secret_hash(secret.expose())],
                |row| {
                    Ok(Session {
                        id: row.get(0)?,
                        user_id: row.get(1)?,
                        created_at: row.get(2)?,
                        expires_at: row.get(3)?,
                        last_seen_at: row.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(sql("reading a session"))
    }

    /// Ends the session whose cookie holds `secret`; whether there was
    /// one. Blocking.
    pub fn delete_session(&self, secret: &Secret) -> UserResult<bool> {
        self.connection()
            .execute(
                "DELETE FROM sessions WHERE secret_hash = ?1",
                [secret_hash(secret.expose())],
            )
            .map(|deleted| deleted > 0)
            .map_err(sql("ending a session"))
    }

    /// How many sessions user `user_id` has (expired ones included, until
    /// they are next met). Blocking.
    pub fn count_sessions(&self, user_id: i64) -> UserResult<i64> {
        self.connection()
            .query_row(
                "SELECT count(*) FROM sessions WHERE user_id = ?1",
                [user_id],
                |row| row.get(0),
            )
            .map_err(sql(format!("counting the sessions of user {user_id}")))
    }

    /// Creates an API token named `name` for user `user_id`, valid for
    /// `expires_in_days` days (1 to [`MAX_TOKEN_DAYS`]) or, with `None`,
    /// until revoked. Blocking.
    pub fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> UserResult<NewApiToken> {
        self.create_api_token_at(user_id, name, expires_in_days, now_ms())
    }

    fn create_api_token_at(
        &self,
        user_id: i64,
        name: &str,
        expires_in_days: Option<i64>,
        now: i64,
    ) -> UserResult<NewApiToken> {
        check_token_name(name)?;
        let name = name.trim();
        if let Some(days) = expires_in_days
            && !(1..=MAX_TOKEN_DAYS).contains(&days)
        {
            return Err(invalid(
                "expiresInDays",
                format!(
                    "{days} days is not a token lifetime: use 1 to {MAX_TOKEN_DAYS}, \
                     or nothing for a token that lasts until revoked"
                ),
            ));
        }
        let expires_at = expires_in_days.map(|days| now.saturating_add(days * DAY_MS));
        let token = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let prefix: String = token.chars().take(DISPLAY_PREFIX_CHARS).collect();
        let step = || format!("creating API token `{name}` for user {user_id}");
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(sql(step()))?;
        let Some(user) = user_by_id(&transaction, user_id)? else {
            return Err(UserError::UserIdNotFound { id: user_id });
        };
        transaction
            .execute(
                "INSERT INTO api_tokens (user_id, name, secret_hash, prefix, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![user_id, name, secret_hash(&token), prefix, now, expires_at],
            )
            .map_err(sql(step()))?;
        let id = transaction.last_insert_rowid();
        transaction.commit().map_err(sql(step()))?;
        Ok(NewApiToken {
            token: Secret(token),
            api_token: ApiToken {
                id,
                user_id,
                user_name: user.name,
                name: name.to_owned(),
                prefix,
                created_at: now,
                last_used_at: None,
                expires_at,
                revoked_at: None,
            },
        })
    }

    /// The user of API token `token`, if it is neither revoked nor
    /// expired; records its use (at most once a minute). Blocking.
    pub fn token_user(&self, token: &Secret) -> UserResult<Option<Authenticated>> {
        self.token_user_at(token, now_ms())
    }

    fn token_user_at(&self, token: &Secret, now: i64) -> UserResult<Option<Authenticated>> {
        // Not one of ours: no need to ask the database.
        if !token.expose().starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let connection = self.connection();
        let found = connection
            .query_row(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.secret_hash = ?1"
                ),
                [secret_hash(token.expose())],
                token_from_row,
            )
            .optional()
            .map_err(sql("reading an API token"))?;
        let Some(api_token) = found else {
            return Ok(None);
        };
        if !api_token.is_active(now) {
            return Ok(None);
        }
        if api_token
            .last_used_at
            .is_none_or(|at| now - at >= SESSION_REFRESH_MS)
        {
            connection
                .execute(
                    "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                    params![now, api_token.id],
                )
                .map_err(sql(format!(
                    "recording the use of API token {}",
                    api_token.id
                )))?;
        }
        Ok(
            user_by_id(&connection, api_token.user_id)?.map(|user| Authenticated {
                user,
                credential: CredentialId::Token(api_token.id),
            }),
        )
    }

    /// API tokens, newest first: user `user_id`'s, or everyone's with
    /// `None`. Revoked and expired ones included. Blocking.
    pub fn api_tokens(&self, user_id: Option<i64>) -> UserResult<Vec<ApiToken>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE ?1 IS NULL OR t.user_id = ?1
                 ORDER BY t.id DESC"
            ))
            .map_err(sql("listing API tokens"))?;
        statement
            .query_map([user_id], token_from_row)
            .and_then(Iterator::collect)
            .map_err(sql("listing API tokens"))
    }

    /// API token `id`. Blocking.
    pub fn api_token(&self, id: i64) -> UserResult<Option<ApiToken>> {
        self.connection()
            .query_row(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.id = ?1"
                ),
                [id],
                token_from_row,
            )
            .optional()
            .map_err(sql(format!("reading API token {id}")))
    }

    /// Revokes API token `id` (revoking it again keeps the first time).
    /// Blocking.
    pub fn revoke_api_token(&self, id: i64) -> UserResult<ApiToken> {
        let changed = self
            .connection()
            .execute(
                "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?1) WHERE id = ?2",
                params![now_ms(), id],
            )
            .map_err(sql(format!("revoking API token {id}")))?;
        if changed == 0 {
            return Err(UserError::TokenNotFound { id });
        }
        self.api_token(id)?.ok_or(UserError::TokenNotFound { id })
    }
}

#[cfg(test)]
#[path = "user_tests.rs"]
mod tests;
