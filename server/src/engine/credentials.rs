//! Registry credentials from the docker CLI's `config.json`, so that
//! deploys with registry auth and image pushes work
//! after a plain `docker login`, as they do with the docker CLI.
//!
//! Only the `auths` entries that hold credentials (`auth`, or `username` and
//! `password`) are read; credential helpers (`credsStore`) are not run.

use std::path::PathBuf;

use base64::Engine as _;

use super::RegistryAuth;

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The docker CLI's config file exists but cannot be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not what the docker CLI writes.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The images need credentials for more than one registry.
    #[error(
        "--with-registry-auth sends credentials for one registry, but the stack's images come from {registries}"
    )]
    SeveralRegistries {
        /// The registries, comma-separated.
        registries: String,
    },
}

/// The registry host of an image reference (`127.0.0.1:5000/app:1` gives
/// `127.0.0.1:5000`); Docker Hub for names without a host part.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_owned()
        }
        _ => "docker.io".to_owned(),
    }
}

/// The credentials for the registry the given images come from. All images
/// that need a registry other than Docker Hub must share one, because one
/// `X-Registry-Auth` header goes with the deploy.
pub fn for_images<'a>(
    images: impl Iterator<Item = &'a str>,
) -> Result<Option<RegistryAuth>, CredentialsError> {
    let mut registries: Vec<String> = images.map(registry_of).collect();
    registries.sort();
    registries.dedup();
    let registry = match registries.as_slice() {
        [] => return Ok(None),
        [one] => one.clone(),
        many => {
            let private: Vec<&String> = many.iter().filter(|r| *r != "docker.io").collect();
            match private.as_slice() {
                [one] => (*one).clone(),
                _ => {
                    return Err(CredentialsError::SeveralRegistries {
                        registries: many.join(", "),
                    });
                }
            }
        }
    };
    for_registry(&registry)
}

/// The credentials stored for `registry` by `docker login`, if any.
pub fn for_registry(registry: &str) -> Result<Option<RegistryAuth>, CredentialsError> {
    let path = config_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CredentialsError::Read { path, source }),
    };
    let invalid = |message: String| CredentialsError::Invalid {
        path: path.clone(),
        message,
    };
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| invalid(format!("not valid JSON: {error}")))?;
    let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    let wanted = [
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        if registry == "docker.io" {
            "https://index.docker.io/v1/".to_owned()
        } else {
            String::new()
        },
    ];
    let Some(entry) = wanted.iter().find_map(|key| auths.get(key)) else {
        return Ok(None);
    };
    if let Some(encoded) = entry.get("auth").and_then(|a| a.as_str()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| invalid(format!("the credentials for {registry} are not base64")))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| invalid(format!("the credentials for {registry} are not UTF-8")))?;
        let Some((username, password)) = decoded.split_once(':') else {
            return Err(invalid(format!(
                "the credentials for {registry} are not user:password"
            )));
        };
        return Ok(Some(RegistryAuth {
            username: username.to_owned(),
            password: password.to_owned(),
            serveraddress: registry.to_owned(),
        }));
    }
    let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(match (field("username"), field("password")) {
        (Some(username), Some(password)) => Some(RegistryAuth {
            username,
            password,
            serveraddress: registry.to_owned(),
        }),
        _ => None,
    })
}

/// `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`.
fn config_path() -> PathBuf {
    let folder = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/root"));
            home.join(".docker")
        });
    folder.join("config.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_the_first_component_when_it_looks_like_a_host() {
        for (image, registry) in [
            ("nginx", "docker.io"),
            ("library/nginx:1.25", "docker.io"),
            ("127.0.0.1:5000/app:1", "127.0.0.1:5000"),
            (
                "registry.example.org/shop/api@sha256:00",
                "registry.example.org",
            ),
            ("localhost/app", "localhost"),
            ("voc-test/busybox:latest", "docker.io"),
        ] {
            assert_eq!(registry_of(image), registry, "{image}");
        }
    }

    #[test]
    fn one_private_registry_is_chosen_over_docker_hub_and_two_are_refused() {
        // No config file is read for an image set with no registry at all.
        assert!(for_images(std::iter::empty()).unwrap().is_none());
        let error = for_images(["a.example/x", "b.example/y"].into_iter()).unwrap_err();
        assert!(
            error.to_string().contains("a.example, b.example"),
            "{error}"
        );
    }
}
