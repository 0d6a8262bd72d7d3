//! What a file's name says it is in the conf repo: a stack's Compose or JSON
//! file, an image's Dockerfile or JSON file, or part of a definition.
//!
//! The conf repo identifies stacks and images by the suffix of their file
//! names, so a path alone tells which stack or image it belongs to, even
//! when the file is deleted or invalid.

/// The role of a file in the conf repo, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRole {
    /// `docker-compose-<stack>.yml` or `.yaml`.
    ComposeFile {
        /// The stack.
        stack: String,
    },
    /// `stack-<stack>.json`.
    StackConfig {
        /// The stack.
        stack: String,
    },
    /// `Dockerfile-<image>`.
    Dockerfile {
        /// The image.
        image: String,
    },
    /// `image-<image>.json`.
    ImageConfig {
        /// The image.
        image: String,
    },
    /// A file under `definitions/<definition>/`.
    Definition {
        /// The definition.
        definition: String,
    },
    /// Anything else.
    Other,
}

/// The role of the file at `path` (repo-relative, `/`-separated).
pub fn role_of(path: &str) -> FileRole {
    if let Some(definition) = definition_of(path) {
        return FileRole::Definition { definition };
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let suffix = |prefix: &str, extensions: &[&str]| -> Option<String> {
        let rest = name.strip_prefix(prefix)?;
        extensions
            .iter()
            .find_map(|ext| rest.strip_suffix(ext))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(stack) = suffix("docker-compose-", &[".yml", ".yaml"]) {
        FileRole::ComposeFile { stack }
    } else if let Some(stack) = suffix("stack-", &[".json"]) {
        FileRole::StackConfig { stack }
    } else if let Some(image) = suffix("Dockerfile-", &[""]) {
        FileRole::Dockerfile { image }
    } else if let Some(image) = suffix("image-", &[".json"]) {
        FileRole::ImageConfig { image }
    } else {
        FileRole::Other
    }
}

/// `definitions/<name>/...` at the repo root.
fn definition_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("definitions/")?;
    let (name, file) = rest.split_once('/')?;
    (!name.is_empty() && !file.is_empty()).then(|| name.to_owned())
}

/// The folder of a repo path (`""` for the root).
pub fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// True if `path` is inside `folder` (`""` is the repo root and holds everything).
pub fn is_under(path: &str, folder: &str) -> bool {
    folder.is_empty()
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The `stack-<name>.json` that goes with a Compose file.
pub fn stack_config_beside(compose_file: &str, stack: &str) -> String {
    match folder_of(compose_file) {
        "" => format!("stack-{stack}.json"),
        folder => format!("{folder}/stack-{stack}.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_file_names_in_any_folder() {
        let cases = [
            (
                "docker-compose-shop.yml",
                FileRole::ComposeFile {
                    stack: "shop".into(),
                },
            ),
            (
                "a/b/docker-compose-db.yaml",
                FileRole::ComposeFile { stack: "db".into() },
            ),
            (
                "shop/stack-shop.json",
                FileRole::StackConfig {
                    stack: "shop".into(),
                },
            ),
            (
                "Dockerfile-api",
                FileRole::Dockerfile {
                    image: "api".into(),
                },
            ),
            (
                "api/image-api.json",
                FileRole::ImageConfig {
                    image: "api".into(),
                },
            ),
            (
                "definitions/webapp/definition.json",
                FileRole::Definition {
                    definition: "webapp".into(),
                },
            ),
            (
                "definitions/webapp/docker-compose.yml.tera",
                FileRole::Definition {
                    definition: "webapp".into(),
                },
            ),
            ("docker-compose.yml", FileRole::Other),
            ("docker-compose-.yml", FileRole::Other),
            ("Dockerfile", FileRole::Other),
            ("docker-compose-shop.yml.orig", FileRole::Other),
            ("stack-shop.json5", FileRole::Other),
            ("definitions/README.md", FileRole::Other),
            ("sub/definitions/x/definition.json", FileRole::Other),
            ("api/src/main.rs", FileRole::Other),
        ];
        for (path, role) in cases {
            assert_eq!(role_of(path), role, "{path}");
        }
    }

    #[test]
    fn folders_and_containment() {
        assert_eq!(folder_of("a/b/c.txt"), "a/b");
        assert_eq!(folder_of("c.txt"), "");
        assert!(is_under("api/src/main.rs", "api"));
        assert!(!is_under("apix/main.rs", "api"));
        assert!(!is_under("api", "api"));
        assert!(is_under("anything", ""));
        assert_eq!(
            stack_config_beside("shop/docker-compose-shop.yml", "shop"),
            "shop/stack-shop.json"
        );
        assert_eq!(
            stack_config_beside("docker-compose-shop.yml", "shop"),
            "stack-shop.json"
        );
    }
}
