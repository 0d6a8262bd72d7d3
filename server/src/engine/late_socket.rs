//! The local engine when its socket does not exist yet as voc starts
//! (dockerd started after voc, or restarting). bollard refuses to make a
//! unix-socket client without the file, which would stop `voc serve` for a
//! target that is merely down; this client connects at each request
//! instead, so the target shows as unreachable, naming the socket, until
//! the socket appears, and then works with no restart.
//!
//! One connection per request: it is only used for a socket that was
//! missing at start, and connecting to a local socket is cheap.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bollard::{BollardRequest, ClientVersion, Docker, errors::Error};
use hyper::Request;
use hyper::header::{HOST, HeaderValue};
use hyper::http::uri::{PathAndQuery, Uri};
use hyper_util::rt::TokioIo;

/// The host part of the URIs bollard makes for this client; replaced by the
/// path alone before sending.
const PLACEHOLDER_HOST: &str = "docker";

/// A client of the engine at `socket`, which need not exist yet.
pub(crate) fn client(
    socket: &Path,
    timeout_secs: u64,
    version: &ClientVersion,
) -> Result<Docker, Error> {
    let socket: Arc<PathBuf> = Arc::new(socket.to_owned());
    Docker::connect_with_custom_transport(
        move |request: BollardRequest| send(socket.clone(), request),
        Some(format!("unix://{PLACEHOLDER_HOST}")),
        timeout_secs,
        version,
    )
}

async fn send(
    socket: Arc<PathBuf>,
    request: BollardRequest,
) -> Result<hyper::Response<hyper::body::Incoming>, Error> {
    let stream = tokio::net::UnixStream::connect(socket.as_path())
        .await
        .map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!("cannot connect to {}: {error}", socket.display()),
            )
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Upgrades are never asked for (no attach or exec), so the plain
    // connection future is enough; it ends with the response's body.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (mut parts, body) = request.into_parts();
    parts.uri = origin_form(&parts.uri)?;
    parts
        .headers
        .insert(HOST, HeaderValue::from_static(PLACEHOLDER_HOST));
    Ok(sender
        .send_request(Request::from_parts(parts, body))
        .await?)
}

/// `unix://docker/v1.41/services?x=1` -> `/v1.41/services?x=1`: a request
/// on a connection names only the path.
fn origin_form(uri: &Uri) -> Result<Uri, Error> {
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Ok(Uri::builder().path_and_query(path).build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_only_their_path_and_query() {
        let cases = [
            ("unix://docker/_ping", "/_ping"),
            (
                "unix://docker/v1.41/services?filters=%7B%7D",
                "/v1.41/services?filters=%7B%7D",
            ),
            ("unix://docker", "/"),
        ];
        for (uri, path) in cases {
            let uri: Uri = uri.parse().expect("a valid URI");
            assert_eq!(origin_form(&uri).expect("origin form").to_string(), path);
        }
    }

    #[tokio::test]
    async fn a_missing_socket_is_an_error_naming_it_at_the_first_request_not_before() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let socket = dir.path().join("docker.sock");
        let docker =
            client(&socket, 5, bollard::API_DEFAULT_VERSION).expect("a client without the socket");
        let error = docker.ping().await.expect_err("nothing listens there");
        let text = crate::engine::error::ErrorChain(&error).to_string();
        assert!(
            text.contains(&format!("cannot connect to {}", socket.display())),
            "{text}"
        );
    }
}
