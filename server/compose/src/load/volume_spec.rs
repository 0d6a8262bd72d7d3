//! The short syntax of service `volumes` (`[source:]target[:options]`),
//! parsed exactly as the CLI's `ParseVolume` does, Windows drive letters
//! included: a source starting with `.`, `/` or `~` (or a drive letter,
//! or `\\`) is a bind mount, anything else a named volume.

use crate::model::ServiceVolume;

const PROPAGATIONS: &[&str] = &[
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

/// Parses one short-syntax volume.
pub(crate) fn parse_volume_spec(spec: &str) -> Result<ServiceVolume, String> {
    let mut volume = ServiceVolume::default();
    match spec.len() {
        0 => return Err("is an empty volume spec".into()),
        1 | 2 => {
            volume.target = spec.to_owned();
            volume.kind = "volume".into();
            return Ok(volume);
        }
        _ => {}
    }
    let mut source: Option<String> = None;
    let mut target: Option<String> = None;
    let mut buffer = String::new();
    // `None` marks the end of the spec, which closes the last section.
    for c in spec.chars().map(Some).chain(std::iter::once(None)) {
        let is_drive = c == Some(':')
            && buffer.chars().count() == 1
            && buffer.chars().all(char::is_alphabetic);
        if is_drive {
            buffer.push(':');
            continue;
        }
        let Some(c) = c.filter(|c| *c != ':') else {
            let at_end = c.is_none();
            if buffer.is_empty() {
                return Err(format!("{spec:?} is invalid: empty section between colons"));
            }
            if source.is_none() && at_end {
                target = Some(std::mem::take(&mut buffer));
            } else if source.is_none() {
                source = Some(std::mem::take(&mut buffer));
            } else if target.is_none() {
                target = Some(std::mem::take(&mut buffer));
            } else if !at_end {
                return Err(format!("{spec:?} is invalid: too many colons"));
            } else {
                for option in buffer.split(',') {
                    match option {
                        "ro" => volume.read_only = true,
                        "rw" => volume.read_only = false,
                        "nocopy" => volume.volume_nocopy = true,
                        _ if PROPAGATIONS.contains(&option) => {
                            volume.bind_propagation = Some(option.to_owned())
                        }
                        // The CLI ignores unknown options too.
                        _ => {}
                    }
                }
            }
            continue;
        };
        buffer.push(c);
    }
    volume.kind = match &source {
        Some(source) if is_file_path(source) => "bind".into(),
        _ => "volume".into(),
    };
    volume.source = source;
    volume.target = target.unwrap_or_default();
    Ok(volume)
}

/// Whether a source names a host path rather than a volume.
fn is_file_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) {
        return true;
    }
    let mut chars = source.chars();
    let (Some(first), Some(second)) = (chars.next(), chars.next()) else {
        return false;
    };
    source.starts_with("\\\\") || (first.is_alphabetic() && second == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(kind: &str, source: Option<&str>, target: &str) -> ServiceVolume {
        ServiceVolume {
            kind: kind.into(),
            source: source.map(Into::into),
            target: target.into(),
            ..ServiceVolume::default()
        }
    }

    #[test]
    fn short_specs_parse_like_the_cli() {
        let ro = |mut v: ServiceVolume| {
            v.read_only = true;
            v
        };
        let cases: Vec<(&str, ServiceVolume)> = vec![
            ("/data", volume("volume", None, "/data")),
            ("/a", volume("volume", None, "/a")),
            ("ab", volume("volume", None, "ab")),
            ("data:/data", volume("volume", Some("data"), "/data")),
            ("./a:/a", volume("bind", Some("./a"), "/a")),
            ("../a:/a", volume("bind", Some("../a"), "/a")),
            ("~/b:/b", volume("bind", Some("~/b"), "/b")),
            ("/c:/c:ro", ro(volume("bind", Some("/c"), "/c"))),
            ("/c:/c:rw", volume("bind", Some("/c"), "/c")),
            ("c:\\data:/data", volume("bind", Some("c:\\data"), "/data")),
            ("\\\\pipe\\x:/x", volume("bind", Some("\\\\pipe\\x"), "/x")),
            ("a:/data", volume("volume", None, "a:/data")),
            (
                "/c:/c:ro,rshared",
                ServiceVolume {
                    read_only: true,
                    bind_propagation: Some("rshared".into()),
                    ..volume("bind", Some("/c"), "/c")
                },
            ),
            (
                "data:/d:nocopy,bogus",
                ServiceVolume {
                    volume_nocopy: true,
                    ..volume("volume", Some("data"), "/d")
                },
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_volume_spec(spec).unwrap(), want, "{spec}");
        }
    }

    #[test]
    fn bad_specs_are_errors() {
        let cases = [
            ("", "is an empty volume spec"),
            (
                "ab::cd",
                "\"ab::cd\" is invalid: empty section between colons",
            ),
            ("/a:/b:ro:x", "\"/a:/b:ro:x\" is invalid: too many colons"),
            (
                "/a:/b:",
                "\"/a:/b:\" is invalid: empty section between colons",
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_volume_spec(spec).unwrap_err(), want, "{spec}");
        }
    }
}
