//! Who is calling: the user behind the session cookie or API token, and
//! what their role allows. The HTTP layer finds the caller (`http::auth`)
//! and puts it in the GraphQL context; resolvers ask [`require`].

use async_graphql::Context;

use super::error::{ApiError, ApiResult, ErrorCode};

/// What a user may do. Each role may do everything the ones before it may.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read everything (but no secret).
    Viewer,
    /// Create, update, deploy, build, roll back.
    Operator,
    /// Users and tokens too.
    Admin,
}

impl Role {
    /// The role as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role from its stored name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie (the session's id in the store).
    Session(i64),
    /// An API token (the token's id in the store).
    Token(i64),
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's id in the store.
    pub user_id: i64,
    /// The user name.
    pub name: String,
    /// The e-mail address (commits are authored with it).
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// How they signed in.
    pub credential: Credential,
}

/// The caller, if they have at least `role`: `UNAUTHENTICATED` without a
/// valid session or token, `FORBIDDEN` with too small a role.
pub fn require<'a>(ctx: &'a Context<'_>, role: Role) -> ApiResult<&'a Caller> {
    let Some(Some(caller)) = ctx.data_opt::<Option<Caller>>() else {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "sign in first: send the session cookie or an `Authorization: Bearer` API token",
        )
        .into());
    };
    if caller.role < role {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "this needs the {} role; {} is {}",
                role.as_str(),
                caller.name,
                caller.role.as_str()
            ),
        )
        .into());
    }
    Ok(caller)
}
