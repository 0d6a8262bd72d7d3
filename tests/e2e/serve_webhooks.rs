//! Push webhooks (issue 4, section 2) against a real `voc serve` that
//! polls only every hour: a push followed by a signed delivery from
//! GitHub, GitLab or Gitea (their payload shapes and headers, signed here)
//! is deployed within seconds; a wrong or missing signature is refused
//! with 401 and deploys nothing; a push to another branch and a repeated
//! delivery are ignored.

use std::time::Duration;

use anyhow::Result;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use voc_tests::server::bare_repo_with;
use voc_tests::{StackGuard, require_engine, unique_name};

use crate::serve_follow::{Author, marker, serve, wait_for_marker};

const GITHUB_SECRET: &str = "github-hook-secret";
const GITEA_SECRET: &str = "gitea-hook-secret";
const GITLAB_TOKEN: &str = "gitlab-hook-token";

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A push payload of `provider`'s shape (webhooks.md §6).
pub(crate) fn payload(provider: &str, git_ref: &str, before: &str, after: &str) -> Vec<u8> {
    let commit = json!({"id": after, "message": "Change the marker\n",
        "timestamp": "2026-03-02T10:15:00Z",
        "author": {"name": "Dana Ops", "email": "dana@example.org"},
        "added": [], "modified": ["docker-compose.yml"], "removed": []});
    let body = match provider {
        "gitlab" => json!({"object_kind": "push", "event_name": "push", "ref": git_ref,
            "before": before, "after": after, "checkout_sha": after, "user_username": "dana",
            "project": {"id": 42, "path_with_namespace": "acme/conf", "default_branch": "main"},
            "commits": [commit], "total_commits_count": 1}),
        "github" => json!({"ref": git_ref, "before": before, "after": after,
            "created": false, "deleted": false, "forced": false, "base_ref": null,
            "commits": [commit], "head_commit": {"id": after},
            "repository": {"full_name": "acme/conf", "default_branch": "main"},
            "pusher": {"name": "dana", "email": "dana@example.org"}, "sender": {"login": "dana"}}),
        _ => json!({"ref": git_ref, "before": before, "after": after,
            "commits": [commit], "total_commits": 1, "head_commit": {"id": after},
            "repository": {"full_name": "acme/conf", "default_branch": "main"},
            "pusher": {"login": "dana"}}),
    };
    body.to_string().into_bytes()
}

/// The headers `provider` sends with `body`, signed with `secret`.
pub(crate) fn signed_headers(
    provider: &str,
    body: &[u8],
    secret: &str,
    delivery: &str,
) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match provider {
        "gitlab" => vec![
            ("X-Gitlab-Event", "Push Hook".into()),
            ("X-Gitlab-Event-UUID", delivery.into()),
            ("X-Gitlab-Token", secret.into()),
        ],
        "github" => vec![
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", delivery.into()),
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hmac_hex(secret, body)),
            ),
        ],
        _ => vec![
            ("X-Gitea-Event", "push".into()),
            ("X-Gitea-Delivery", delivery.into()),
            ("X-Gitea-Signature", hmac_hex(secret, body)),
            ("X-GitHub-Event", "push".into()),
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hmac_hex(secret, body)),
            ),
        ],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// POSTs a delivery; its status and body.
pub(crate) fn deliver(
    url: &str,
    provider: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = agent
        .post(format!("{url}/hooks/{provider}"))
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = request.send(body)?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}

#[test]
fn signed_pushes_deploy_at_once_and_bad_deliveries_change_nothing() -> Result<()> {
    require_engine();
    let name = unique_name("hooks");
    let _guard = StackGuard::new(&name);
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let author = Author::clone_of(&bare, dir.path())?;
    author.write_stack(&name, "zero")?;
    let mut before = author.push("Add the stack")?;
    let config = format!(
        "[webhooks]\ngithub_secret = \"{GITHUB_SECRET}\"\ngitea_secret = \"{GITEA_SECRET}\"\ngitlab_token = \"{GITLAB_TOKEN}\"\n"
    );
    // Polling every hour: only the first fetch and the webhooks fetch.
    let server = serve(&bare, &[("VOC_POLL_INTERVAL", "1h")], &config)?;
    wait_for_marker(&server, &name, "zero", Duration::from_secs(60))?;

    // A new commit, announced by bad deliveries only: nothing happens.
    author.write_stack(&name, "one")?;
    let after = author.push("Marker one")?;
    let body = payload("github", "refs/heads/main", &before, &after);
    let forged = signed_headers("github", &body, "not-the-secret", "forged-1");
    let (status, text) = deliver(&server.url, "github", &forged, &body)?;
    assert_eq!(status, 401, "{text}");
    let unsigned: Vec<(String, String)> = vec![("X-GitHub-Event".into(), "push".into())];
    assert_eq!(deliver(&server.url, "github", &unsigned, &body)?.0, 401);
    let gitlab_body = payload("gitlab", "refs/heads/main", &before, &after);
    let wrong_token = signed_headers("gitlab", &gitlab_body, "wrong-token", "forged-2");
    assert_eq!(
        deliver(&server.url, "gitlab", &wrong_token, &gitlab_body)?.0,
        401
    );
    let gitea_body = payload("gitea", "refs/heads/main", &before, &after);
    let wrong_hmac = signed_headers("gitea", &gitea_body, "wrong-secret", "forged-3");
    assert_eq!(
        deliver(&server.url, "gitea", &wrong_hmac, &gitea_body)?.0,
        401
    );
    // A signed push to another branch is ignored, with the reason.
    let feature = payload("github", "refs/heads/feature", &before, &after);
    let (status, text) = deliver(
        &server.url,
        "github",
        &signed_headers("github", &feature, GITHUB_SECRET, "feature-1"),
        &feature,
    )?;
    assert_eq!(
        (status, text.trim()),
        (202, "ignored: push to refs/heads/feature, voc follows main")
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        marker(&name)?.as_deref(),
        Some("zero"),
        "a refused delivery deployed"
    );
    let log = server.log_text();
    assert!(
        log.contains("webhook refused") && log.contains("forged-1"),
        "refusals are logged:\n{log}"
    );
    assert!(
        !log.contains("not-the-secret") && !log.contains(GITHUB_SECRET),
        "a secret reached the log"
    );

    // GitHub, signed: deployed within seconds.
    let headers = signed_headers("github", &body, GITHUB_SECRET, "github-1");
    let (status, text) = deliver(&server.url, "github", &headers, &body)?;
    assert_eq!(status, 202, "{text}");
    assert!(text.starts_with("queued:"), "{text}");
    wait_for_marker(&server, &name, "one", Duration::from_secs(30))?;
    // The same delivery again is ignored.
    let (status, text) = deliver(&server.url, "github", &headers, &body)?;
    assert_eq!(
        (status, text.trim()),
        (200, "ignored: delivery already seen")
    );
    before = after;

    // GitLab and Gitea, each with its own shape and credential.
    for (provider, secret, marker_value) in [
        ("gitlab", GITLAB_TOKEN, "two"),
        ("gitea", GITEA_SECRET, "three"),
    ] {
        author.write_stack(&name, marker_value)?;
        let after = author.push(&format!("Marker {marker_value}"))?;
        let body = payload(provider, "refs/heads/main", &before, &after);
        let headers = signed_headers(provider, &body, secret, &format!("{provider}-1"));
        let (status, text) = deliver(&server.url, provider, &headers, &body)?;
        assert_eq!(status, 202, "{provider}: {text}");
        wait_for_marker(&server, &name, marker_value, Duration::from_secs(30))?;
        before = after;
    }
    Ok(())
}

#[test]
fn an_endpoint_without_a_secret_refuses_and_a_ping_answers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let bare = bare_repo_with(dir.path(), &[("README.md", "conf repo\n")])?;
    let server = serve(
        &bare,
        &[("VOC_POLL_INTERVAL", "1h")],
        &format!("[webhooks]\ngithub_secret = \"{GITHUB_SECRET}\"\n"),
    )?;
    let body = payload(
        "gitlab",
        "refs/heads/main",
        &"1".repeat(40),
        &"2".repeat(40),
    );
    let headers = signed_headers("gitlab", &body, "anything", "g-1");
    let (status, text) = deliver(&server.url, "gitlab", &headers, &body)?;
    assert_eq!(status, 401);
    assert!(text.contains("secret is not configured"), "{text}");

    let ping = br#"{"zen": "Design for failure.", "hook_id": 7}"#;
    let headers = vec![
        ("X-GitHub-Event".to_owned(), "ping".to_owned()),
        ("X-GitHub-Delivery".to_owned(), "ping-1".to_owned()),
        (
            "X-Hub-Signature-256".to_owned(),
            format!("sha256={}", hmac_hex(GITHUB_SECRET, ping)),
        ),
    ];
    let (status, text) = deliver(&server.url, "github", &headers, ping)?;
    assert_eq!(status, 200, "{text}");
    Ok(())
}
