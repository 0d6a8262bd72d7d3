//! Tests of users, sessions and API tokens against real SQLite files.

use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("voc.db")).unwrap();
    (dir, store)
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        name: name.to_owned(),
        email: format!("{name}@example.com"),
        role,
        password: Secret::new(format!("{name}-password")),
    }
}

fn field_of(error: UserError) -> &'static str {
    match error {
        UserError::Invalid { field, .. } => field,
        other => panic!("expected an invalid input, got {other:?}"),
    }
}

#[test]
fn user_names_follow_the_rule() {
    for good in [
        "a",
        "admin",
        "0",
        "alice.smith",
        "ci_bot-2",
        &"a".repeat(40),
    ] {
        assert!(check_user_name(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "Alice",
        "-x",
        ".x",
        "_x",
        "a b",
        "a/b",
        "é",
        "a@b",
        &"a".repeat(41),
    ] {
        let error = check_user_name(bad).unwrap_err();
        assert_eq!(field_of(error), "name", "{bad}");
    }
    let message = check_user_name("Bob").unwrap_err().to_string();
    assert!(message.contains("`Bob` starts with `B`"), "{message}");
}

#[test]
fn emails_passwords_and_token_names_are_checked() {
    for good in ["a@b", "alice@example.com", "x+y@sub.example.org"] {
        assert!(check_email(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "alice",
        "@example.com",
        "alice@",
        "a@b@c",
        "a b@c",
        "a\n@b",
    ] {
        assert_eq!(field_of(check_email(bad).unwrap_err()), "email", "{bad:?}");
    }
    let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
    assert_eq!(field_of(check_email(&long).unwrap_err()), "email");

    assert!(check_password(&Secret::new("0123456789")).is_ok());
    let short = check_password(&Secret::new("012345678")).unwrap_err();
    assert!(
        short
            .to_string()
            .contains("has 9 characters; use at least 10"),
        "{short}"
    );
    // Characters, not bytes.
    assert!(check_password(&Secret::new("éééééééééé")).is_ok());
    let huge = Secret::new("x".repeat(MAX_PASSWORD_CHARS + 1));
    assert_eq!(field_of(check_password(&huge).unwrap_err()), "password");

    assert!(check_token_name("ci").is_ok());
    for bad in ["", "   ", "a\tb", &"n".repeat(MAX_TOKEN_NAME_CHARS + 1)] {
        assert_eq!(
            field_of(check_token_name(bad).unwrap_err()),
            "name",
            "{bad:?}"
        );
    }
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let user = new_user("alice", Role::Viewer);
    let text = format!("{user:?}");
    assert!(!text.contains("alice-password"), "{text}");
    let update = UserUpdate {
        password: Some(Secret::new("hunter2hunter2")),
        ..UserUpdate::default()
    };
    assert!(!format!("{update:?}").contains("hunter2"));
    let (_dir, store) = store();
    let created = store.create_user(&user).unwrap();
    let session = store.create_session(created.id).unwrap();
    assert!(!format!("{session:?}").contains(session.secret.expose()));
    let token = store.create_api_token(created.id, "ci", None).unwrap();
    assert!(!format!("{token:?}").contains(token.token.expose()));
}

#[test]
fn creating_reading_and_listing_users() {
    let (_dir, store) = store();
    assert_eq!(store.count_users().unwrap(), 0);
    let bob = store.create_user(&new_user("bob", Role::Operator)).unwrap();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    assert_eq!(bob.name, "bob");
    assert_eq!(bob.email, "bob@example.com");
    assert_eq!(bob.role, Role::Operator);
    assert!(bob.created_at > 0);
    assert_eq!(store.user("bob").unwrap(), Some(bob.clone()));
    assert_eq!(store.user_by_id(alice.id).unwrap(), Some(alice.clone()));
    assert_eq!(store.user("carol").unwrap(), None);
    assert_eq!(store.users().unwrap(), vec![alice, bob]);
    assert_eq!(store.count_users().unwrap(), 2);
}

#[test]
fn passwords_are_stored_as_argon2id_phc_strings() {
    let (_dir, store) = store();
    store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let hash: String = store
        .connection()
        .query_row(
            "SELECT password_hash FROM users WHERE name = 'alice'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("alice-password"));
}

#[test]
fn a_taken_name_and_bad_input_change_nothing() {
    let (_dir, store) = store();
    store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let taken = store
        .create_user(&new_user("alice", Role::Admin))
        .unwrap_err();
    assert!(
        matches!(&taken, UserError::NameTaken { name } if name == "alice"),
        "{taken:?}"
    );
    assert_eq!(taken.to_string(), "a user named `alice` already exists");

    let mut bad = new_user("bob", Role::Viewer);
    bad.email = "bob".into();
    assert_eq!(field_of(store.create_user(&bad).unwrap_err()), "email");
    let mut short = new_user("bob", Role::Viewer);
    short.password = Secret::new("short");
    assert_eq!(field_of(store.create_user(&short).unwrap_err()), "password");
    assert_eq!(
        field_of(
            store
                .create_user(&new_user("Bob", Role::Viewer))
                .unwrap_err()
        ),
        "name"
    );
    assert_eq!(store.count_users().unwrap(), 1);
    assert_eq!(store.user("alice").unwrap().unwrap().role, Role::Viewer);
}

#[test]
fn the_first_user_is_created_only_in_an_empty_store() {
    let (_dir, store) = store();
    let first = store
        .create_first_user(&new_user("admin", Role::Admin))
        .unwrap();
    assert_eq!(first.map(|user| user.name), Some("admin".to_owned()));
    assert_eq!(
        store
            .create_first_user(&new_user("other", Role::Admin))
            .unwrap(),
        None
    );
    assert_eq!(store.count_users().unwrap(), 1);
}

#[test]
fn login_checks_the_password_and_answers_alike_for_unknown_names() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let right = Secret::new("alice-password");
    assert_eq!(store.check_login("alice", &right).unwrap(), Some(alice));
    assert_eq!(
        store
            .check_login("alice", &Secret::new("wrong-password"))
            .unwrap(),
        None
    );
    assert_eq!(store.check_login("alice", &Secret::new("")).unwrap(), None);
    assert_eq!(store.check_login("nobody", &right).unwrap(), None);
    assert_eq!(store.check_login("", &right).unwrap(), None);
}

#[test]
fn updating_a_user_changes_only_what_is_given() {
    let (_dir, store) = store();
    store.create_user(&new_user("admin", Role::Admin)).unwrap();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let session = store.create_session(alice.id).unwrap();

    let promoted = store
        .update_user(
            "alice",
            &UserUpdate {
                role: Some(Role::Operator),
                ..UserUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (promoted.role, promoted.email.as_str()),
        (Role::Operator, "alice@example.com")
    );
    // The role applies to the running session at once.
    let found = store.session_user(&session.secret).unwrap().unwrap();
    assert_eq!(found.user.role, Role::Operator);

    let moved = store
        .update_user(
            "alice",
            &UserUpdate {
                email: Some("alice@new.example".into()),
                ..UserUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (moved.role, moved.email.as_str()),
        (Role::Operator, "alice@new.example")
    );
    assert!(store.session_user(&session.secret).unwrap().is_some());

    // A new password ends the user's sessions.
    store
        .update_user(
            "alice",
            &UserUpdate {
                password: Some(Secret::new("a-new-password")),
                ..UserUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(store.session_user(&session.secret).unwrap(), None);
    assert!(
        store
            .check_login("alice", &Secret::new("a-new-password"))
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .check_login("alice", &Secret::new("alice-password"))
            .unwrap()
            .is_none()
    );

    let bad = store.update_user(
        "alice",
        &UserUpdate {
            email: Some("nope".into()),
            role: Some(Role::Admin),
            ..UserUpdate::default()
        },
    );
    assert_eq!(field_of(bad.unwrap_err()), "email");
    assert_eq!(store.user("alice").unwrap().unwrap().role, Role::Operator);

    let missing = store
        .update_user("carol", &UserUpdate::default())
        .unwrap_err();
    assert!(
        matches!(missing, UserError::UserNotFound { .. }),
        "{missing:?}"
    );
}

#[test]
fn the_last_admin_can_be_neither_demoted_nor_deleted() {
    let (_dir, store) = store();
    store.create_user(&new_user("admin", Role::Admin)).unwrap();
    store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let demote = UserUpdate {
        role: Some(Role::Operator),
        ..UserUpdate::default()
    };
    let error = store.update_user("admin", &demote).unwrap_err();
    assert!(
        matches!(
            &error,
            UserError::LastAdmin {
                action: "demoting",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("make another user admin first"));
    let error = store.delete_user("admin").unwrap_err();
    assert!(
        matches!(
            error,
            UserError::LastAdmin {
                action: "deleting",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.user("admin").unwrap().unwrap().role, Role::Admin);

    // Keeping the role is not a demotion.
    let same = UserUpdate {
        role: Some(Role::Admin),
        ..UserUpdate::default()
    };
    store.update_user("admin", &same).unwrap();

    // With a second admin, either may go.
    store
        .update_user(
            "alice",
            &UserUpdate {
                role: Some(Role::Admin),
                ..UserUpdate::default()
            },
        )
        .unwrap();
    store.update_user("admin", &demote).unwrap();
    store.delete_user("admin").unwrap();
    assert!(matches!(
        store.delete_user("alice").unwrap_err(),
        UserError::LastAdmin { .. }
    ));
}

#[test]
fn deleting_a_user_deletes_their_sessions_and_tokens() {
    let (_dir, store) = store();
    store.create_user(&new_user("admin", Role::Admin)).unwrap();
    let alice = store
        .create_user(&new_user("alice", Role::Operator))
        .unwrap();
    let session = store.create_session(alice.id).unwrap();
    let token = store.create_api_token(alice.id, "ci", None).unwrap();
    let deleted = store.delete_user("alice").unwrap();
    assert_eq!(deleted.id, alice.id);
    assert_eq!(store.session_user(&session.secret).unwrap(), None);
    assert_eq!(store.token_user(&token.token).unwrap(), None);
    assert_eq!(store.api_tokens(None).unwrap(), vec![]);
    assert_eq!(store.count_sessions(alice.id).unwrap(), 0);
    assert!(matches!(
        store.delete_user("alice").unwrap_err(),
        UserError::UserNotFound { .. }
    ));
}

#[test]
fn sessions_are_random_stored_hashed_and_authenticate() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let one = store.create_session(alice.id).unwrap();
    let two = store.create_session(alice.id).unwrap();
    assert_ne!(one.secret, two.secret);
    assert_eq!(one.secret.expose().len(), 43);
    assert!(
        one.secret
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    let stored: Vec<u8> = store
        .connection()
        .query_row(
            "SELECT secret_hash FROM sessions WHERE id = ?1",
            [one.session.id],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        stored,
        Sha256::digest(one.secret.expose().as_bytes()).to_vec()
    );

    let found = store.session_user(&one.secret).unwrap().unwrap();
    assert_eq!(found.user, alice);
    assert_eq!(found.credential, CredentialId::Session(one.session.id));
    assert_eq!(
        store.session_user(&Secret::new("not-a-session")).unwrap(),
        None
    );
    assert_eq!(store.session_user(&Secret::new("")).unwrap(), None);

    assert!(store.delete_session(&one.secret).unwrap());
    assert!(!store.delete_session(&one.secret).unwrap());
    assert_eq!(store.session_user(&one.secret).unwrap(), None);
    assert!(store.session_user(&two.secret).unwrap().is_some());
}

#[test]
fn sessions_slide_at_most_once_a_minute_and_expire_after_seven_idle_days() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let start = 1_000_000_000_000;
    let created = store.create_session_at(alice.id, start).unwrap();
    assert_eq!(created.session.expires_at, start + SESSION_LIFETIME_MS);

    // Used within the minute: nothing written.
    store
        .session_user_at(&created.secret, start + 30_000)
        .unwrap()
        .unwrap();
    let session = store.session(&created.secret).unwrap().unwrap();
    assert_eq!(
        (session.last_seen_at, session.expires_at),
        (start, start + SESSION_LIFETIME_MS)
    );

    // Used a minute later: the expiry moves.
    let later = start + SESSION_REFRESH_MS;
    store
        .session_user_at(&created.secret, later)
        .unwrap()
        .unwrap();
    let session = store.session(&created.secret).unwrap().unwrap();
    assert_eq!(
        (session.last_seen_at, session.expires_at),
        (later, later + SESSION_LIFETIME_MS)
    );

    // Still valid just before the new expiry, because of the slide.
    let almost = later + SESSION_LIFETIME_MS - 1;
    assert!(
        store
            .session_user_at(&created.secret, almost)
            .unwrap()
            .is_some()
    );
    // Idle for the whole lifetime: gone, and deleted.
    let idle = almost + SESSION_LIFETIME_MS;
    assert_eq!(store.session_user_at(&created.secret, idle).unwrap(), None);
    assert_eq!(store.session(&created.secret).unwrap(), None);
    assert_eq!(store.count_sessions(alice.id).unwrap(), 0);
}

#[test]
fn changing_the_password_checks_the_current_one_and_ends_other_sessions() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let current = store.create_session(alice.id).unwrap();
    let other = store.create_session(alice.id).unwrap();
    let token = store.create_api_token(alice.id, "ci", None).unwrap();

    let wrong = store
        .change_password(
            alice.id,
            &Secret::new("not-the-password"),
            &Secret::new("new-password-1"),
            Some(current.session.id),
        )
        .unwrap_err();
    assert!(matches!(wrong, UserError::WrongPassword), "{wrong:?}");
    let short = store
        .change_password(
            alice.id,
            &Secret::new("alice-password"),
            &Secret::new("short"),
            Some(current.session.id),
        )
        .unwrap_err();
    assert_eq!(field_of(short), "password");
    assert!(store.session_user(&other.secret).unwrap().is_some());

    store
        .change_password(
            alice.id,
            &Secret::new("alice-password"),
            &Secret::new("new-password-1"),
            Some(current.session.id),
        )
        .unwrap();
    assert!(store.session_user(&current.secret).unwrap().is_some());
    assert_eq!(store.session_user(&other.secret).unwrap(), None);
    // Tokens are not sessions: they stay.
    assert!(store.token_user(&token.token).unwrap().is_some());
    assert!(
        store
            .check_login("alice", &Secret::new("new-password-1"))
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .check_login("alice", &Secret::new("alice-password"))
            .unwrap()
            .is_none()
    );

    // Through a token (no session to keep): every session ends.
    store
        .change_password(
            alice.id,
            &Secret::new("new-password-1"),
            &Secret::new("new-password-2"),
            None,
        )
        .unwrap();
    assert_eq!(store.count_sessions(alice.id).unwrap(), 0);
}

#[test]
fn api_tokens_are_shown_once_stored_hashed_and_authenticate() {
    let (_dir, store) = store();
    let alice = store
        .create_user(&new_user("alice", Role::Operator))
        .unwrap();
    let created = store
        .create_api_token(alice.id, "  deploy bot ", None)
        .unwrap();
    let text = created.token.expose();
    assert!(text.starts_with(TOKEN_PREFIX));
    assert_eq!(text.len(), TOKEN_PREFIX.len() + 43);
    assert_eq!(created.api_token.prefix, text[..DISPLAY_PREFIX_CHARS]);
    assert_eq!(created.api_token.name, "deploy bot");
    assert_eq!(created.api_token.user_name, "alice");
    assert_eq!(created.api_token.expires_at, None);

    let (hash, prefix): (Vec<u8>, String) = store
        .connection()
        .query_row(
            "SELECT secret_hash, prefix FROM api_tokens WHERE id = ?1",
            [created.api_token.id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(hash, Sha256::digest(text.as_bytes()).to_vec());
    assert_eq!(prefix.len(), 10);

    let found = store.token_user(&created.token).unwrap().unwrap();
    assert_eq!(found.user, alice);
    assert_eq!(found.credential, CredentialId::Token(created.api_token.id));
    let listed = store.api_token(created.api_token.id).unwrap().unwrap();
    assert!(listed.last_used_at.is_some());

    assert_eq!(
        store.token_user(&Secret::new("voc_not-a-token")).unwrap(),
        None
    );
    assert_eq!(
        store
            .token_user(&Secret::new(&text[TOKEN_PREFIX.len()..]))
            .unwrap(),
        None
    );
    assert_eq!(store.token_user(&Secret::new("")).unwrap(), None);
}

#[test]
fn revoked_and_expired_tokens_are_refused() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let start = 1_000_000_000_000;
    let expiring = store
        .create_api_token_at(alice.id, "short", Some(2), start)
        .unwrap();
    assert_eq!(expiring.api_token.expires_at, Some(start + 2 * DAY_MS));
    assert!(
        store
            .token_user_at(&expiring.token, start + 2 * DAY_MS - 1)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .token_user_at(&expiring.token, start + 2 * DAY_MS)
            .unwrap(),
        None
    );

    let revoked = store.create_api_token(alice.id, "old", None).unwrap();
    let after = store.revoke_api_token(revoked.api_token.id).unwrap();
    let at = after.revoked_at.unwrap();
    assert!(!after.is_active(now_ms()));
    assert_eq!(store.token_user(&revoked.token).unwrap(), None);
    // Revoking again keeps the first time.
    assert_eq!(
        store
            .revoke_api_token(revoked.api_token.id)
            .unwrap()
            .revoked_at,
        Some(at)
    );
    assert!(matches!(
        store.revoke_api_token(9999).unwrap_err(),
        UserError::TokenNotFound { id: 9999 }
    ));
}

#[test]
fn token_lifetimes_and_names_are_checked() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    for days in [0, -1, MAX_TOKEN_DAYS + 1] {
        let error = store
            .create_api_token(alice.id, "ci", Some(days))
            .unwrap_err();
        assert_eq!(field_of(error), "expiresInDays", "{days}");
    }
    assert!(
        store
            .create_api_token(alice.id, "ci", Some(MAX_TOKEN_DAYS))
            .is_ok()
    );
    assert_eq!(
        field_of(store.create_api_token(alice.id, " ", None).unwrap_err()),
        "name"
    );
    assert!(matches!(
        store.create_api_token(9999, "ci", None).unwrap_err(),
        UserError::UserIdNotFound { id: 9999 }
    ));
    assert_eq!(store.api_tokens(None).unwrap().len(), 1);
}

#[test]
fn tokens_are_listed_per_user_or_for_everyone_newest_first() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let bob = store.create_user(&new_user("bob", Role::Admin)).unwrap();
    let a1 = store
        .create_api_token(alice.id, "a1", None)
        .unwrap()
        .api_token;
    let b1 = store
        .create_api_token(bob.id, "b1", None)
        .unwrap()
        .api_token;
    let a2 = store
        .create_api_token(alice.id, "a2", None)
        .unwrap()
        .api_token;
    let names = |tokens: Vec<ApiToken>| tokens.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.api_tokens(Some(alice.id)).unwrap()),
        ["a2", "a1"]
    );
    assert_eq!(names(store.api_tokens(Some(bob.id)).unwrap()), ["b1"]);
    assert_eq!(names(store.api_tokens(None).unwrap()), ["a2", "b1", "a1"]);
    assert_eq!(store.api_token(b1.id).unwrap().unwrap().user_name, "bob");
    assert_eq!(store.api_token(a1.id).unwrap(), Some(a1));
    assert_ne!(a2.prefix, "");
}

#[test]
fn the_users_tables_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voc.db");
    let (secret, token) = {
        let store = Store::open(&path).unwrap();
        let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
        let session = store.create_session(alice.id).unwrap();
        let token = store.create_api_token(alice.id, "ci", None).unwrap();
        (session.secret, token.token)
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.session_user(&secret).unwrap().unwrap().user.name,
        "alice"
    );
    assert_eq!(
        store.token_user(&token).unwrap().unwrap().user.name,
        "alice"
    );
}

#[test]
fn starting_a_session_sweeps_the_expired_ones() {
    let (_dir, store) = store();
    let alice = store.create_user(&new_user("alice", Role::Viewer)).unwrap();
    let bob = store.create_user(&new_user("bob", Role::Viewer)).unwrap();
    let start = 1_000_000_000_000;
    store.create_session_at(alice.id, start).unwrap();
    let kept = store.create_session_at(alice.id, start + 1000).unwrap();
    assert_eq!(store.count_sessions(alice.id).unwrap(), 2);
    store
        .create_session_at(bob.id, start + SESSION_LIFETIME_MS)
        .unwrap();
    assert_eq!(store.count_sessions(alice.id).unwrap(), 1);
    assert!(store.session(&kept.secret).unwrap().is_some());
    assert_eq!(store.count_sessions(bob.id).unwrap(), 1);
}
