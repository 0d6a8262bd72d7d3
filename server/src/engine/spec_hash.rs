//! The fingerprint of a desired service spec, stored on the service as label
//! [`SPEC_HASH_LABEL`] so that a redeploy of an unchanged file can send
//! nothing at all.
//!
//! The hash covers the spec exactly as the converter produced it: secret and
//! config references by name (their IDs are filled in later), the image as
//! written (pinning depends on the registry and is checked separately), and
//! without the extra `io.voc.*` labels of the deploy (a new commit label
//! alone does not restart anything). The live spec cannot be compared
//! directly: the daemon fills in defaults, so what it returns never equals
//! what was sent.

use bollard::models::ServiceSpec;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The service label holding [`spec_hash`] of the spec it was deployed from.
pub const SPEC_HASH_LABEL: &str = "io.voc.spec-hash";

/// Bumped when what the hash covers changes, so old labels stop matching.
const HASH_FORMAT: &str = "voc-spec-hash/1\n";

/// SHA-256 (hex) of the canonical JSON of `spec`, ignoring a
/// [`SPEC_HASH_LABEL`] label it may already carry.
pub fn spec_hash(spec: &ServiceSpec) -> String {
    let mut spec = spec.clone();
    if let Some(labels) = spec.labels.as_mut() {
        labels.remove(SPEC_HASH_LABEL);
    }
    // Serialising generated structs of strings, numbers and maps cannot fail.
    let value = serde_json::to_value(&spec).unwrap_or(Value::Null);
    let mut hasher = Sha256::new();
    hasher.update(HASH_FORMAT);
    hasher.update(to_canonical(value).to_string());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `value` with the keys of every object sorted, so that maps (which the
/// models hold as `HashMap`s, iterated in random order) always serialise the
/// same way.
fn to_canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, to_canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(to_canonical).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{
        ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec,
    };

    use super::*;

    fn spec(labels: &[(&str, &str)], env: &[&str], replicas: i64) -> ServiceSpec {
        ServiceSpec {
            name: Some("s_web".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            task_template: Some(TaskSpec {
                container_spec: Some(TaskSpecContainerSpec {
                    image: Some("busybox:latest".into()),
                    env: Some(env.iter().map(|e| e.to_string()).collect()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            mode: Some(ServiceSpecMode {
                replicated: Some(ServiceSpecModeReplicated {
                    replicas: Some(replicas),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn same_spec_gives_same_hash_whatever_the_map_order() {
        let labels: Vec<(String, String)> = (0..50)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect();
        let forward: HashMap<String, String> = labels.iter().cloned().collect();
        let mut backward = HashMap::with_capacity(7);
        for (k, v) in labels.iter().rev() {
            backward.insert(k.clone(), v.clone());
        }
        let a = ServiceSpec {
            labels: Some(forward),
            ..spec(&[], &["A=1"], 1)
        };
        let b = ServiceSpec {
            labels: Some(backward),
            ..spec(&[], &["A=1"], 1)
        };
        assert_eq!(spec_hash(&a), spec_hash(&b));
        assert_eq!(spec_hash(&a).len(), 64);
    }

    #[test]
    fn hash_ignores_its_own_label_only() {
        let base = spec(&[("a", "1")], &["A=1"], 1);
        let with_label = spec(&[("a", "1"), (SPEC_HASH_LABEL, "old")], &["A=1"], 1);
        assert_eq!(spec_hash(&base), spec_hash(&with_label));

        let changes = [
            spec(&[("a", "2")], &["A=1"], 1),
            spec(&[("a", "1"), ("b", "1")], &["A=1"], 1),
            spec(&[("a", "1")], &["A=2"], 1),
            spec(&[("a", "1")], &["A=1", "B=1"], 1),
            spec(&[("a", "1")], &["A=1"], 2),
            spec(&[], &["A=1"], 1),
        ];
        for changed in &changes {
            assert_ne!(spec_hash(&base), spec_hash(changed), "{changed:?}");
        }
    }

    #[test]
    fn list_order_matters() {
        assert_ne!(
            spec_hash(&spec(&[], &["A=1", "B=1"], 1)),
            spec_hash(&spec(&[], &["B=1", "A=1"], 1))
        );
    }
}
