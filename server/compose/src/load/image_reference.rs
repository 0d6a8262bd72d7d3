//! Image references (`nginx`, `nginx:1.25`, `registry:5000/team/app@sha256:...`),
//! checked with Docker's reference grammar, so a typo is reported with its
//! line instead of failing when the service is created.

/// Checks `reference` is a valid Docker image reference.
pub(crate) fn check_image_reference(reference: &str) -> Result<(), String> {
    if reference.is_empty() {
        return Err("is empty".into());
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && !is_digest(digest)
    {
        return Err(format!(
            "has an invalid digest {digest:?} (expected algorithm:hex, like sha256:...)"
        ));
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return Err(format!(
            "has an invalid tag {tag:?}: a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        ));
    }
    if name.len() > 255 {
        return Err("has a repository name longer than 255 characters".into());
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    };
    if let Some(domain) = domain
        && !is_domain(domain)
    {
        return Err(format!("has an invalid registry {domain:?}"));
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(
            "has uppercase letters in the repository name: repository names must be lowercase"
                .into(),
        );
    }
    if path.is_empty() || !path.split('/').all(is_path_component) {
        return Err(
            "is not a valid image reference: repository names are lowercase letters, digits and separators ('.', '_', '__', '-'), like \"nginx\" or \"team/app:1.0\"".into(),
        );
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A host name or IP with an optional port.
fn is_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        return after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    } else {
        match domain.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        })
}

/// `[\w][\w.-]{0,127}`
fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|b| word(*b) || matches!(b, b'.' | b'-'))
}

/// `algorithm:hex` with at least 32 hex digits.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric())
    });
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references_pass() {
        for reference in [
            "nginx",
            "nginx:1.25",
            "nginx:latest",
            "library/nginx",
            "docker.io/library/nginx:1.25-alpine",
            "127.0.0.1:5000/voc-test/busybox:latest",
            "localhost/app",
            "localhost:5000/app",
            "my-registry.example.com:443/team/app_x/y__z:v1.0_rc-1",
            "a/b-c/d.e",
            "[::1]:5000/app",
            "voc-test/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "nginx:1@sha256:0123456789abcdef0123456789abcdef",
            "Registry.Example.com/app",
        ] {
            assert_eq!(check_image_reference(reference), Ok(()), "{reference}");
        }
    }

    #[test]
    fn invalid_references_fail() {
        for reference in [
            "",
            "Nginx",
            "team/App",
            "nginx:",
            "nginx:-x",
            "nginx:.x",
            "nginx::1",
            "-nginx",
            "nginx-",
            "a//b",
            "a/",
            "a__-b",
            "a...b",
            "nginx@sha256:abc",
            "nginx@",
            "exa mple",
            "reg:abc/app",
            "nginx:1 2",
        ] {
            assert!(check_image_reference(reference).is_err(), "{reference}");
        }
    }
}
