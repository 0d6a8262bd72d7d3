//! Credentials against git's smart HTTP protocol behind Basic auth: the
//! right ones work, wrong ones fail once and clearly, without looping.
//!
//! Plain HTTP: HTTPS needs a TLS server, which these tests do not have; the
//! credential callback is the same for both.

use std::time::{Duration, Instant};

use super::fixture::Workspace;
use super::http::AuthHttpServer;
use crate::git::{CommitId, Credentials, Error, GitRepo, Remote, TOKEN_USERNAME};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// A served repository with one commit, and its head.
fn served_repo(ws: &Workspace) -> CommitId {
    let server = ws.bare_repo("served/conf.git");
    let author = ws.author_repo("author");
    author.git(["remote", "add", "origin", server.to_str().unwrap()]);
    let head = author.write("a", "1").commit("first");
    author.git(["push", "--quiet", "origin", "main"]);
    head
}

fn remote(url: String, credentials: Credentials) -> Remote {
    Remote {
        url,
        branch: "main".into(),
        credentials,
    }
}

#[test]
fn the_right_user_and_password_clone_and_fetch() {
    let ws = Workspace::new();
    let head = served_repo(&ws);
    let server = AuthHttpServer::start(&ws.path("served"), USER, PASSWORD);
    let remote = remote(
        server.url("conf.git"),
        Credentials::UserPassword {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    );
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    assert_eq!(repo.head().unwrap(), head);
    assert_eq!(repo.fetch(&remote).unwrap(), head);
    assert_eq!(server.rejected(), 0);
    assert!(server.served() >= 2);
}

#[test]
fn a_token_is_sent_as_the_password_of_the_token_user() {
    let ws = Workspace::new();
    let head = served_repo(&ws);
    let server = AuthHttpServer::start(&ws.path("served"), TOKEN_USERNAME, "tok-123");
    let remote = remote(
        server.url("conf.git"),
        Credentials::Token {
            token: "tok-123".into(),
        },
    );
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    assert_eq!(repo.head().unwrap(), head);
}

#[test]
fn wrong_credentials_fail_once_with_a_clear_error() {
    let ws = Workspace::new();
    served_repo(&ws);
    let server = AuthHttpServer::start(&ws.path("served"), USER, PASSWORD);
    let url = server.url("conf.git");
    let remote = remote(
        url.clone(),
        Credentials::UserPassword {
            username: USER.into(),
            password: "wrong".into(),
        },
    );
    let started = Instant::now();
    let error = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap_err();
    let took = started.elapsed();

    assert!(
        matches!(error, Error::AuthenticationFailed { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("authentication failed for `{url}`")
    );
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        cause.contains("rejected a user name and password"),
        "{cause}"
    );
    assert!(
        !format!("{error:?}").contains("wrong"),
        "the password leaked: {error:?}"
    );
    // One try with the wrong password, then stop: no replay loop.
    assert_eq!(server.rejected(), 1, "wrong credentials were sent again");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!ws.path("clone").exists());
}

#[test]
fn no_credentials_for_a_protected_remote_says_so() {
    let ws = Workspace::new();
    served_repo(&ws);
    let server = AuthHttpServer::start(&ws.path("served"), USER, PASSWORD);
    let url = server.url("conf.git");
    let error = GitRepo::clone_or_open(&remote(url.clone(), Credentials::None), &ws.path("clone"))
        .unwrap_err();
    assert!(
        matches!(error, Error::AuthenticationRequired { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("`{url}` asks for credentials and none are configured")
    );
    assert_eq!(server.rejected(), 0);
    assert!(server.challenged() >= 1);
}

#[test]
fn fetch_with_credentials_revoked_after_the_clone_fails_clearly() {
    let ws = Workspace::new();
    served_repo(&ws);
    let server = AuthHttpServer::start(&ws.path("served"), USER, PASSWORD);
    let good = remote(
        server.url("conf.git"),
        Credentials::UserPassword {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    );
    let repo = GitRepo::clone_or_open(&good, &ws.path("clone")).unwrap();
    let revoked = Remote {
        credentials: Credentials::Token {
            token: "expired".into(),
        },
        ..good
    };
    let error = repo.fetch(&revoked).unwrap_err();
    assert!(
        matches!(error, Error::AuthenticationFailed { .. }),
        "{error:?}"
    );
}
