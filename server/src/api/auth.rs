//! Signing in and out, users, and API tokens.
//!
//! - `login` is the one operation without a caller: it checks the password,
//!   starts a session and sets the `voc_session` cookie. Failed attempts
//!   are limited per user name and per client address ([`LoginLimiter`]).
//! - Anyone signed in reads `me`, changes their password, and manages
//!   their own API tokens (a token acts with its user's role); admins see
//!   and revoke everyone's tokens.
//! - Admins manage users: `users`, `createUser`, `updateUser`,
//!   `deleteUser`. voc keeps at least one admin.
//!
//! Passwords, session ids and tokens are [`Secret`]s: never logged, never
//! in an error. Store calls block (SQLite, argon2) and run on the blocking
//! pool.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::caller::{Caller, Credential, Role, require};
use super::error::{ApiError, ApiResult, ErrorCode, FieldProblem};
use crate::http::ClientAddr;
use crate::http::auth::{SessionCookie, set_session_cookie};
use crate::serve::AppState;
use crate::store::user::SESSION_LIFETIME_MS;
use crate::store::{ApiToken, NewUser, Secret, Store, User, UserError, UserResult, UserUpdate};

/// The one answer to a wrong user name or a wrong password: it must not
/// tell which (that would tell which names exist).
pub const WRONG_LOGIN: &str = "wrong user name or password";
/// Failed sign-ins allowed per user name within [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_NAME: usize = 5;
/// Failed sign-ins allowed per client address within [`FAILURE_WINDOW`]
/// (more than per name: several people may share an address).
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// How long a failed sign-in counts.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Above this many remembered names and addresses, the limiter forgets
/// the expired ones (so that sign-ins with endless made-up names cannot
/// fill the memory).
const PRUNE_ABOVE: usize = 10_000;
/// The longest user name the limiter keys on (longer ones are cut; no user
/// has a longer name).
const MAX_KEY_CHARS: usize = 64;

/// Remembers failed sign-ins in memory, per user name and per client
/// address, and refuses more than [`MAX_FAILURES_PER_NAME`] /
/// [`MAX_FAILURES_PER_ADDRESS`] within [`FAILURE_WINDOW`]. A refused
/// attempt does not check the password (so guessing gains nothing) and
/// does not count as a failure (so the wait does not grow). Forgotten on
/// restart, which is acceptable: a restart is not something an attacker
/// can ask for.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_name: HashMap<String, VecDeque<Instant>>,
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Why the limiter refuses a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRefused {
    /// Whether the user name (else the address) hit its limit.
    pub by_name: bool,
    /// How long until an attempt is allowed again.
    pub wait: Duration,
}

impl LoginRefused {
    /// The sentence for the caller.
    pub fn message(&self) -> String {
        let seconds = self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0);
        let whose = if self.by_name {
            "for this user name"
        } else {
            "from this address"
        };
        format!("too many failed sign-ins {whose}: try again in {seconds} seconds")
    }
}

impl LoginLimiter {
    /// Whether a sign-in as `name` from `address` may be tried at `now`.
    pub fn check(
        &self,
        name: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), LoginRefused> {
        self.lock().check(name, address, now)
    }

    /// Starts a sign-in attempt as `name` from `address` at `now`: refused
    /// over the limit, else counted as a failure until it is
    /// [`succeeded`](LoginLimiter::succeeded) or
    /// [`released`](LoginLimiter::release) (dropping the attempt leaves it
    /// a failure). Checking and counting under one lock means that
    /// attempts sent in parallel cannot all pass the check before the
    /// first failure is counted.
    pub fn begin(
        &self,
        name: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, LoginRefused> {
        let mut failures = self.lock();
        failures.check(name, address, now)?;
        failures.record(name, address, now);
        Ok(Attempt {
            name: name.to_owned(),
            address,
            at: now,
        })
    }

    /// The attempt signed in: forgets the failures of its user name (the
    /// owner knows the password) and the attempt's count on its address.
    /// The address's other failures stay: one user signing in must not
    /// reset the guessing of another from the same address.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut failures = self.lock();
        failures.by_name.remove(&name_key(&attempt.name));
        failures.forget_one(None, attempt.address, attempt.at);
    }

    /// The attempt was not a guess after all (it failed before the
    /// password was checked): it no longer counts.
    pub fn release(&self, attempt: Attempt) {
        self.lock()
            .forget_one(Some(&attempt.name), attempt.address, attempt.at);
    }

    /// Records a failed sign-in as `name` from `address` at `now`.
    pub fn record_failure(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        self.lock().record(name, address, now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        // The map is always consistent between statements: a poisoned lock
        // is safe to use.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A sign-in attempt the limiter let through, counted as a failure unless
/// it is reported otherwise.
#[derive(Debug)]
pub struct Attempt {
    name: String,
    address: Option<IpAddr>,
    at: Instant,
}

impl Failures {
    fn check(
        &mut self,
        name: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), LoginRefused> {
        self.prune_if_large(now);
        let name_key = name_key(name);
        if let Some(wait) = self
            .by_name
            .get_mut(&name_key)
            .and_then(|times| wait_for(times, MAX_FAILURES_PER_NAME, now))
        {
            return Err(LoginRefused {
                by_name: true,
                wait,
            });
        }
        if let Some(wait) = address
            .and_then(|address| self.by_address.get_mut(&address))
            .and_then(|times| wait_for(times, MAX_FAILURES_PER_ADDRESS, now))
        {
            return Err(LoginRefused {
                by_name: false,
                wait,
            });
        }
        Ok(())
    }

    fn record(&mut self, name: &str, address: Option<IpAddr>, now: Instant) {
        self.by_name
            .entry(name_key(name))
            .or_default()
            .push_back(now);
        if let Some(address) = address {
            self.by_address.entry(address).or_default().push_back(now);
        }
    }

    /// Forgets one failure at `at` of `name` (if given) and `address`.
    fn forget_one(&mut self, name: Option<&str>, address: Option<IpAddr>, at: Instant) {
        fn remove_one(times: &mut VecDeque<Instant>, at: Instant) {
            if let Some(index) = times.iter().position(|time| *time == at) {
                times.remove(index);
            }
        }
        if let Some(times) = name.and_then(|name| self.by_name.get_mut(&name_key(name))) {
            remove_one(times, at);
        }
        if let Some(times) = address.and_then(|address| self.by_address.get_mut(&address)) {
            remove_one(times, at);
        }
    }

    fn prune_if_large(&mut self, now: Instant) {
        if self.by_name.len() + self.by_address.len() <= PRUNE_ABOVE {
            return;
        }
        self.by_name.retain(|_, times| {
            forget_expired(times, now);
            !times.is_empty()
        });
        self.by_address.retain(|_, times| {
            forget_expired(times, now);
            !times.is_empty()
        });
    }
}

fn name_key(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .take(MAX_KEY_CHARS)
        .collect()
}

fn forget_expired(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|first| now.saturating_duration_since(*first) >= FAILURE_WINDOW)
    {
        times.pop_front();
    }
}

/// How long to wait if `times` holds `limit` failures within the window.
fn wait_for(times: &mut VecDeque<Instant>, limit: usize, now: Instant) -> Option<Duration> {
    forget_expired(times, now);
    if times.len() < limit {
        return None;
    }
    // The attempt is allowed again when enough of the oldest failures
    // leave the window to get below the limit.
    let freeing = times[times.len() - limit];
    Some(FAILURE_WINDOW.saturating_sub(now.saturating_duration_since(freeing)))
}

/// A time from the store (milliseconds since the Unix epoch) as RFC 3339
/// in UTC with milliseconds: `2024-02-29T12:34:56.789Z`.
pub fn rfc3339(ms: i64) -> String {
    crate::timestamp::format_millis(ms)
}

/// A user of voc.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(name = "User")]
pub struct UserObject {
    /// The id.
    pub id: ID,
    /// The name users sign in with.
    pub name: String,
    /// The e-mail address (commits made for the user are authored with
    /// it).
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was created (RFC 3339, UTC).
    pub created_at: String,
}

impl From<User> for UserObject {
    fn from(user: User) -> UserObject {
        UserObject {
            id: ID(user.id.to_string()),
            name: user.name,
            email: user.email,
            role: user.role,
            created_at: rfc3339(user.created_at),
        }
    }
}

/// An API token (never its text, which is shown once when created).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ApiToken")]
pub struct ApiTokenObject {
    /// The id.
    pub id: ID,
    /// What the owner called it.
    pub name: String,
    /// The token's first characters (`voc_` and 6 more), to recognise it.
    pub prefix: String,
    /// Whose it is; it acts with this user's role.
    pub user: UserObject,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<String>,
    /// When it stops working, if it does.
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// Whether it works now (neither revoked nor expired).
    pub active: bool,
}

impl ApiTokenObject {
    fn new(token: ApiToken, user: UserObject, now: i64) -> ApiTokenObject {
        ApiTokenObject {
            id: ID(token.id.to_string()),
            active: token.is_active(now),
            name: token.name,
            prefix: token.prefix,
            user,
            created_at: rfc3339(token.created_at),
            last_used_at: token.last_used_at.map(rfc3339),
            expires_at: token.expires_at.map(rfc3339),
            revoked_at: token.revoked_at.map(rfc3339),
        }
    }
}

/// What `login` answers.
#[derive(SimpleObject, Debug, Clone)]
pub struct LoginPayload {
    /// Who signed in.
    pub user: UserObject,
}

/// A token just created.
#[derive(SimpleObject, Debug, Clone)]
pub struct CreatedApiToken {
    /// The token, to send as `Authorization: Bearer <token>`. Shown only
    /// now: voc keeps only its hash.
    pub token: String,
    /// The token as listed from now on.
    pub api_token: ApiTokenObject,
}

/// A user to create.
#[derive(InputObject, Debug)]
pub struct CreateUserInput {
    /// 1 to 40 characters: lowercase letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// At least 10 characters.
    #[graphql(secret)]
    pub password: String,
    /// What the user may do.
    pub role: Role,
}

/// Changes to a user; a field left out is kept.
#[derive(InputObject, Debug, Default)]
pub struct UpdateUserInput {
    /// A new e-mail address.
    pub email: Option<String>,
    /// A new role (the last admin cannot be demoted).
    pub role: Option<Role>,
    /// A new password (ends the user's sessions).
    #[graphql(secret)]
    pub password: Option<String>,
}

/// The store's error for the API. `prefix` is where the input's fields
/// sit in the operation (`input.` for `createUser`'s), for the problem's
/// `field`.
fn api_error(error: UserError, prefix: &str) -> ApiError {
    match error {
        UserError::Invalid { field, message } => ApiError::validation(
            format!("{prefix}{field}: {message}"),
            vec![FieldProblem {
                field: Some(format!("{prefix}{field}")),
                file: None,
                line: None,
                message,
            }],
        ),
        error @ (UserError::NameTaken { .. } | UserError::LastAdmin { .. }) => {
            ApiError::conflict(error.to_string())
        }
        error @ (UserError::UserNotFound { .. }
        | UserError::UserIdNotFound { .. }
        | UserError::TokenNotFound { .. }) => ApiError::not_found(error.to_string()),
        UserError::WrongPassword => ApiError::validation(
            "current: the current password is wrong",
            vec![FieldProblem {
                field: Some("current".to_owned()),
                file: None,
                line: None,
                message: "the current password is wrong".to_owned(),
            }],
        ),
        error @ (UserError::Sql { .. } | UserError::Hash { .. } | UserError::Random { .. }) => {
            tracing::error!("{:#}", anyhow::Error::new(error));
            ApiError::new(
                ErrorCode::Internal,
                "voc's store failed; the server log says why",
            )
        }
    }
}

/// Runs `work` on the store on the blocking pool; its errors become API
/// errors with fields under `prefix`.
async fn blocking<T: Send + 'static>(
    ctx: &Context<'_>,
    prefix: &str,
    work: impl FnOnce(&Store) -> UserResult<T> + Send + 'static,
) -> ApiResult<T> {
    let store = ctx.data::<AppState>()?.store.clone();
    match tokio::task::spawn_blocking(move || work(&store)).await {
        Ok(result) => result.map_err(|error| api_error(error, prefix).into()),
        Err(error) => Err(ApiError::internal(format!("a store task failed: {error}")).into()),
    }
}

fn unauthenticated(message: impl Into<String>) -> async_graphql::Error {
    ApiError::new(ErrorCode::Unauthenticated, message).into()
}

fn client_address(ctx: &Context<'_>) -> Option<IpAddr> {
    ctx.data_opt::<ClientAddr>()
        .map(|ClientAddr(addr)| addr.ip())
}

fn parse_id(id: &ID, what: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| {
        ApiError::validation(
            format!("id: `{}` is not {what} id", id.as_str()),
            vec![FieldProblem {
                field: Some("id".to_owned()),
                file: None,
                line: None,
                message: format!("`{}` is not {what} id (a number)", id.as_str()),
            }],
        )
        .into()
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The tokens as the API shows them, each with its user.
async fn token_objects(ctx: &Context<'_>, tokens: Vec<ApiToken>) -> ApiResult<Vec<ApiTokenObject>> {
    let users = blocking(ctx, "", |store| store.users()).await?;
    let users: HashMap<i64, User> = users.into_iter().map(|user| (user.id, user)).collect();
    let now = now_ms();
    tokens
        .into_iter()
        .map(|token| {
            let user = users.get(&token.user_id).cloned().ok_or_else(|| {
                ApiError::not_found(format!("the owner of API token {} was deleted", token.id))
            })?;
            Ok(ApiTokenObject::new(token, user.into(), now))
        })
        .collect()
}

fn same_user_or_admin(caller: &Caller, owner: i64, what: &str) -> ApiResult<()> {
    if caller.user_id == owner || caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{what} belongs to another user; only admins may change other users' tokens"),
        )
        .into())
    }
}

/// Queries about users and tokens.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<UserObject> {
        let caller = require(ctx, Role::Viewer)?;
        let id = caller.user_id;
        let user = blocking(ctx, "", move |store| store.user_by_id(id)).await?;
        user.map(UserObject::from)
            .ok_or_else(|| unauthenticated("the signed-in user was deleted"))
    }

    /// Every user, by name. Admins only.
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<UserObject>> {
        require(ctx, Role::Admin)?;
        let users = blocking(ctx, "", |store| store.users()).await?;
        Ok(users.into_iter().map(UserObject::from).collect())
    }

    /// The caller's API tokens, newest first (for admins: everyone's),
    /// revoked and expired ones included.
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiTokenObject>> {
        let caller = require(ctx, Role::Viewer)?;
        let owner = (caller.role != Role::Admin).then_some(caller.user_id);
        let tokens = blocking(ctx, "", move |store| store.api_tokens(owner)).await?;
        token_objects(ctx, tokens).await
    }
}

/// Signing in and out, passwords, users and tokens.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in: starts a session and sets the `voc_session` cookie (7
    /// days, renewed by use). The one operation that needs no caller. After
    /// 5 failures for a user name (or 20 from an address) within 5 minutes,
    /// sign-ins are refused for a while without checking the password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        #[graphql(secret)] password: String,
    ) -> ApiResult<LoginPayload> {
        let state = ctx.data::<AppState>()?;
        let limiter = state.login_limiter.clone();
        let address = client_address(ctx);
        let attempt = limiter
            .begin(&username, address, Instant::now())
            .map_err(|refused| unauthenticated(refused.message()))?;
        let password = Secret::new(password);
        let name = username.clone();
        let user = match blocking(ctx, "", move |store| store.check_login(&name, &password)).await {
            Ok(user) => user,
            Err(error) => {
                // voc failed, the caller did not: not a guess.
                limiter.release(attempt);
                return Err(error);
            }
        };
        let Some(user) = user else {
            // The attempt stays counted as a failure.
            tracing::info!(user = %username, address = ?address, "failed sign-in");
            return Err(unauthenticated(WRONG_LOGIN));
        };
        limiter.succeeded(attempt);
        // A cookie the browser already had names a session this sign-in
        // replaces: end it rather than leave it valid.
        let previous = ctx
            .data_opt::<SessionCookie>()
            .and_then(|SessionCookie(cookie)| cookie.clone())
            .map(Secret::new);
        let user_id = user.id;
        let session = blocking(ctx, "", move |store| {
            if let Some(previous) = previous {
                store.delete_session(&previous)?;
            }
            store.create_session(user_id)
        })
        .await?;
        ctx.append_http_header(
            "set-cookie",
            set_session_cookie(session.secret.expose(), SESSION_LIFETIME_MS / 1000),
        );
        tracing::info!(user = %user.name, "signed in");
        Ok(LoginPayload { user: user.into() })
    }

    /// Signs out: ends the session of the request's cookie and clears the
    /// cookie. True if a session was ended.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let cookie = ctx
            .data_opt::<SessionCookie>()
            .and_then(|SessionCookie(cookie)| cookie.clone());
        ctx.append_http_header("set-cookie", set_session_cookie("", 0));
        let Some(cookie) = cookie else {
            return Ok(false);
        };
        let secret = Secret::new(cookie);
        blocking(ctx, "", move |store| store.delete_session(&secret)).await
    }

    /// Changes the caller's password (at least 10 characters) after
    /// checking the current one, and ends their other sessions. Wrong
    /// current passwords count toward the sign-in limit.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current: String,
        #[graphql(secret)] new: String,
    ) -> ApiResult<bool> {
        let caller = require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let limiter = state.login_limiter.clone();
        let address = client_address(ctx);
        let attempt = limiter
            .begin(&caller.name, address, Instant::now())
            .map_err(|refused| unauthenticated(refused.message()))?;
        let user_id = caller.user_id;
        let keep = match caller.credential {
            Credential::Session(id) => Some(id),
            Credential::Token(_) => None,
        };
        let (current, new) = (Secret::new(current), Secret::new(new));
        // The store's own error is kept here to tell a wrong password (which
        // counts as a failed sign-in) from the rest.
        let changed = blocking(ctx, "", move |store| {
            Ok(store.change_password(user_id, &current, &new, keep))
        })
        .await;
        match changed {
            Ok(Ok(())) => limiter.succeeded(attempt),
            // The attempt stays counted as a failure.
            Ok(Err(UserError::WrongPassword)) => {
                return Err(api_error(UserError::WrongPassword, "").into());
            }
            Ok(Err(error)) => {
                limiter.release(attempt);
                return Err(api_error(error, "").into());
            }
            Err(error) => {
                limiter.release(attempt);
                return Err(error);
            }
        }
        tracing::info!(user = %caller.name, "changed their password");
        Ok(true)
    }

    /// Creates an API token for the caller, with the caller's role, valid
    /// for `expiresInDays` days (1 to 3650) or until revoked. The token is
    /// in the answer, and only there.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        expires_in_days: Option<i32>,
    ) -> ApiResult<CreatedApiToken> {
        let caller = require(ctx, Role::Viewer)?;
        let user_id = caller.user_id;
        let created = blocking(ctx, "", move |store| {
            store.create_api_token(user_id, &name, expires_in_days.map(i64::from))
        })
        .await?;
        let user = blocking(ctx, "", move |store| store.user_by_id(user_id))
            .await?
            .ok_or_else(|| unauthenticated("the signed-in user was deleted"))?;
        tracing::info!(user = %caller.name, token = created.api_token.id, "created an API token");
        Ok(CreatedApiToken {
            token: created.token.expose().to_owned(),
            api_token: ApiTokenObject::new(created.api_token, user.into(), now_ms()),
        })
    }

    /// Revokes an API token: the caller's own, or any for admins. It stops
    /// working at once.
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ApiTokenObject> {
        let caller = require(ctx, Role::Viewer)?;
        let id = parse_id(&id, "an API token")?;
        let token = blocking(ctx, "", move |store| store.api_token(id))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("API token {id} does not exist")))?;
        same_user_or_admin(caller, token.user_id, &format!("API token {id}"))?;
        let revoked = blocking(ctx, "", move |store| store.revoke_api_token(id)).await?;
        tracing::info!(user = %caller.name, token = id, "revoked an API token");
        let mut objects = token_objects(ctx, vec![revoked]).await?;
        objects
            .pop()
            .ok_or_else(|| ApiError::not_found(format!("API token {id} does not exist")).into())
    }

    /// Creates a user. Admins only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> ApiResult<UserObject> {
        let caller = require(ctx, Role::Admin)?;
        let user = NewUser {
            name: input.name,
            email: input.email,
            role: input.role,
            password: Secret::new(input.password),
        };
        let created = blocking(ctx, "input.", move |store| store.create_user(&user)).await?;
        tracing::info!(by = %caller.name, user = %created.name, role = created.role.as_str(), "created a user");
        Ok(created.into())
    }

    /// Changes a user's e-mail address, role or password. Admins only.
    /// Demoting the last admin is refused.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateUserInput,
    ) -> ApiResult<UserObject> {
        let caller = require(ctx, Role::Admin)?;
        let update = UserUpdate {
            email: input.email,
            role: input.role,
            password: input.password.map(Secret::new),
        };
        let updated = blocking(ctx, "input.", move |store| {
            store.update_user(&name, &update)
        })
        .await?;
        tracing::info!(by = %caller.name, user = %updated.name, "updated a user");
        Ok(updated.into())
    }

    /// Deletes a user with their sessions and tokens. Admins only.
    /// Deleting the last admin is refused.
    async fn delete_user(&self, ctx: &Context<'_>, name: String) -> ApiResult<bool> {
        let caller = require(ctx, Role::Admin)?;
        let deleted = blocking(ctx, "", move |store| store.delete_user(&name)).await?;
        tracing::info!(by = %caller.name, user = %deleted.name, "deleted a user");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(rfc3339(1_735_689_599_999), "2024-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn five_failures_for_a_name_refuse_the_sixth_attempt() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for n in 0..MAX_FAILURES_PER_NAME {
            // Each from another address: the name's limit, not the address's.
            let address = address(u8::try_from(n).unwrap_or(0));
            assert_eq!(limiter.check("alice", address, start), Ok(()));
            limiter.record_failure("alice", address, start);
        }
        let refused = limiter
            .check("alice", address(99), start + Duration::from_secs(10))
            .expect_err("refused");
        assert!(refused.by_name);
        assert_eq!(refused.wait, FAILURE_WINDOW - Duration::from_secs(10));
        assert!(
            refused.message().contains("290 seconds"),
            "{}",
            refused.message()
        );
        // Other names are not affected; the name is matched whatever its case.
        assert_eq!(limiter.check("bob", address(99), start), Ok(()));
        assert!(limiter.check(" ALICE", address(99), start).is_err());
        // Once the window has passed, attempts are allowed again.
        assert_eq!(
            limiter.check("alice", address(99), start + FAILURE_WINDOW),
            Ok(())
        );
    }

    #[test]
    fn the_wait_ends_when_the_oldest_failure_leaves_the_window() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for n in 0..MAX_FAILURES_PER_NAME {
            limiter.record_failure("alice", None, start + Duration::from_secs(60 * n as u64));
        }
        let at = start + Duration::from_secs(250);
        let refused = limiter.check("alice", None, at).expect_err("refused");
        assert_eq!(refused.wait, Duration::from_secs(50));
        assert_eq!(limiter.check("alice", None, start + FAILURE_WINDOW), Ok(()));
        // One more failure then fills the window again.
        limiter.record_failure("alice", None, start + FAILURE_WINDOW);
        assert!(
            limiter
                .check("alice", None, start + FAILURE_WINDOW)
                .is_err()
        );
    }

    #[test]
    fn twenty_failures_from_an_address_refuse_any_name_from_it() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for n in 0..MAX_FAILURES_PER_ADDRESS {
            let name = format!("user{n}");
            assert_eq!(limiter.check(&name, address(1), start), Ok(()));
            limiter.record_failure(&name, address(1), start);
        }
        let refused = limiter
            .check("someone", address(1), start)
            .expect_err("refused");
        assert!(!refused.by_name);
        assert!(refused.message().contains("from this address"));
        assert_eq!(limiter.check("someone", address(2), start), Ok(()));
        assert_eq!(limiter.check("someone", None, start), Ok(()));
    }

    #[test]
    fn a_success_forgets_the_names_failures_but_not_the_addresss() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES_PER_NAME - 1 {
            limiter.record_failure("alice", address(1), start);
        }
        let attempt = limiter.begin("alice", address(1), start).expect("allowed");
        limiter.succeeded(attempt);
        assert_eq!(limiter.lock().by_name.get("alice"), None);
        // The address keeps the earlier failures, not the successful one.
        assert_eq!(
            limiter.lock().by_address[&IpAddr::from([10, 0, 0, 1])].len(),
            MAX_FAILURES_PER_NAME - 1
        );
        for _ in 0..MAX_FAILURES_PER_ADDRESS - (MAX_FAILURES_PER_NAME - 1) {
            limiter.record_failure("bob", address(1), start);
        }
        let refused = limiter
            .begin("alice", address(1), start)
            .expect_err("refused");
        assert!(!refused.by_name);
    }

    #[test]
    fn attempts_count_as_failures_from_the_start_unless_released() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        // Parallel attempts: each is counted as it begins, so the sixth is
        // refused even though none has finished.
        let attempts: Vec<Attempt> = (0..MAX_FAILURES_PER_NAME)
            .map(|_| limiter.begin("alice", address(1), start).expect("allowed"))
            .collect();
        assert!(limiter.begin("alice", address(2), start).is_err());
        // One was not a guess (voc failed): it no longer counts.
        let mut attempts = attempts.into_iter();
        limiter.release(attempts.next().expect("an attempt"));
        let last = limiter
            .begin("alice", address(1), start)
            .expect("allowed again");
        assert_eq!(
            limiter.lock().by_address[&IpAddr::from([10, 0, 0, 1])].len(),
            5
        );
        drop(last);
        assert!(limiter.begin("alice", address(1), start).is_err());
    }

    #[test]
    fn expired_entries_are_forgotten_when_the_limiter_grows() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for n in 0..=PRUNE_ABOVE {
            limiter.record_failure(&format!("made-up-{n}"), None, start);
        }
        limiter.record_failure("recent", None, start + FAILURE_WINDOW);
        assert_eq!(limiter.check("x", None, start + FAILURE_WINDOW), Ok(()));
        let failures = limiter.lock();
        assert_eq!(failures.by_name.len(), 1);
        assert!(failures.by_name.contains_key("recent"));
    }

    #[test]
    fn store_errors_become_api_errors_with_the_field() {
        let error = api_error(
            UserError::Invalid {
                field: "email",
                message: "`x` is not an e-mail address".into(),
            },
            "input.",
        );
        assert_eq!(error.code, ErrorCode::Validation);
        assert_eq!(error.problems[0].field.as_deref(), Some("input.email"));
        let taken = api_error(UserError::NameTaken { name: "bob".into() }, "input.");
        assert_eq!(taken.code, ErrorCode::Conflict);
        let last = api_error(
            UserError::LastAdmin {
                name: "admin".into(),
                action: "deleting",
            },
            "",
        );
        assert_eq!(last.code, ErrorCode::Conflict);
        assert!(last.message.contains("without an admin"));
        let missing = api_error(UserError::UserNotFound { name: "eve".into() }, "");
        assert_eq!(missing.code, ErrorCode::NotFound);
    }
}
