//! Swarm names of a stack's objects, and the rules Docker applies to them.
//!
//! `docker stack deploy` names everything `<stack>_<key>` and leaves the
//! checks to the daemon, which rejects a bad name only when it gets to that
//! object: a stack can be half created before the error shows. voc checks
//! every name up front with the daemon's own rules (measured against Docker
//! 20.10, and unchanged since):
//!
//! - services and swarm networks: a DNS label, `[a-zA-Z0-9]` then groups
//!   of `[-_]*[a-zA-Z0-9]+`, at most 63 characters;
//! - secrets and configs: `[a-zA-Z0-9-_.]`, starting and ending with
//!   `[a-zA-Z0-9]`, at most 64 characters.

use sha2::{Digest, Sha256};

/// The longest service or network name the daemon accepts.
pub const MAX_DNS_LABEL: usize = 63;
/// The longest secret or config name the daemon accepts.
pub const MAX_FILE_OBJECT_NAME: usize = 64;
/// Hex digits of the content hash in a secret's or config's name.
pub const HASH_LEN: usize = 8;

/// The stack name that prefixes every object name.
#[derive(Debug, Clone, Copy)]
pub struct Namespace<'a> {
    stack: &'a str,
}

impl<'a> Namespace<'a> {
    /// The namespace of stack `stack`.
    pub fn new(stack: &'a str) -> Self {
        Self { stack }
    }

    /// The stack name (the namespace label's value).
    pub fn stack(&self) -> &'a str {
        self.stack
    }

    /// `<stack>_<key>`, the name the docker CLI gives an object without an
    /// explicit `name:`.
    pub fn scope(&self, key: &str) -> String {
        format!("{}_{key}", self.stack)
    }
}

/// Why a stack name cannot be used, or `None` if it can.
///
/// The CLI only refuses an empty name, but every name the stack makes starts
/// with it, so it must be a valid start of a DNS label and leave room for
/// `_<key>`.
pub fn stack_name_problem(stack: &str) -> Option<String> {
    let Some(first) = stack.chars().next() else {
        return Some("the stack name is empty".to_owned());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "stack name {stack:?} must start with a letter or a digit"
        ));
    }
    if let Some(bad) = stack
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Some(format!(
            "stack name {stack:?} contains {bad:?}: only letters, digits, '-' and '_' are allowed"
        ));
    }
    if stack.len() > MAX_DNS_LABEL - 2 {
        return Some(format!(
            "stack name {stack:?} is {} characters long: at most {} leave room for `_<service>`",
            stack.len(),
            MAX_DNS_LABEL - 2
        ));
    }
    None
}

/// Whether the daemon accepts `name` for a service or a swarm network.
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((first, last)) = bytes.first().zip(bytes.last()) else {
        return false;
    };
    name.len() <= MAX_DNS_LABEL
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// Whether the daemon accepts `name` for a secret or a config.
pub fn is_file_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((first, last)) = bytes.first().zip(bytes.last()) else {
        return false;
    };
    name.len() <= MAX_FILE_OBJECT_NAME
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What a secret's or config's content hash covers: everything the daemon
/// refuses to change on an existing object (only labels may change).
#[derive(Debug, Clone, Copy, Default)]
pub struct HashedContent<'a> {
    /// The data.
    pub data: &'a [u8],
    /// `template_driver`.
    pub template_driver: Option<&'a str>,
    /// `driver` (secrets).
    pub driver: Option<&'a str>,
    /// `driver_opts` (secrets), in any order.
    pub driver_opts: &'a [(&'a str, &'a str)],
}

/// The first [`HASH_LEN`] hex digits of the content's SHA-256.
///
/// With neither driver nor template driver this is the plain SHA-256 of the
/// data, so `sha256sum FILE` shows it.
pub fn content_hash(content: &HashedContent<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(content.data);
    // Each extra part is NUL-separated and tagged, so no two different
    // contents hash the same input.
    if let Some(driver) = content.template_driver {
        hasher.update(b"\0template_driver=");
        hasher.update(driver.as_bytes());
    }
    if let Some(driver) = content.driver {
        hasher.update(b"\0driver=");
        hasher.update(driver.as_bytes());
        let mut opts = content.driver_opts.to_vec();
        opts.sort_unstable();
        for (k, v) in opts {
            hasher.update(b"\0");
            hasher.update(k.as_bytes());
            hasher.update(b"=");
            hasher.update(v.as_bytes());
        }
    }
    let digest = hasher.finalize();
    digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<stack>_<key>_<hash>`, with `<stack>_<key>` cut so the whole name fits
/// in [`MAX_FILE_OBJECT_NAME`] characters. A cut never ends the prefix on a
/// character Docker refuses before `_` (there is none: `-`, `_` and `.` are
/// all allowed inside a name).
pub fn hashed_name(scoped: &str, hash: &str) -> String {
    let room = MAX_FILE_OBJECT_NAME - hash.len() - 1;
    let mut cut = scoped.len().min(room);
    while !scoped.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &scoped[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        let ok = [
            "a",
            "shop",
            "Shop",
            "my-stack",
            "my_stack",
            "a-",
            "0",
            &"a".repeat(61),
        ];
        for name in ok {
            assert_eq!(stack_name_problem(name), None, "{name}");
        }
        let bad = [
            ("", "the stack name is empty"),
            (
                "-a",
                "stack name \"-a\" must start with a letter or a digit",
            ),
            (
                "_a",
                "stack name \"_a\" must start with a letter or a digit",
            ),
            (
                "a.b",
                "stack name \"a.b\" contains '.': only letters, digits, '-' and '_' are allowed",
            ),
            (
                "a b",
                "stack name \"a b\" contains ' ': only letters, digits, '-' and '_' are allowed",
            ),
            ("é", "stack name \"é\" must start with a letter or a digit"),
        ];
        for (name, want) in bad {
            assert_eq!(stack_name_problem(name).as_deref(), Some(want), "{name}");
        }
        assert!(
            stack_name_problem(&"a".repeat(62))
                .unwrap()
                .contains("at most 61")
        );
    }

    #[test]
    fn dns_labels_follow_the_daemon() {
        // Each case was checked with `docker service create --name`.
        let cases = [
            (&"a".repeat(63)[..], true),
            (&"a".repeat(64)[..], false),
            ("Ab_c", true),
            ("a__b", true),
            ("a-_-b", true),
            ("1ab", true),
            ("a.b", false),
            ("_ab", false),
            ("ab_", false),
            ("ab-", false),
            ("", false),
            ("a b", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_dns_label(name), want, "{name}");
        }
    }

    #[test]
    fn file_object_names_follow_the_daemon() {
        // Each case was checked with `docker secret create` and `docker config create`.
        let cases = [
            (&"a".repeat(64)[..], true),
            (&"a".repeat(65)[..], false),
            ("a.b", true),
            ("A.B-c_d", true),
            ("a_b_", false),
            ("_a", false),
            ("a-b-", false),
            ("", false),
            ("a/b", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_file_object_name(name), want, "{name}");
        }
    }

    #[test]
    fn content_hash_is_plain_sha256_without_drivers() {
        // printf 'hello\n' | sha256sum
        let hash = content_hash(&HashedContent {
            data: b"hello\n",
            ..Default::default()
        });
        assert_eq!(hash, "5891b5b5");
    }

    #[test]
    fn content_hash_covers_everything_that_cannot_be_updated() {
        let base = HashedContent {
            data: b"x",
            ..Default::default()
        };
        let variants = [
            HashedContent { data: b"y", ..base },
            HashedContent {
                template_driver: Some("golang"),
                ..base
            },
            HashedContent {
                driver: Some("vault"),
                ..base
            },
            HashedContent {
                driver: Some("vault"),
                driver_opts: &[("a", "1")],
                ..base
            },
            HashedContent {
                driver: Some("vault"),
                driver_opts: &[("a", "2")],
                ..base
            },
        ];
        let mut seen = vec![content_hash(&base)];
        for v in &variants {
            let h = content_hash(v);
            assert_eq!(h.len(), HASH_LEN);
            assert!(!seen.contains(&h), "{v:?}");
            seen.push(h);
        }
        let a = content_hash(&HashedContent {
            driver: Some("d"),
            driver_opts: &[("a", "1"), ("b", "2")],
            ..base
        });
        let b = content_hash(&HashedContent {
            driver: Some("d"),
            driver_opts: &[("b", "2"), ("a", "1")],
            ..base
        });
        assert_eq!(a, b, "driver_opts order must not matter");
    }

    #[test]
    fn hashed_names_fit_in_64_characters() {
        assert_eq!(hashed_name("shop_site", "0123abcd"), "shop_site_0123abcd");
        let long = format!("shop_{}", "k".repeat(80));
        let name = hashed_name(&long, "0123abcd");
        assert_eq!(name.len(), 64);
        assert!(name.ends_with("k_0123abcd"));
        assert!(is_file_object_name(&name));
        let exact = "s".repeat(55);
        assert_eq!(hashed_name(&exact, "0123abcd").len(), 64);
        assert!(hashed_name(&"s".repeat(54), "0123abcd").len() == 63);
    }
}
