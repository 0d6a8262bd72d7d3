//! Registry credentials and the `X-Registry-Auth` header that carries them.
//!
//! The daemon decodes the header as URL-safe base64 (Go's
//! `base64.URLEncoding`). bollard 0.21 encodes it with the standard alphabet,
//! which breaks passwords whose encoding contains `+` or `/`, so voc builds
//! the header itself and adds it to requests with a request modifier.

use super::request::DockerApi;
use base64::Engine as _;

/// Credentials for one registry, as `docker login` stores them.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
    /// The registry (`127.0.0.1:5001`, `registry.example.com`); empty for
    /// Docker Hub.
    pub serveraddress: String,
}

impl std::fmt::Debug for RegistryAuth {
    // The password stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &"***")
            .field("serveraddress", &self.serveraddress)
            .finish()
    }
}

impl RegistryAuth {
    /// The `X-Registry-Auth` header value: the JSON
    /// `{"username","password","serveraddress"}` in URL-safe base64 with
    /// padding, as the docker CLI sends it.
    pub fn to_header_value(&self) -> String {
        let json = serde_json::json!({
            "username": self.username,
            "password": self.password,
            "serveraddress": self.serveraddress,
        });
        base64::engine::general_purpose::URL_SAFE.encode(json.to_string())
    }

    /// A client that sends this header with every request it makes.
    pub(crate) fn apply_to(&self, docker: &DockerApi) -> DockerApi {
        let value = self.to_header_value();
        docker.clone().with_request_modifier(move |mut request| {
            // Base64 always parses as a header value.
            if let Ok(value) = value.parse() {
                request.headers_mut().insert("X-Registry-Auth", value);
            }
            request
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(header: &str) -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(header)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn header_is_url_safe_base64_json_that_round_trips() {
        // Chosen so that the JSON's standard base64 contains both `+` and `/`.
        let cases = [
            ("voc", "voc-secret", "127.0.0.1:5001"),
            ("u", "a>>>b???c~~~", "registry.example.com"),
            ("user", "p+a/s=s?>", ""),
            ("ünï", "ç€>?~", "host:1"),
        ];
        let mut saw_difference = false;
        for (username, password, serveraddress) in cases {
            let auth = RegistryAuth {
                username: username.into(),
                password: password.into(),
                serveraddress: serveraddress.into(),
            };
            let header = auth.to_header_value();
            assert!(!header.contains('+') && !header.contains('/'), "{header}");
            let json = decode(&header);
            assert_eq!(json["username"], username);
            assert_eq!(json["password"], password);
            assert_eq!(json["serveraddress"], serveraddress);
            let standard = base64::engine::general_purpose::STANDARD.encode(json.to_string());
            saw_difference |= standard != header;
        }
        assert!(
            saw_difference,
            "no case exercises the `+`/`/` difference between alphabets"
        );
    }

    #[test]
    fn password_with_plus_and_slash_chars_differs_between_alphabets() {
        let auth = RegistryAuth {
            username: "u".into(),
            password: "a>>>b???c~~~".into(),
            serveraddress: String::new(),
        };
        let header = auth.to_header_value();
        let standard = base64::engine::general_purpose::STANDARD.encode(
            serde_json::json!({"username": "u", "password": "a>>>b???c~~~", "serveraddress": ""})
                .to_string(),
        );
        assert!(
            standard.contains('+') || standard.contains('/'),
            "{standard}"
        );
        assert_ne!(header, standard);
        assert_eq!(header, standard.replace('+', "-").replace('/', "_"));
    }

    #[test]
    fn debug_hides_the_password() {
        let auth = RegistryAuth {
            username: "voc".into(),
            password: "voc-secret".into(),
            serveraddress: "r".into(),
        };
        assert!(!format!("{auth:?}").contains("voc-secret"));
    }
}
