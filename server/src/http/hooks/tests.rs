//! The webhook decisions, with the known-answer vectors of
//! `webhooks.md` and each provider's payload shape.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::*;

/// The vector's secret and body (GitHub's published example).
const SECRET: &str = "It's a Secret to Everybody";
const VECTOR_BODY: &[u8] = b"Hello, World!";
const VECTOR_SHA256: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

const AFTER: &str = "a7d2e4f6081b3c5d7e9f1a2b4c6d8e0f1a3b5c7d";
const BEFORE: &str = "3c1f9e2b7a64d05c8e1b2a3f4d5c6b7a8e9f0a1b";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = mac_of(secret.as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn push_body(git_ref: &str, before: &str, after: &str) -> Vec<u8> {
    serde_json::json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "commits": [{"id": after, "message": "Pin nginx to 1.27.3\n"}],
        "repository": {"full_name": "acme/webshop", "default_branch": "main"}
    })
    .to_string()
    .into_bytes()
}

fn decide(provider: Provider, headers: &HeaderMap, body: &[u8], secret: Option<&str>) -> Answer {
    answer(
        Delivery {
            provider,
            headers,
            body,
        },
        secret,
        "main",
        &Deliveries::default(),
    )
}

/// Headers of a signed push from `provider` with delivery id `id`.
fn push_headers(provider: Provider, body: &[u8], id: &str) -> HeaderMap {
    let signature = sign(SECRET, body);
    match provider {
        Provider::GitHub => headers(&[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", id),
            ("X-Hub-Signature-256", &format!("sha256={signature}")),
        ]),
        Provider::Gitea => headers(&[
            ("X-Gitea-Event", "push"),
            ("X-Gitea-Delivery", id),
            ("X-Gitea-Signature", &signature),
            // Gitea also sends GitHub's headers: the Gitea ones count.
            ("X-GitHub-Event", "push"),
        ]),
        Provider::GitLab => headers(&[
            ("X-Gitlab-Event", "Push Hook"),
            ("X-Gitlab-Event-UUID", id),
            ("X-Gitlab-Token", SECRET),
        ]),
    }
}

#[test]
fn the_known_answer_vector_verifies_for_github_and_gitea() {
    assert_eq!(sign(SECRET, VECTOR_BODY), VECTOR_SHA256);
    let github = headers(&[("X-Hub-Signature-256", &format!("sha256={VECTOR_SHA256}"))]);
    assert_eq!(
        authenticate(Provider::GitHub, SECRET, &github, VECTOR_BODY),
        Ok(())
    );
    let gitea = headers(&[("X-Gitea-Signature", VECTOR_SHA256)]);
    assert_eq!(
        authenticate(Provider::Gitea, SECRET, &gitea, VECTOR_BODY),
        Ok(())
    );
    // Forgejo's own header, and upper-case hex, are accepted too.
    let forgejo = headers(&[("X-Forgejo-Signature", &VECTOR_SHA256.to_uppercase())]);
    assert_eq!(
        authenticate(Provider::Gitea, SECRET, &forgejo, VECTOR_BODY),
        Ok(())
    );
    let gitlab = headers(&[("X-Gitlab-Token", SECRET)]);
    assert_eq!(
        authenticate(Provider::GitLab, SECRET, &gitlab, VECTOR_BODY),
        Ok(())
    );
}

#[test]
fn wrong_or_missing_credentials_are_refused_with_the_reason() {
    let cases: Vec<(Provider, HeaderMap, &str)> = vec![
        (
            Provider::GitHub,
            headers(&[]),
            "missing X-Hub-Signature-256",
        ),
        (
            Provider::GitHub,
            headers(&[("X-Hub-Signature-256", VECTOR_SHA256)]),
            "does not start with sha256=",
        ),
        (
            Provider::GitHub,
            headers(&[("X-Hub-Signature-256", "sha256=zz")]),
            "not hexadecimal",
        ),
        (
            Provider::GitHub,
            headers(&[(
                "X-Hub-Signature-256",
                &format!("sha256={}", sign("another secret", VECTOR_BODY)),
            )]),
            "wrong X-Hub-Signature-256",
        ),
        // A legacy SHA-1 signature alone is not enough.
        (
            Provider::GitHub,
            headers(&[(
                "X-Hub-Signature",
                "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",
            )]),
            "missing X-Hub-Signature-256",
        ),
        (Provider::Gitea, headers(&[]), "missing X-Gitea-Signature"),
        // A hook without a secret sends the header empty.
        (
            Provider::Gitea,
            headers(&[("X-Gitea-Signature", "")]),
            "missing X-Gitea-Signature",
        ),
        (
            Provider::Gitea,
            headers(&[("X-Gitea-Signature", &VECTOR_SHA256[..62])]),
            "wrong X-Gitea-Signature",
        ),
        (Provider::GitLab, headers(&[]), "missing X-Gitlab-Token"),
        (
            Provider::GitLab,
            headers(&[("X-Gitlab-Token", "It's a Secret to Everybod")]),
            "wrong X-Gitlab-Token",
        ),
        (
            Provider::GitLab,
            headers(&[("X-Gitlab-Token", "It's a Secret to Everybody!")]),
            "wrong X-Gitlab-Token",
        ),
    ];
    for (provider, headers, reason) in cases {
        let refused = authenticate(provider, SECRET, &headers, VECTOR_BODY)
            .expect_err("a bad credential was accepted");
        assert!(
            refused.contains(reason),
            "{provider:?}: `{refused}` should say `{reason}`"
        );
        let answer = decide(provider, &headers, VECTOR_BODY, Some(SECRET));
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(!answer.wake);
    }
}

#[test]
fn a_body_changed_after_signing_is_refused() {
    for provider in [Provider::GitHub, Provider::Gitea] {
        let body = push_body("refs/heads/main", BEFORE, AFTER);
        let headers = push_headers(provider, &body, "d-1");
        let mut tampered = body.clone();
        tampered.extend_from_slice(b" ");
        let answer = decide(provider, &headers, &tampered, Some(SECRET));
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{provider:?}");
        assert!(!answer.wake);
    }
}

#[test]
fn an_endpoint_without_its_secret_refuses_everything() {
    for provider in [Provider::GitHub, Provider::Gitea, Provider::GitLab] {
        let body = push_body("refs/heads/main", BEFORE, AFTER);
        let headers = push_headers(provider, &body, "d-1");
        for secret in [None, Some("")] {
            let answer = decide(provider, &headers, &body, secret);
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
            assert!(
                answer.body.contains("secret is not configured"),
                "{answer:?}"
            );
            assert!(!answer.wake);
        }
    }
}

#[test]
fn a_signed_push_to_the_branch_wakes_the_loops() {
    for provider in [Provider::GitHub, Provider::Gitea, Provider::GitLab] {
        let body = push_body("refs/heads/main", BEFORE, AFTER);
        let headers = push_headers(provider, &body, "d-1");
        let answer = decide(provider, &headers, &body, Some(SECRET));
        assert_eq!(
            answer,
            Answer {
                status: StatusCode::ACCEPTED,
                body: "queued: voc fetches main and reconciles up to a7d2e4f".into(),
                wake: true,
            },
            "{provider:?}"
        );
    }
}

#[test]
fn the_reference_payloads_of_each_provider_are_read() {
    // Trimmed payloads of webhooks.md §6 (GitLab's carries checkout_sha
    // and a project object instead of repository).
    let gitlab = br#"{"object_kind": "push", "event_name": "push", "ref": "refs/heads/main",
 "before": "3c1f9e2b7a64d05c8e1b2a3f4d5c6b7a8e9f0a1b",
 "after": "a7d2e4f6081b3c5d7e9f1a2b4c6d8e0f1a3b5c7d",
 "checkout_sha": "a7d2e4f6081b3c5d7e9f1a2b4c6d8e0f1a3b5c7d", "ref_protected": true,
 "user_id": 17, "user_name": "Dana Ops", "user_username": "dana", "user_email": "", "project_id": 42,
 "project": {"id": 42, "path_with_namespace": "acme/webshop", "default_branch": "main"},
 "commits": [], "total_commits_count": 1}"#;
    let github = br#"{"ref": "refs/heads/main",
 "before": "3c1f9e2b7a64d05c8e1b2a3f4d5c6b7a8e9f0a1b",
 "after": "a7d2e4f6081b3c5d7e9f1a2b4c6d8e0f1a3b5c7d",
 "created": false, "deleted": false, "forced": false, "base_ref": null,
 "head_commit": {"id": "a7d2e4f6081b3c5d7e9f1a2b4c6d8e0f1a3b5c7d"},
 "repository": {"id": 918273645, "full_name": "acme/webshop", "default_branch": "main"},
 "pusher": {"name": "dana", "email": "dana@example.org"}, "sender": {"login": "dana", "id": 5550123}}"#;
    for (provider, body) in [
        (Provider::GitLab, &gitlab[..]),
        (Provider::GitHub, &github[..]),
        (Provider::Gitea, &github[..]),
    ] {
        let headers = push_headers(provider, body, "d-1");
        let answer = decide(provider, &headers, body, Some(SECRET));
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "{provider:?}: {answer:?}"
        );
        assert!(answer.wake);
    }
}

#[test]
fn a_push_to_another_ref_is_ignored_with_the_reason() {
    for provider in [Provider::GitHub, Provider::Gitea, Provider::GitLab] {
        for git_ref in [
            "refs/heads/feature",
            "refs/tags/v1.2",
            "refs/heads/main-old",
        ] {
            let body = push_body(git_ref, BEFORE, AFTER);
            let headers = push_headers(provider, &body, "d-1");
            let answer = decide(provider, &headers, &body, Some(SECRET));
            assert_eq!(answer.status, StatusCode::ACCEPTED);
            assert_eq!(
                answer.body,
                format!("ignored: push to {git_ref}, voc follows main")
            );
            assert!(!answer.wake);
        }
    }
}

#[test]
fn a_repeated_delivery_is_ignored() {
    let deliveries = Deliveries::default();
    for provider in [Provider::GitHub, Provider::Gitea, Provider::GitLab] {
        let body = push_body("refs/heads/main", BEFORE, AFTER);
        let headers = push_headers(provider, &body, "same-id");
        let delivery = Delivery {
            provider,
            headers: &headers,
            body: &body,
        };
        let first = answer(delivery, Some(SECRET), "main", &deliveries);
        assert!(first.wake, "{provider:?}: {first:?}");
        let again = answer(delivery, Some(SECRET), "main", &deliveries);
        assert_eq!(
            again,
            Answer::new(StatusCode::OK, "ignored: delivery already seen")
        );
    }
    // GitLab's Idempotency-Key is preferred over the event UUID.
    let body = push_body("refs/heads/main", BEFORE, AFTER);
    let mut gitlab = push_headers(Provider::GitLab, &body, "uuid-1");
    gitlab.insert("idempotency-key", HeaderValue::from_static("key-1"));
    let delivery = Delivery {
        provider: Provider::GitLab,
        headers: &gitlab,
        body: &body,
    };
    assert!(answer(delivery, Some(SECRET), "main", &deliveries).wake);
    gitlab.insert("x-gitlab-event-uuid", HeaderValue::from_static("uuid-2"));
    let delivery = Delivery {
        provider: Provider::GitLab,
        headers: &gitlab,
        body: &body,
    };
    assert!(!answer(delivery, Some(SECRET), "main", &deliveries).wake);
}

#[test]
fn a_refused_delivery_does_not_burn_its_id() {
    let deliveries = Deliveries::default();
    let body = push_body("refs/heads/main", BEFORE, AFTER);
    let mut forged = push_headers(Provider::GitHub, &body, "id-1");
    forged.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&format!("sha256={}", sign("guess", &body))).expect("value"),
    );
    let delivery = Delivery {
        provider: Provider::GitHub,
        headers: &forged,
        body: &body,
    };
    assert_eq!(
        answer(delivery, Some(SECRET), "main", &deliveries).status,
        StatusCode::UNAUTHORIZED
    );
    let genuine = push_headers(Provider::GitHub, &body, "id-1");
    let delivery = Delivery {
        provider: Provider::GitHub,
        headers: &genuine,
        body: &body,
    };
    assert!(answer(delivery, Some(SECRET), "main", &deliveries).wake);
}

#[test]
fn only_the_last_thousand_deliveries_are_remembered() {
    let deliveries = Deliveries::default();
    for n in 0..=REMEMBERED_DELIVERIES {
        assert!(deliveries.first_time(&n.to_string()));
    }
    // The oldest was forgotten, the newest is still known.
    assert!(deliveries.first_time("0"));
    assert!(!deliveries.first_time(&REMEMBERED_DELIVERIES.to_string()));
}

#[test]
fn pings_tests_deletions_and_other_events_answer_without_waking() {
    let ping = br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#;
    let headers_ping = headers(&[
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", "p-1"),
        (
            "X-Hub-Signature-256",
            &format!("sha256={}", sign(SECRET, ping)),
        ),
    ]);
    let answer = decide(Provider::GitHub, &headers_ping, ping, Some(SECRET));
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.wake);

    // Gitea's test delivery: before = after.
    let test = push_body("refs/heads/main", AFTER, AFTER);
    let answer = decide(
        Provider::Gitea,
        &push_headers(Provider::Gitea, &test, "t-1"),
        &test,
        Some(SECRET),
    );
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.wake);

    // The followed branch deleted: never deploy an all-zero commit.
    let deleted = push_body("refs/heads/main", AFTER, &"0".repeat(40));
    let answer = decide(
        Provider::GitHub,
        &push_headers(Provider::GitHub, &deleted, "x-1"),
        &deleted,
        Some(SECRET),
    );
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("deleted"), "{answer:?}");
    assert!(!answer.wake);

    // Another event, signed: ignored.
    let issue = br#"{"action": "opened"}"#;
    let mut other = push_headers(Provider::GitHub, issue, "o-1");
    other.insert("x-github-event", HeaderValue::from_static("issues"));
    let answer = decide(Provider::GitHub, &other, issue, Some(SECRET));
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("not a push"), "{answer:?}");
    assert!(!answer.wake);

    // A push whose body is no JSON: a clear 400.
    let form = b"payload=%7B%7D";
    let answer = decide(
        Provider::GitHub,
        &push_headers(Provider::GitHub, form, "f-1"),
        form,
        Some(SECRET),
    );
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(!answer.wake);
}

#[test]
fn hex_decoding() {
    assert_eq!(decode_hex("00ff7A"), Some(vec![0, 255, 122]));
    assert_eq!(decode_hex(""), Some(vec![]));
    assert_eq!(decode_hex("abc"), None);
    assert_eq!(decode_hex("zz"), None);
    assert_eq!(decode_hex("é1"), None);
}

#[test]
fn each_answer_is_counted_under_what_it_came_to() {
    let push = push_body("refs/heads/main", BEFORE, AFTER);
    let elsewhere = push_body("refs/heads/feature", BEFORE, AFTER);
    let garbage = b"not json".to_vec();
    let cases = [
        (
            push_headers(Provider::GitHub, &push, "r-1"),
            &push,
            Some(SECRET),
            WebhookResult::Accepted,
        ),
        (
            push_headers(Provider::GitHub, &elsewhere, "r-2"),
            &elsewhere,
            Some(SECRET),
            WebhookResult::Ignored,
        ),
        (
            headers(&[
                ("X-GitHub-Event", "ping"),
                (
                    "X-Hub-Signature-256",
                    &format!("sha256={}", sign(SECRET, &push)),
                ),
            ]),
            &push,
            Some(SECRET),
            WebhookResult::Ignored,
        ),
        (
            push_headers(Provider::GitHub, &push, "r-3"),
            &push,
            Some("another secret"),
            WebhookResult::Refused,
        ),
        (
            push_headers(Provider::GitHub, &push, "r-4"),
            &push,
            None,
            WebhookResult::Refused,
        ),
        (
            push_headers(Provider::GitHub, &garbage, "r-5"),
            &garbage,
            Some(SECRET),
            WebhookResult::BadRequest,
        ),
    ];
    for (headers, body, secret, expected) in cases {
        let answer = decide(Provider::GitHub, &headers, body, secret);
        assert_eq!(answer.result(), expected, "{answer:?}");
    }
}
