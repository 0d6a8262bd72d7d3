//! Image references as Docker normalises them: `nginx` is
//! `docker.io/library/nginx:latest`, written back in its familiar form
//! (`nginx:latest`), and a digest pins a tag (`nginx:latest@sha256:…`).
//!
//! The docker CLI's API client applies these rules to every service it
//! creates or updates; voc applies the same ones so the specs match.

/// Docker Hub's canonical domain.
const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub's domain, normalised to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Docker Hub's namespace for official images.
const OFFICIAL_NAMESPACE: &str = "library/";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses `image` the way Docker's `ParseNormalizedNamed` does, or
    /// `None` if it is not a valid reference.
    fn parse(image: &str) -> Option<ImageRef> {
        let (name_tag, digest) = match image.split_once('@') {
            Some((name_tag, digest)) => (name_tag, Some(digest)),
            None => (image, None),
        };
        if let Some(digest) = digest
            && !is_valid_digest(digest)
        {
            return None;
        }
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(tag) = tag
            && !is_valid_tag(tag)
        {
            return None;
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest.to_owned())
            }
            _ => (DEFAULT_DOMAIN.to_owned(), name.to_owned()),
        };
        let domain = if domain == LEGACY_DEFAULT_DOMAIN {
            DEFAULT_DOMAIN.to_owned()
        } else {
            domain
        };
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("{OFFICIAL_NAMESPACE}{path}")
        } else {
            path
        };
        if !is_valid_path(&path) || domain.is_empty() {
            return None;
        }
        Some(ImageRef {
            domain,
            path,
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// The familiar form: without `docker.io/` and `library/`.
    fn to_familiar_string(&self) -> String {
        let mut out = if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_NAMESPACE) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            format!("{}/{}", self.domain, self.path)
        };
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
                && component.starts_with(|c: char| c.is_ascii_alphanumeric())
                && component.ends_with(|c: char| c.is_ascii_alphanumeric())
        })
}

fn is_valid_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn is_valid_digest(digest: &str) -> bool {
    match digest.split_once(':') {
        Some((algorithm, hex)) => {
            !algorithm.is_empty()
                && algorithm
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `image` with the `latest` tag added when it has neither tag nor digest,
/// in familiar form (`nginx` -> `nginx:latest`,
/// `docker.io/library/nginx:1` -> `nginx:1`). An invalid reference is
/// returned unchanged (the daemon will reject it with its own message).
pub fn with_default_tag(image: &str) -> String {
    match ImageRef::parse(image) {
        Some(mut reference) => {
            if reference.tag.is_none() && reference.digest.is_none() {
                reference.tag = Some("latest".to_owned());
            }
            reference.to_familiar_string()
        }
        None => image.to_owned(),
    }
}

/// `image` pinned to `digest` (`web:1` -> `web:1@sha256:…`), in familiar
/// form. A reference that already has a digest, or is invalid, is returned
/// unchanged.
pub fn with_digest(image: &str, digest: &str) -> String {
    match ImageRef::parse(image) {
        Some(mut reference) if reference.digest.is_none() && is_valid_digest(digest) => {
            reference.digest = Some(digest.to_owned());
            reference.to_familiar_string()
        }
        _ => image.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn default_tag_is_added_in_familiar_form() {
        let cases = [
            ("nginx", "nginx:latest"),
            ("nginx:1.25", "nginx:1.25"),
            ("library/nginx", "nginx:latest"),
            ("docker.io/library/nginx", "nginx:latest"),
            ("index.docker.io/library/nginx:1", "nginx:1"),
            ("docker.io/someone/app", "someone/app:latest"),
            ("someone/app:v2", "someone/app:v2"),
            ("voc-test/busybox", "voc-test/busybox:latest"),
            ("127.0.0.1:5000/foo", "127.0.0.1:5000/foo:latest"),
            ("127.0.0.1:5000/foo:bar", "127.0.0.1:5000/foo:bar"),
            ("localhost/foo", "localhost/foo:latest"),
            ("localhost:5000/a/b/c:1.0", "localhost:5000/a/b/c:1.0"),
            (
                "registry.example.com/team/app",
                "registry.example.com/team/app:latest",
            ),
            ("docker.io/library/a/b", "library/a/b:latest"),
            // A digest without a tag stays as it is: there is nothing to default.
            (&format!("nginx@{DIGEST}"), &format!("nginx@{DIGEST}")),
            (&format!("nginx:1@{DIGEST}"), &format!("nginx:1@{DIGEST}")),
            // Invalid references are left for the daemon to reject.
            ("Nginx", "Nginx"),
            ("nginx:", "nginx:"),
            ("", ""),
            ("a//b", "a//b"),
            ("nginx@sha256:zz", "nginx@sha256:zz"),
        ];
        for (input, expected) in cases {
            assert_eq!(with_default_tag(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn digest_pins_a_tagged_reference_once() {
        let cases = [
            ("nginx:latest", format!("nginx:latest@{DIGEST}")),
            ("nginx", format!("nginx@{DIGEST}")),
            (
                "127.0.0.1:5000/x/y:t",
                format!("127.0.0.1:5000/x/y:t@{DIGEST}"),
            ),
            ("docker.io/library/redis:7", format!("redis:7@{DIGEST}")),
            (
                "nginx:1@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "nginx:1@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                    .to_owned(),
            ),
            ("NOT/valid", "NOT/valid".to_owned()),
        ];
        for (input, expected) in cases {
            assert_eq!(with_digest(input, DIGEST), expected, "input {input:?}");
        }
        assert_eq!(with_digest("nginx:1", "not-a-digest"), "nginx:1");
    }
}
