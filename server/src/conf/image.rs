//! `image-<name>.json`: how an image is built and where it is pushed.
//!
//! ```json
//! {
//!   "tag": "shop/api:1.4.2",
//!   "push": ["registry.example.org/shop/api:1.4.2", "registry.example.org/shop/api:latest"],
//!   "context": "api",
//!   "buildArgs": { "RUST_VERSION": "1.95", "NPM_TOKEN": "$NPM_TOKEN" },
//!   "target": "runtime",
//!   "labels": { "org.opencontainers.image.source": "https://example.org/shop" }
//! }
//! ```
//!
//! `tag` is required; `push` is a string or a list; `context` is relative
//! to the repo root and defaults to the Dockerfile's folder; a build arg
//! written `$NAME` takes its value from the secret `NAME` that the caller
//! passes ([`ImageConfig::resolve_build_args`]), never from git. Unknown
//! fields are errors naming the field, so a typo never passes silently.
//!
//! Finding the files and pairing each with its `Dockerfile-<name>` is the
//! repo walker's job, not this module's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::error::{Error, Result};

/// A validated `image-<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The file it was read from, as the caller named it (for messages).
    pub path: PathBuf,
    /// The tag the image is built as (`shop/api:1.4.2`).
    pub tag: String,
    /// Where it is pushed after the build, in order; empty: not pushed.
    pub push: Vec<String>,
    /// The context folder relative to the repo root, normalised (`api`,
    /// never `./api/`); `None`: the Dockerfile's folder.
    pub context: Option<PathBuf>,
    /// `--build-arg` values, by name.
    pub build_args: BTreeMap<String, BuildArg>,
    /// The stage to build, or the last one.
    pub target: Option<String>,
    /// Labels added to the image.
    pub labels: BTreeMap<String, String>,
}

/// A build arg's value as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildArg {
    /// A plain value, used as is.
    Value(String),
    /// `$NAME`: the value of the secret `NAME`.
    Secret(String),
}

/// The file as written: what serde checks (shape, types, unknown fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawImageConfig {
    tag: String,
    #[serde(default, deserialize_with = "string_or_list")]
    push: Vec<String>,
    context: Option<String>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    target: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

impl ImageConfig {
    /// Parses and validates the content of `image-<name>.json`; `path` names
    /// the file in error messages.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<ImageConfig> {
        let path = path.as_ref();
        let raw: RawImageConfig =
            serde_json::from_str(text).map_err(|e| Error::syntax(path, &e))?;
        let invalid = |field: String, message: String| Error::Invalid {
            path: path.to_owned(),
            field,
            message,
        };

        check_reference(&raw.tag)
            .map_err(|why| invalid("tag".into(), format!("is not a valid image tag: {why}")))?;
        for (i, destination) in raw.push.iter().enumerate() {
            check_reference(destination).map_err(|why| {
                invalid(
                    format!("push[{i}]"),
                    format!("is not a valid image reference: {why}"),
                )
            })?;
        }
        let context = match raw.context {
            Some(context) => Some(
                normalize_context(&context).map_err(|why| invalid("context".into(), why.into()))?,
            ),
            None => None,
        };
        if let Some(target) = &raw.target
            && (target.is_empty() || target.chars().any(char::is_whitespace))
        {
            return Err(invalid(
                "target".into(),
                "must be a stage name, without spaces".into(),
            ));
        }
        let mut build_args = BTreeMap::new();
        for (name, value) in raw.build_args {
            if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
                return Err(invalid(
                    format!("buildArgs.{name}"),
                    "must be named without `=` or spaces".into(),
                ));
            }
            build_args.insert(name, BuildArg::from_text(value));
        }
        if raw.labels.contains_key("") {
            return Err(invalid(
                "labels".into(),
                "has a label with an empty name".into(),
            ));
        }
        Ok(ImageConfig {
            path: path.to_owned(),
            tag: raw.tag,
            push: raw.push,
            context,
            build_args,
            target: raw.target,
            labels: raw.labels,
        })
    }

    /// The context folder: `repo_root` joined with `context`, or with the
    /// folder of `dockerfile` (its path relative to the repo root).
    pub fn context_dir(&self, repo_root: &Path, dockerfile: &Path) -> PathBuf {
        match &self.context {
            Some(context) => repo_root.join(context),
            None => repo_root.join(dockerfile.parent().unwrap_or(Path::new(""))),
        }
    }

    /// The build args' values, `$NAME` ones taken from `secrets`; fails on
    /// the first secret that `secrets` does not have.
    pub fn resolve_build_args(
        &self,
        secrets: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        self.build_args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    BuildArg::Value(value) => value.clone(),
                    BuildArg::Secret(secret) => {
                        secrets
                            .get(secret)
                            .cloned()
                            .ok_or_else(|| Error::MissingSecret {
                                path: self.path.clone(),
                                arg: name.clone(),
                                secret: secret.clone(),
                            })?
                    }
                };
                Ok((name.clone(), value))
            })
            .collect()
    }
}

impl BuildArg {
    /// `$NAME` (a shell-style variable name and nothing else) is a secret;
    /// anything else, `$1.50` or `a$B` included, is a plain value.
    fn from_text(text: String) -> BuildArg {
        match text.strip_prefix('$') {
            Some(name)
                if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                BuildArg::Secret(name.to_owned())
            }
            _ => BuildArg::Value(text),
        }
    }
}

/// `push`: a string or a list of strings (both forms come from the
/// original voc).
fn string_or_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<String>, D::Error> {
    struct StringOrList;

    impl<'de> Visitor<'de> for StringOrList {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> std::result::Result<Self::Value, E> {
            Ok(vec![value.to_owned()])
        }

        fn visit_seq<A: SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                items.push(item);
            }
            Ok(items)
        }
    }

    deserializer.deserialize_any(StringOrList)
}

/// A context relative to the repo root, normalised; it may not leave the
/// repo.
fn normalize_context(context: &str) -> std::result::Result<PathBuf, &'static str> {
    if context.is_empty() {
        return Err(
            "must not be empty (omit it for the Dockerfile's folder, use `.` for the repo root)",
        );
    }
    let mut normalized = PathBuf::new();
    for component in Path::new(context).components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(
                        "must stay inside the repo (it goes above the repo root with `..`)",
                    );
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err("must be relative to the repo root, not an absolute path");
            }
        }
    }
    Ok(normalized)
}

/// Checks an image reference (`[registry[:port]/]path[:tag]`) against
/// Docker's grammar (`distribution/reference`); a digest is not allowed,
/// since voc builds and pushes tags.
fn check_reference(reference: &str) -> std::result::Result<(), &'static str> {
    if reference.is_empty() {
        return Err("it is empty");
    }
    if reference.contains('@') {
        return Err("a digest (`@sha256:…`) cannot be built or pushed, use a tag");
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            Some(&reference[last_slash + i + 1..]),
        ),
        None => (reference, None),
    };
    if let Some(tag) = tag {
        let valid = (1..=128).contains(&tag.len())
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            return Err(
                "the tag must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
            );
        }
    }
    if name.len() > 255 {
        return Err("the repository name is longer than 255 characters");
    }
    // The first component is a registry if it looks like a host: it has a
    // `.` or a `:`, is `localhost`, or has capitals (paths cannot).
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
    let check_path = |path: &str| path.split('/').try_for_each(check_path_component);
    match domain {
        // Docker's grammar makes the registry optional, so a first part
        // that looks like a host but is not one (`a.b_c/d`) is read as part
        // of the path when it can be.
        Some(domain) => check_domain(domain)
            .and_then(|()| check_path(path))
            .or_else(|error| check_path(name).map_err(|_| error)),
        None => check_path(path),
    }
}

fn check_domain(domain: &str) -> std::result::Result<(), &'static str> {
    const BAD_HOST: &str = "the registry must be a host name or address, with an optional `:port`";
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (address, after) = rest.split_once(']').ok_or(BAD_HOST)?;
        if address.is_empty()
            || !address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(BAD_HOST);
        }
        match after {
            "" => (None, None),
            _ => (None, Some(after.strip_prefix(':').ok_or(BAD_HOST)?)),
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(BAD_HOST);
        }
    }
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("the registry's port must be a number");
    }
    Ok(())
}

/// A path component: lowercase letters and digits, separated by one `.`,
/// one or two `_`, or any number of `-`.
fn check_path_component(component: &str) -> std::result::Result<(), &'static str> {
    const RULE: &str = "each part of the repository name must be lowercase letters and digits, separated by `.`, `_`, `__` or dashes";
    if component.is_empty() {
        return Err("the repository name has an empty part (`//`, or a `/` at an end)");
    }
    if component.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("the repository name must be lowercase");
    }
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return Err(RULE);
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return Err(RULE);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImageConfig> {
        ImageConfig::parse(text, "images/image-api.json")
    }

    #[test]
    fn the_documented_example_parses() {
        let config = parse(
            r#"{
  "tag": "shop/api:1.4.2",
  "push": ["registry.example.org/shop/api:1.4.2", "registry.example.org/shop/api:latest"],
  "context": "api",
  "buildArgs": { "RUST_VERSION": "1.95", "NPM_TOKEN": "$NPM_TOKEN" },
  "target": "runtime",
  "labels": { "org.opencontainers.image.source": "https://example.org/shop" }
}"#,
        )
        .unwrap();
        assert_eq!(config.tag, "shop/api:1.4.2");
        assert_eq!(
            config.push,
            [
                "registry.example.org/shop/api:1.4.2",
                "registry.example.org/shop/api:latest"
            ]
        );
        assert_eq!(config.context, Some(PathBuf::from("api")));
        assert_eq!(config.target.as_deref(), Some("runtime"));
        assert_eq!(
            config.build_args["RUST_VERSION"],
            BuildArg::Value("1.95".into())
        );
        assert_eq!(
            config.build_args["NPM_TOKEN"],
            BuildArg::Secret("NPM_TOKEN".into())
        );
        assert_eq!(
            config.labels["org.opencontainers.image.source"],
            "https://example.org/shop"
        );
        assert_eq!(config.path, PathBuf::from("images/image-api.json"));
    }

    #[test]
    fn only_tag_is_required_and_push_may_be_a_string() {
        let config = parse(r#"{"tag": "api"}"#).unwrap();
        assert!(config.push.is_empty() && config.build_args.is_empty() && config.labels.is_empty());
        assert_eq!((config.context, config.target), (None, None));
        assert_eq!(
            parse(r#"{"tag": "api", "push": "r.io/api:1"}"#)
                .unwrap()
                .push,
            ["r.io/api:1"]
        );
        assert!(
            parse(r#"{"tag": "api", "push": []}"#)
                .unwrap()
                .push
                .is_empty()
        );
    }

    #[test]
    fn shape_errors_name_the_field_and_position() {
        // (text, line, column, start of the message)
        let cases = [
            (
                "{\n  \"tag\": \"api\",\n  \"tagg\": 1\n}",
                3,
                8,
                "unknown field `tagg`, expected one of",
            ),
            ("{\n  \"push\": \"x\"\n}", 3, 1, "missing field `tag`"),
            (
                "{\"tag\": 3}",
                1,
                9,
                "invalid type: integer `3`, expected a string",
            ),
            (
                "{\"tag\": \"a\", \"push\": 7}",
                1,
                22,
                "invalid type: integer `7`, expected a string or a list of strings",
            ),
            (
                "{\"tag\": \"a\", \"push\": [\"x\", 1]}",
                1,
                28,
                "invalid type: integer `1`, expected a string",
            ),
            (
                "{\"tag\": \"a\", \"buildArgs\": {\"X\": 1}}",
                1,
                33,
                "invalid type: integer `1`, expected a string",
            ),
            ("{\"tag\": \"a\",}", 1, 13, "trailing comma"),
            ("", 1, 0, "EOF while parsing a value"),
        ];
        for (text, line, column, start) in cases {
            match parse(text) {
                Err(Error::Syntax {
                    line: l,
                    column: c,
                    message,
                    path,
                }) => {
                    assert_eq!((l, c), (line, column), "{text:?}: {message}");
                    assert!(message.starts_with(start), "{text:?}: {message}");
                    assert!(!message.contains(" at line "), "{message}");
                    assert_eq!(path, PathBuf::from("images/image-api.json"));
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let error = parse("{\"tag\": \"a\", \"tagg\": 1}").unwrap_err();
        assert!(
            error.to_string().starts_with(
                "parsing `images/image-api.json` (line 1, column 19): unknown field `tagg`"
            ),
            "{error}"
        );
    }

    #[test]
    fn invalid_values_name_the_field() {
        let cases = [
            (r#"{"tag": ""}"#, "tag"),
            (r#"{"tag": "shop/Api"}"#, "tag"),
            (
                r#"{"tag": "api@sha256:0123456789abcdef0123456789abcdef"}"#,
                "tag",
            ),
            (r#"{"tag": "api", "push": ["ok:1", "api:-bad"]}"#, "push[1]"),
            (r#"{"tag": "api", "push": "r.io/api:"}"#, "push[0]"),
            (r#"{"tag": "api", "context": ""}"#, "context"),
            (r#"{"tag": "api", "context": "../outside"}"#, "context"),
            (r#"{"tag": "api", "context": "a/../../b"}"#, "context"),
            (r#"{"tag": "api", "context": "/abs"}"#, "context"),
            (r#"{"tag": "api", "target": ""}"#, "target"),
            (r#"{"tag": "api", "target": "a b"}"#, "target"),
            (
                r#"{"tag": "api", "buildArgs": {"A=B": "x"}}"#,
                "buildArgs.A=B",
            ),
            (r#"{"tag": "api", "buildArgs": {"": "x"}}"#, "buildArgs."),
            (r#"{"tag": "api", "labels": {"": "x"}}"#, "labels"),
        ];
        for (text, field) in cases {
            match parse(text) {
                Err(Error::Invalid {
                    field: f, message, ..
                }) => assert_eq!(f, field, "{text}: {message}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let error = parse(r#"{"tag": "api", "push": ["ok:1", "api:-bad"]}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "checking `images/image-api.json`: `push[1]` is not a valid image reference: the tag must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        );
    }

    #[test]
    fn contexts_are_normalised_and_resolved() {
        let cases = [
            ("api", "api"),
            ("./api/", "api"),
            ("a/./b/../c", "a/c"),
            (".", ""),
            ("a/..", ""),
        ];
        for (written, normalized) in cases {
            let config = parse(&format!(r#"{{"tag": "api", "context": "{written}"}}"#)).unwrap();
            assert_eq!(config.context, Some(PathBuf::from(normalized)), "{written}");
        }
        let root = Path::new("/repo");
        let with = parse(r#"{"tag": "api", "context": "src"}"#).unwrap();
        assert_eq!(
            with.context_dir(root, Path::new("docker/Dockerfile-api")),
            Path::new("/repo/src")
        );
        let without = parse(r#"{"tag": "api"}"#).unwrap();
        assert_eq!(
            without.context_dir(root, Path::new("docker/Dockerfile-api")),
            Path::new("/repo/docker")
        );
        assert_eq!(
            without.context_dir(root, Path::new("Dockerfile-api")),
            Path::new("/repo")
        );
    }

    #[test]
    fn build_args_take_secrets_only_from_the_secrets_map() {
        let cases = [
            ("$TOKEN", BuildArg::Secret("TOKEN".into())),
            ("$_t0k", BuildArg::Secret("_t0k".into())),
            ("$1.50", BuildArg::Value("$1.50".into())),
            ("a$B", BuildArg::Value("a$B".into())),
            ("$", BuildArg::Value("$".into())),
            ("$$X", BuildArg::Value("$$X".into())),
            ("${X}", BuildArg::Value("${X}".into())),
            ("$X-Y", BuildArg::Value("$X-Y".into())),
            ("plain", BuildArg::Value("plain".into())),
        ];
        for (text, arg) in cases {
            assert_eq!(BuildArg::from_text(text.into()), arg, "{text}");
        }

        let config =
            parse(r#"{"tag": "api", "buildArgs": {"A": "plain", "B": "$TOKEN"}}"#).unwrap();
        let secrets = BTreeMap::from([("TOKEN".to_owned(), "s3cret".to_owned())]);
        let resolved = config.resolve_build_args(&secrets).unwrap();
        assert_eq!(
            resolved,
            BTreeMap::from([("A".into(), "plain".into()), ("B".into(), "s3cret".into())])
        );

        let error = config.resolve_build_args(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "resolving `images/image-api.json`: build arg `B` takes its value from secret `TOKEN`, which is not configured"
        );
    }

    #[test]
    fn references_follow_dockers_grammar() {
        let valid = [
            "api",
            "api:1.4.2",
            "shop/api",
            "shop/api:latest",
            "registry.example.org/shop/api:1.4.2",
            "127.0.0.1:5000/voc/app:t",
            "localhost/app",
            "localhost:5000/a/b/c",
            "Registry.Example.org/app",
            "[::1]:5000/app",
            "a.b_c__d---e/f:_x",
            "a_b__c---d/e.f:_x",
            "a0/b1:X.y-Z_",
        ];
        for reference in valid {
            assert_eq!(check_reference(reference), Ok(()), "{reference}");
        }
        let invalid = [
            "",
            "Api",
            "shop/Api",
            "api:",
            "api:.x",
            "api:-x",
            "a b",
            "api@sha256:0123",
            "/api",
            "api/",
            "a//b",
            "a___b",
            "a..b",
            "-a",
            "a-",
            "a._b",
            "reg:port/app",
            "reg:/app",
            "-reg.io/app",
            "[zz]:5000/app",
            "[::1/app",
        ];
        for reference in invalid {
            assert!(check_reference(reference).is_err(), "{reference}");
        }
        assert!(check_reference(&format!("a:{}", "x".repeat(128))).is_ok());
        assert!(check_reference(&format!("a:{}", "x".repeat(129))).is_err());
        assert!(check_reference(&"a".repeat(256)).is_err());
    }
}
