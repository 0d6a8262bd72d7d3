//! Checks across the whole (merged) file, before anything reaches Docker:
//! every service has a valid image, every network, named volume, secret
//! and config a service uses is declared, `deploy.mode` and `replicas`
//! agree, and the names voc will create are names swarm accepts (external
//! objects already exist, whatever their name). The CLI finds most of these
//! only while deploying, after it has already created some objects.

use super::field_path::FieldPath;
use super::image_reference::check_image_reference;
use super::position::Locator;
use crate::diagnostic::Problem;
use crate::model::ComposeFile;

/// Every cross-reference problem of `file`.
pub(crate) fn check(file: &ComposeFile, locator: &Locator) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |path: FieldPath, message: String| {
        problems.push(Problem {
            location: locator.locate(&path),
            message,
        });
    };
    let services = FieldPath::root().key("services");
    for (name, service) in &file.services {
        let at = services.key(name);
        if !is_service_name(name) {
            problem(
                at.clone(),
                "is not a valid service name: swarm service names use letters, digits, '-' and '_', and end with a letter or digit".into(),
            );
        }
        match service.image.as_deref() {
            None | Some("") => problem(
                at.key("image"),
                "is missing: docker stack deploy only runs images, so build and push the image, then name it here".into(),
            ),
            Some(image) => {
                if let Err(why) = check_image_reference(image) {
                    problem(at.key("image"), format!("{why} ({image:?})"));
                }
            }
        }
        if let Some(deploy) = &service.deploy
            && deploy.replicas.is_some()
            && matches!(deploy.mode.as_deref(), Some("global" | "global-job"))
        {
            problem(
                at.key("deploy").key("replicas"),
                "can only be used with replicated or replicated-job mode: a global service runs one task per node".into(),
            );
        }
        for network in service.networks.iter().flat_map(|n| n.keys()) {
            if network != "default" && !file.networks.contains_key(network) {
                problem(
                    at.key("networks").key(network),
                    format!(
                        "is a network that is not declared: add `{network}` under the top-level `networks`"
                    ),
                );
            }
        }
        for (i, volume) in service.volumes.iter().enumerate() {
            if volume.kind == "volume"
                && let Some(source) = volume.source.as_deref().filter(|s| !s.is_empty())
                && !file.volumes.contains_key(source)
            {
                problem(
                    at.key("volumes").index(i),
                    format!(
                        "uses the volume {source:?}, which is not declared: add it under the top-level `volumes` (or write a path starting with ./ or / for a bind mount)"
                    ),
                );
            }
        }
        for (kind, references, declared) in [
            ("secret", &service.secrets, &file.secrets),
            ("config", &service.configs, &file.configs),
        ] {
            for (i, reference) in references.iter().enumerate() {
                if !reference.source.is_empty() && !declared.contains_key(&reference.source) {
                    problem(
                        at.key(&format!("{kind}s")).index(i),
                        format!(
                            "uses the {kind} {:?}, which is not declared: add it under the top-level `{kind}s`",
                            reference.source
                        ),
                    );
                }
            }
        }
        let mut published: Vec<(u32, &str)> = Vec::new();
        for (i, port) in service.ports.iter().enumerate() {
            let Some(number) = port.published else {
                continue;
            };
            let protocol = port.protocol.as_deref().unwrap_or("tcp");
            if published.contains(&(number, protocol)) {
                problem(
                    at.key("ports").index(i),
                    format!(
                        "publishes {number}/{protocol} a second time; each published port can be used once"
                    ),
                );
            }
            published.push((number, protocol));
        }
    }
    for (section, objects) in [("secrets", &file.secrets), ("configs", &file.configs)] {
        for (key, object) in objects {
            if let Some(name) = &object.name
                && !object.external
                && !is_object_name(name)
            {
                problem(
                    FieldPath::root().key(section).key(key).key("name"),
                    format!(
                        "{name:?} is not a valid name: use up to 64 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                    ),
                );
            }
        }
    }
    for (key, volume) in &file.volumes {
        if let Some(name) = &volume.name
            && !volume.external
            && !is_volume_name(name)
        {
            problem(
                FieldPath::root().key("volumes").key(key).key("name"),
                format!(
                    "{name:?} is not a valid volume name: use letters, digits, '_', '.' and '-', starting with a letter or digit"
                ),
            );
        }
    }
    problems
}

/// Swarm's rule for service names (a DNS label): `[A-Za-z0-9]([-_]*[A-Za-z0-9]+)*`.
/// The key follows `<stack>_`, so it may start with `-` or `_`.
fn is_service_name(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && key.as_bytes()[key.len() - 1].is_ascii_alphanumeric()
}

/// Swarm's rule for secret and config names.
fn is_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn is_volume_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        let services = [
            ("web", true),
            ("web-1", true),
            ("_web", true),
            ("web.app", false),
            ("web-", false),
            ("", false),
        ];
        for (name, ok) in services {
            assert_eq!(is_service_name(name), ok, "{name}");
        }
        let objects = [
            ("site.conf", true),
            ("a", true),
            ("-a", false),
            ("a-", false),
            ("a b", false),
        ];
        for (name, ok) in objects {
            assert_eq!(is_object_name(name), ok, "{name}");
        }
        assert!(!is_object_name(&"a".repeat(65)));
        let volumes = [
            ("data", true),
            ("d", false),
            ("_data", false),
            ("data.1-x_y", true),
        ];
        for (name, ok) in volumes {
            assert_eq!(is_volume_name(name), ok, "{name}");
        }
    }
}
