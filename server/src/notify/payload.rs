//! What voc POSTs: the JSON body of a notification and its signature.
//! Pure. The fields are documented in `docs/targets.md`; change both
//! together.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::alerts::{Event, Notice, Subject};
use crate::timestamp::format_rfc3339;

/// The header that carries the body's HMAC-SHA256, as `sha256=<hex>` (the
/// same form as GitHub's `X-Hub-Signature-256`, so receivers can reuse
/// their check).
pub const SIGNATURE_HEADER: &str = "X-Voc-Signature-256";
/// The header that names the event (`failure`, `recovery`).
pub const EVENT_HEADER: &str = "X-Voc-Event";
/// The header with the delivery's id, the same on every attempt.
pub const DELIVERY_HEADER: &str = "X-Voc-Delivery";

/// One notification's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// `failure` or `recovery`.
    pub event: &'static str,
    /// The delivery's id (also in `X-Voc-Delivery`): retries of one
    /// notification carry the same, so a receiver can drop duplicates.
    pub delivery: String,
    /// The target's name.
    pub target: String,
    /// `target`, `stack` or `image`.
    pub subject_kind: &'static str,
    /// The stack's or image's name; the target's for `target`.
    pub subject: String,
    /// The job whose end this is; `None` for a target's reconcile.
    pub job: Option<i64>,
    /// `deploy`, `remove` or `build`; `None` for a target's reconcile.
    pub kind: Option<&'static str>,
    /// The commit the job or reconcile was for.
    pub commit: Option<String>,
    /// The failure's sentence; for a recovery, the last failure's.
    pub error: String,
    /// How many attempts failed: 1 for a failure; the whole streak for a
    /// recovery.
    pub failures: u32,
    /// When the first failure of the streak happened (RFC 3339).
    pub failing_since: String,
    /// When this happened (RFC 3339).
    pub at: String,
    /// One sentence for people (chat messages).
    pub message: String,
    /// voc's version.
    pub voc_version: &'static str,
}

impl Payload {
    /// The body of `notice` on target `target`, with delivery id `delivery`.
    pub fn new(target: &str, notice: &Notice, delivery: String) -> Payload {
        let (subject_kind, subject) = match &notice.subject {
            Subject::Target => ("target", target.to_owned()),
            Subject::Stack(name) => ("stack", name.clone()),
            Subject::Image(name) => ("image", name.clone()),
        };
        let kind = notice.attempt.kind.map(|kind| kind.as_str());
        let at = format_rfc3339(notice.attempt.at_ms.div_euclid(1000));
        let failing_since = format_rfc3339(notice.streak.since_ms.div_euclid(1000));
        let streak = &notice.streak;
        let message = match (notice.event, &notice.subject, kind) {
            (Event::Failure, Subject::Target, _) | (Event::Failure, _, None) => {
                format!("the reconcile of target {target} failed: {}", streak.error)
            }
            (Event::Failure, _, Some(kind)) => format!(
                "{kind} of {subject_kind} {subject} on target {target} failed: {}",
                streak.error
            ),
            (Event::Recovery, Subject::Target, _) | (Event::Recovery, _, None) => format!(
                "target {target} recovered: its reconcile ran again after {} since {failing_since}",
                failures(streak.failures)
            ),
            (Event::Recovery, _, Some(kind)) => format!(
                "{subject_kind} {subject} on target {target} recovered: {kind} succeeded after {} since {failing_since}",
                failures(streak.failures)
            ),
        };
        Payload {
            event: notice.event.as_str(),
            delivery,
            target: target.to_owned(),
            subject_kind,
            subject,
            job: notice.attempt.job.map(|job| job.0),
            kind,
            commit: notice.attempt.commit.clone(),
            error: streak.error.clone(),
            failures: streak.failures,
            failing_since,
            at,
            message,
            voc_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

fn failures(count: u32) -> String {
    match count {
        1 => "1 failed attempt".to_owned(),
        n => format!("{n} failed attempts"),
    }
}

/// The `X-Voc-Signature-256` value of `body` under `secret`:
/// `sha256=` and the hex HMAC-SHA256.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // An HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::alerts::{Attempt, Streak};
    use crate::store::{JobId, JobKind};

    fn notice(event: Event, subject: Subject, kind: Option<JobKind>, failures: u32) -> Notice {
        Notice {
            event,
            subject,
            attempt: Attempt {
                job: kind.map(|_| JobId(42)),
                kind,
                commit: Some("c".repeat(40)),
                at_ms: 1_795_671_890_453,
            },
            streak: Streak {
                since_ms: 1_795_671_800_000,
                failures,
                error: "task failed: no such image".into(),
            },
        }
    }

    #[test]
    fn a_stack_failure_in_full() {
        let body = Payload::new(
            "edge",
            &notice(
                Event::Failure,
                Subject::Stack("shop".into()),
                Some(JobKind::Deploy),
                1,
            ),
            "d-1".into(),
        );
        let json = serde_json::to_value(&body).expect("JSON");
        assert_eq!(
            json,
            serde_json::json!({
                "event": "failure",
                "delivery": "d-1",
                "target": "edge",
                "subjectKind": "stack",
                "subject": "shop",
                "job": 42,
                "kind": "deploy",
                "commit": "c".repeat(40),
                "error": "task failed: no such image",
                "failures": 1,
                "failingSince": "2026-11-26T05:43:20Z",
                "at": "2026-11-26T05:44:50Z",
                "message": "deploy of stack shop on target edge failed: task failed: no such image",
                "vocVersion": env!("CARGO_PKG_VERSION"),
            })
        );
    }

    #[test]
    fn messages_of_each_case() {
        let cases = [
            (
                notice(
                    Event::Recovery,
                    Subject::Stack("shop".into()),
                    Some(JobKind::Remove),
                    3,
                ),
                "stack shop on target edge recovered: remove succeeded after 3 failed attempts since 2026-11-26T05:43:20Z",
            ),
            (
                notice(
                    Event::Failure,
                    Subject::Image("web".into()),
                    Some(JobKind::Build),
                    1,
                ),
                "build of image web on target edge failed: task failed: no such image",
            ),
            (
                notice(Event::Failure, Subject::Target, None, 1),
                "the reconcile of target edge failed: task failed: no such image",
            ),
            (
                notice(Event::Recovery, Subject::Target, None, 1),
                "target edge recovered: its reconcile ran again after 1 failed attempt since 2026-11-26T05:43:20Z",
            ),
        ];
        for (notice, message) in cases {
            let body = Payload::new("edge", &notice, "d".into());
            assert_eq!(body.message, message);
        }
        let target = Payload::new(
            "edge",
            &notice(Event::Recovery, Subject::Target, None, 4),
            "d".into(),
        );
        assert_eq!(
            (target.subject_kind, target.subject.as_str()),
            ("target", "edge")
        );
        assert_eq!((target.job, target.kind), (None, None));
        assert_eq!(target.failures, 4);
    }

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
