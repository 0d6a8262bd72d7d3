//! The first admin: on the first start (no user in the store), voc creates
//! the user `admin` so that someone can sign in at all. Its password is
//! `admin_password` from the configuration (`VOC_ADMIN_PASSWORD`, or the
//! file `VOC_ADMIN_PASSWORD_FILE` names), or a generated one printed once
//! on stdout, the only time it can be read.

use anyhow::Context;

use crate::api::Role;
use crate::store::user::generate_password;
use crate::store::{NewUser, Secret, Store, User};

/// The first admin's user name.
pub const FIRST_ADMIN: &str = "admin";
/// The first admin's e-mail address (they can change it).
pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// Creates the first admin if the store has no user; `None` when users
/// exist (then the configured password is ignored: it only seeds an empty
/// store).
pub async fn ensure_first_admin(
    store: &Store,
    configured_password: Option<&str>,
) -> anyhow::Result<Option<User>> {
    let store = store.clone();
    let configured = configured_password.map(Secret::new);
    tokio::task::spawn_blocking(move || create_if_none(&store, configured))
        .await
        .context("creating the first admin")?
}

fn create_if_none(store: &Store, configured: Option<Secret>) -> anyhow::Result<Option<User>> {
    // Checked first so that a restart neither hashes nor generates anything.
    if store.count_users().context("counting users")? > 0 {
        return Ok(None);
    }
    let generated = configured.is_none();
    let password = match configured {
        Some(password) => password,
        None => generate_password().context("generating the first admin's password")?,
    };
    let admin = NewUser {
        name: FIRST_ADMIN.to_owned(),
        email: FIRST_ADMIN_EMAIL.to_owned(),
        role: Role::Admin,
        password: password.clone(),
    };
    let created = store.create_first_user(&admin).with_context(|| {
        if generated {
            "creating the first admin".to_owned()
        } else {
            "creating the first admin with the configured password (VOC_ADMIN_PASSWORD, \
             or the file of admin_password_file, VOC_ADMIN_PASSWORD_FILE)"
                .to_owned()
        }
    })?;
    if created.is_some() {
        if generated {
            // On stdout, not in the log: the log is kept and shipped, this
            // line is for whoever started voc. It is the one copy there is.
            super::announce::announce(&format!(
                "voc: created the first admin: user {FIRST_ADMIN}, password {} (shown only now; \
                 change it with the changePassword mutation)",
                password.expose()
            ));
        } else {
            tracing::info!("created the first admin `{FIRST_ADMIN}` with the configured password");
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("voc.db")).expect("store");
        (dir, store)
    }

    #[tokio::test]
    async fn first_admin_gets_the_configured_password_once() {
        let (_dir, store) = store();
        let password = Secret::new("configured-password");
        let created = ensure_first_admin(&store, Some(password.expose()))
            .await
            .expect("bootstrap")
            .expect("created");
        assert_eq!(
            (created.name.as_str(), created.role),
            (FIRST_ADMIN, Role::Admin)
        );
        assert!(
            store
                .check_login(FIRST_ADMIN, &password)
                .expect("login")
                .is_some()
        );
        // A second start changes nothing, even with another password.
        let again = ensure_first_admin(&store, Some("another-password"))
            .await
            .expect("bootstrap");
        assert_eq!(again, None);
        assert!(
            store
                .check_login(FIRST_ADMIN, &password)
                .expect("login")
                .is_some()
        );
        assert_eq!(store.count_users().expect("count"), 1);
    }

    #[tokio::test]
    async fn first_admin_without_password_gets_a_generated_one() {
        let (_dir, store) = store();
        let created = ensure_first_admin(&store, None).await.expect("bootstrap");
        assert!(created.is_some());
        assert_eq!(store.count_users().expect("count"), 1);
    }

    #[tokio::test]
    async fn a_too_short_configured_password_is_refused() {
        let (_dir, store) = store();
        let error = ensure_first_admin(&store, Some("short"))
            .await
            .expect_err("refused");
        let text = format!("{error:#}");
        assert!(text.contains("VOC_ADMIN_PASSWORD"), "{text}");
        assert!(text.contains("at least 10"), "{text}");
        assert_eq!(store.count_users().expect("count"), 0);
    }

    #[tokio::test]
    async fn no_admin_is_created_when_users_exist() {
        let (_dir, store) = store();
        store
            .create_user(&NewUser {
                name: "alice".into(),
                email: "alice@example.com".into(),
                role: Role::Viewer,
                password: Secret::new("alice-password"),
            })
            .expect("user");
        assert_eq!(
            ensure_first_admin(&store, None).await.expect("bootstrap"),
            None
        );
        assert_eq!(store.user(FIRST_ADMIN).expect("read"), None);
    }
}
