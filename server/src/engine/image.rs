//! Images: building them from a Dockerfile and a context folder, and
//! pushing them to registries, as `docker build` (classic builder) and
//! `docker tag` + `docker push` do.
//!
//! Both stream the daemon's output to a log callback as it comes, one line
//! at a time; progress is condensed to one line per layer and status
//! (`3f2a1b: Pushed`), never one per progress tick. When a build or push
//! fails, the error quotes the last lines of that log.
//!
//! The build context is made by the private `build_context` module and
//! streamed to the daemon while it is being archived, so a big context is
//! never held in memory.
//!
//! Pushing goes around two limits of bollard 0.21 (see `push_request`):
//! its push messages drop the layer `id`, and its `X-Registry-Auth` uses the
//! wrong base64 alphabet.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Write};
use std::path::PathBuf;

use super::request::DockerApi;
use bollard::query_parameters::{BuildImageOptions, CreateImageOptions, TagImageOptions};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::Engine;
use super::build_context::BuildContext;
use super::error::{Error, Result};
use super::registry_auth::RegistryAuth;

/// How many lines of the log an error quotes.
const QUOTED_LINES: usize = 20;

/// Size of the chunks the build context is uploaded in.
const CHUNK_SIZE: usize = 256 * 1024;

/// `X-Registry-Auth` without credentials: `{}`, which the daemon requires
/// when pushing (it rejects a push with no header at all).
const NO_AUTH_HEADER: &str = "e30=";

/// A log callback: receives each line of a build's or push's output.
pub type Log<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// What to build: `docker build -f DOCKERFILE -t TAG --build-arg ...
/// --target ... --label ... CONTEXT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBuild {
    /// The Dockerfile; it may live outside the context.
    pub dockerfile: PathBuf,
    /// The context folder (its `.dockerignore` applies).
    pub context: PathBuf,
    /// The tag to give the image (`shop/api:1.4.2`).
    pub tag: String,
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// The stage to build (`--target`), or the last one.
    pub target: Option<String>,
    /// Labels added to the image (`--label`).
    pub labels: BTreeMap<String, String>,
}

/// A built image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The image id (`sha256:…`).
    pub id: String,
    /// The tag it was given.
    pub tag: String,
}

/// A pushed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// Where it was pushed (`registry.example.org/shop/api:1.4.2`).
    pub destination: String,
    /// The manifest digest the registry reported (`sha256:…`).
    pub digest: String,
}

impl Engine {
    /// Builds an image with the classic builder, streaming the build output
    /// to `log` line by line. A failed step is an error quoting the end of
    /// that output.
    pub async fn build_image(&self, build: &ImageBuild, log: Log<'_>) -> Result<BuiltImage> {
        build_image(self.docker(), build, log).await
    }

    /// Tags `source_tag` as `destination` (`registry/repo:tag`, `latest` if
    /// it has no tag), then pushes it, with `auth` for the registry if
    /// given. Streams condensed progress to `log` and returns the digest the
    /// registry reported.
    pub async fn push_image(
        &self,
        source_tag: &str,
        destination: &str,
        auth: Option<&RegistryAuth>,
        log: Log<'_>,
    ) -> Result<PushedImage> {
        push_image(self.docker(), source_tag, destination, auth, log).await
    }
}

async fn build_image(docker: &DockerApi, build: &ImageBuild, log: Log<'_>) -> Result<BuiltImage> {
    let (context_dir, dockerfile) = (build.context.clone(), build.dockerfile.clone());
    let context =
        tokio::task::spawn_blocking(move || BuildContext::plan(&context_dir, &dockerfile))
            .await
            .map_err(|e| Error::BuildContext {
                step: "reading",
                path: build.context.clone(),
                source: io::Error::other(e),
            })??;

    let options = BuildImageOptions {
        dockerfile: context.dockerfile().to_owned(),
        t: Some(build.tag.clone()),
        buildargs: Some(build.build_args.clone().into_iter().collect()),
        labels: Some(build.labels.clone().into_iter().collect()),
        target: build.target.clone().unwrap_or_default(),
        rm: true,
        // Unlike `docker build`, also remove the container of a failed step:
        // a server that builds on every commit must not pile them up.
        forcerm: true,
        ..Default::default()
    };

    let (sender, receiver) = mpsc::channel::<io::Result<Vec<u8>>>(4);
    let context_path = build.context.clone();
    let archiver = tokio::task::spawn_blocking(move || {
        let mut chunks = ChunkSender {
            sender,
            buffer: Vec::with_capacity(CHUNK_SIZE),
        };
        let written = context.write_tar(&mut chunks).and_then(|()| {
            chunks.flush().map_err(|e| Error::BuildContext {
                step: "sending",
                path: context_path.clone(),
                source: e,
            })
        });
        if let Err(error) = &written {
            // Fails the upload, so the daemon does not build half a context.
            let _ = chunks
                .sender
                .blocking_send(Err(io::Error::other(error.to_string())));
        }
        written
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk.map(Into::into), receiver))
    });

    let mut transcript = Transcript::new(log);
    let mut image_id = None;
    let mut failure = None;
    {
        let mut stream = docker.stream(Some("build_image"), |docker| {
            docker.build_image(options, None, Some(bollard::body_try_stream(body)))
        });
        while let Some(message) = stream.next().await {
            match message {
                Ok(info) => {
                    if let Some(text) = &info.stream {
                        transcript.text(text);
                    }
                    if let Some(status) = &info.status {
                        transcript.status(info.id.as_deref(), status);
                    }
                    if let Some(id) = info.aux.and_then(|aux| aux.id) {
                        image_id = Some(id);
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
    }
    transcript.finish();

    // A context that could not be archived explains the failure better than
    // the daemon's view of a broken upload.
    match archiver.await {
        Ok(Err(error)) if !is_aborted_upload(&error) => return Err(error),
        Err(join) => {
            return Err(Error::BuildContext {
                step: "archiving",
                path: build.context.clone(),
                source: io::Error::other(join),
            });
        }
        _ => {}
    }
    if let Some(error) = failure {
        let log = transcript.tail();
        return Err(match error {
            bollard::errors::Error::DockerStreamError { error } => Error::BuildFailed {
                tag: build.tag.clone(),
                message: error,
                log,
            },
            source => Error::Build {
                tag: build.tag.clone(),
                log,
                source,
            },
        });
    }
    let id = match image_id {
        Some(id) => id,
        // Daemons that do not send the id in `aux`: ask for it.
        None => docker
            .call("inspect_image", |docker| docker.inspect_image(&build.tag))
            .await
            .map_err(|source| Error::Build {
                tag: build.tag.clone(),
                log: transcript.tail(),
                source,
            })?
            .id
            .unwrap_or_default(),
    };
    Ok(BuiltImage {
        id,
        tag: build.tag.clone(),
    })
}

/// True if archiving stopped only because the request gave up on its body
/// (the daemon failed first).
fn is_aborted_upload(error: &Error) -> bool {
    matches!(error, Error::BuildContext { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

/// Writes the archive into the upload channel in chunks.
struct ChunkSender {
    sender: mpsc::Sender<io::Result<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_SIZE {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_SIZE));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the build request stopped reading the context",
            )
        })
    }
}

async fn push_image(
    docker: &DockerApi,
    source_tag: &str,
    destination: &str,
    auth: Option<&RegistryAuth>,
    log: Log<'_>,
) -> Result<PushedImage> {
    let (repository, tag) = split_reference(destination)?;
    let destination = format!("{repository}:{tag}");
    let options = TagImageOptions {
        repo: Some(repository.clone()),
        tag: Some(tag.clone()),
    };
    docker
        .call("tag_image", |docker| {
            docker.tag_image(source_tag, Some(options))
        })
        .await
        .map_err(|source| Error::Tag {
            image: source_tag.to_owned(),
            destination: destination.clone(),
            source,
        })?;

    let auth_header = auth.map_or_else(|| NO_AUTH_HEADER.to_owned(), RegistryAuth::to_header_value);
    let client = push_request(docker, &repository, &tag, auth_header);
    let mut transcript = Transcript::new(log);
    let mut digest = None;
    let mut failure = None;
    {
        // Timed as what it is (see `push_request`).
        let mut stream = client.stream(Some("push_image"), |docker| {
            docker.create_image(None::<CreateImageOptions>, None, None)
        });
        while let Some(message) = stream.next().await {
            match message {
                Ok(info) => {
                    if let Some(status) = &info.status {
                        transcript.status(info.id.as_deref(), status);
                        digest = digest.or_else(|| digest_in_status(status));
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
    }
    transcript.finish();
    let log = transcript.tail();
    match (failure, digest) {
        (Some(bollard::errors::Error::DockerStreamError { error }), _) => Err(Error::PushFailed {
            destination,
            message: error,
            log,
        }),
        (Some(source), _) => Err(Error::Push {
            destination,
            log,
            source,
        }),
        (None, Some(digest)) => Ok(PushedImage {
            destination,
            digest,
        }),
        (None, None) => Err(Error::PushWithoutDigest { destination, log }),
    }
}

/// A client whose next "create image" request is really
/// `POST /images/{repository}/push?tag={tag}` with `auth_header`.
///
/// bollard 0.21's own push call decodes the progress messages without
/// their layer `id` (so progress cannot be told apart per layer) and
/// encodes `X-Registry-Auth` in standard base64, which the daemon misreads
/// (it decodes URL-safe base64, and silently pushes without credentials
/// when that fails). The create-image call decodes the same message shape
/// with the `id`, so voc sends that call and rewrites its path and header.
fn push_request(docker: &DockerApi, repository: &str, tag: &str, auth_header: String) -> DockerApi {
    let push_path = format!("/images/{repository}/push?tag={tag}");
    docker.clone().with_request_modifier(move |mut request| {
        let uri = request.uri().to_string();
        let rewritten = uri
            .find("/images/create")
            .map(|at| format!("{}{push_path}", &uri[..at]));
        match rewritten.and_then(|uri| uri.parse().ok()) {
            Some(uri) => *request.uri_mut() = uri,
            // Cannot happen for a reference `split_reference` accepted; but
            // never let the request through as a pull: a GET on
            // `/images/create` only gets a 404.
            None => *request.method_mut() = Default::default(),
        }
        if let Ok(value) = auth_header.parse() {
            request.headers_mut().insert("X-Registry-Auth", value);
        }
        request
    })
}

/// Splits `registry/repo:tag` into repository and tag (`latest` when there
/// is none). Only references that can go into a URL path unescaped pass;
/// the daemon checks the finer rules.
fn split_reference(reference: &str) -> Result<(String, String)> {
    let invalid = |reason| Error::InvalidReference {
        reference: reference.to_owned(),
        reason,
    };
    if reference.contains('@') {
        return Err(invalid("a push destination cannot have a digest"));
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            &reference[last_slash + i + 1..],
        ),
        None => (reference, "latest"),
    };
    if repository.is_empty()
        || repository.starts_with('/')
        || repository.ends_with('/')
        || repository.contains("//")
    {
        return Err(invalid(
            "the repository name is empty or has an empty path component",
        ));
    }
    if !repository
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
    {
        return Err(invalid(
            "the repository name may only use letters, digits, `.`, `_`, `-`, `/` and `:`",
        ));
    }
    let tag_ok = (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !tag_ok {
        return Err(invalid(
            "the tag must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
        ));
    }
    Ok((repository.to_owned(), tag.to_owned()))
}

/// The digest in the daemon's last push status,
/// `1.4.2: digest: sha256:… size: 528`.
fn digest_in_status(status: &str) -> Option<String> {
    let (_, after) = status.split_once(": digest: ")?;
    let digest = after.split_whitespace().next()?;
    let (algorithm, hex) = digest.split_once(':')?;
    let valid =
        !algorithm.is_empty() && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    valid.then(|| digest.to_owned())
}

/// The daemon's output turned into log lines: text split into lines,
/// progress condensed to one line per layer status change, and the last
/// lines kept for error messages.
struct Transcript<'a> {
    log: Log<'a>,
    tail: VecDeque<String>,
    partial: String,
    layers: HashMap<String, String>,
}

impl<'a> Transcript<'a> {
    fn new(log: Log<'a>) -> Self {
        Self {
            log,
            tail: VecDeque::with_capacity(QUOTED_LINES),
            partial: String::new(),
            layers: HashMap::new(),
        }
    }

    /// Output text (`stream`), which may hold several lines or part of one.
    fn text(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.line(&line);
        }
    }

    /// A progress message: with a layer `id`, shown only when that layer's
    /// status changes (`Pushing` ticks are one line).
    fn status(&mut self, id: Option<&str>, status: &str) {
        match id {
            Some(id) => {
                if self.layers.get(id).is_some_and(|last| last == status) {
                    return;
                }
                self.layers.insert(id.to_owned(), status.to_owned());
                self.line(&format!("{id}: {status}"));
            }
            None => self.line(status),
        }
    }

    /// Flushes a last line that did not end with a newline.
    fn finish(&mut self) {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest);
    }

    /// Logs one line as a terminal would show it: what follows the last
    /// carriage return, without trailing space. Blank lines are dropped.
    fn line(&mut self, raw: &str) {
        let raw = raw.trim_end_matches(['\n', '\r']);
        let shown = raw.rsplit('\r').next().unwrap_or(raw).trim_end();
        if shown.is_empty() {
            return;
        }
        (self.log)(shown);
        if self.tail.len() == QUOTED_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(shown.to_owned());
    }

    fn tail(&self) -> Vec<String> {
        self.tail.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn transcribe(feed: impl FnOnce(&mut Transcript<'_>)) -> (Vec<String>, Vec<String>) {
        let lines = Mutex::new(Vec::new());
        let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
        let mut transcript = Transcript::new(&log);
        feed(&mut transcript);
        transcript.finish();
        let tail = transcript.tail();
        drop(transcript);
        (lines.into_inner().unwrap(), tail)
    }

    #[test]
    fn build_and_push_futures_can_be_spawned() {
        fn is_send<T: Send>(_: &T) {}
        // Type-checked, never run: a server runs builds in spawned tasks.
        let _ = |engine: &Engine, build: &ImageBuild, log: Log<'_>| {
            is_send(&engine.build_image(build, log));
            is_send(&engine.push_image("a", "b", None, log));
        };
    }

    #[test]
    fn build_output_is_logged_line_by_line() {
        let (lines, tail) = transcribe(|t| {
            t.text("Step 1/3 : FROM base\n");
            t.text(" ---> 1a2b\nStep 2/3 : RUN echo hi\n ---> Running in ");
            t.text("c3d4\n");
            t.text("hi\r\n\n   \n");
            t.text("progress 10%\rprogress 100%\n");
            t.text("no newline at the end");
        });
        let expected = [
            "Step 1/3 : FROM base",
            " ---> 1a2b",
            "Step 2/3 : RUN echo hi",
            " ---> Running in c3d4",
            "hi",
            "progress 100%",
            "no newline at the end",
        ];
        assert_eq!(lines, expected);
        assert_eq!(tail, expected);
    }

    #[test]
    fn progress_is_one_line_per_layer_status_change() {
        let (lines, _) = transcribe(|t| {
            t.status(None, "The push refers to repository [127.0.0.1:5000/x]");
            for id in ["aaa", "bbb"] {
                t.status(Some(id), "Preparing");
            }
            t.status(Some("bbb"), "Waiting");
            for _ in 0..50 {
                t.status(Some("aaa"), "Pushing");
            }
            t.status(Some("aaa"), "Pushed");
            t.status(Some("bbb"), "Layer already exists");
            t.status(None, "latest: digest: sha256:abcd size: 528");
        });
        assert_eq!(
            lines,
            [
                "The push refers to repository [127.0.0.1:5000/x]",
                "aaa: Preparing",
                "bbb: Preparing",
                "bbb: Waiting",
                "aaa: Pushing",
                "aaa: Pushed",
                "bbb: Layer already exists",
                "latest: digest: sha256:abcd size: 528",
            ]
        );
    }

    #[test]
    fn errors_quote_only_the_last_lines() {
        let (lines, tail) = transcribe(|t| {
            for i in 0..45 {
                t.text(&format!("line {i}\n"));
            }
        });
        assert_eq!(lines.len(), 45);
        assert_eq!(tail.len(), QUOTED_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 25"));
        assert_eq!(tail.last().map(String::as_str), Some("line 44"));
        let error = Error::BuildFailed {
            tag: "t:1".into(),
            message: "boom".into(),
            log: tail,
        };
        let text = error.to_string();
        assert!(
            text.starts_with("building image `t:1`: boom\nlast lines of the log:\n  | line 25\n"),
            "{text}"
        );
        assert!(text.ends_with("  | line 44"), "{text}");
        let quiet = Error::BuildFailed {
            tag: "t:1".into(),
            message: "boom".into(),
            log: Vec::new(),
        };
        assert_eq!(quiet.to_string(), "building image `t:1`: boom");
    }

    #[test]
    fn digests_are_read_from_the_final_push_status() {
        let hex = "a".repeat(64);
        let cases = [
            (
                format!("1.4.2: digest: sha256:{hex} size: 528"),
                Some(format!("sha256:{hex}")),
            ),
            (
                format!("latest: digest: sha256:{hex}"),
                Some(format!("sha256:{hex}")),
            ),
            ("Pushed".to_owned(), None),
            ("latest: digest: sha256: size: 1".to_owned(), None),
            ("latest: digest: nothex:xyz size: 1".to_owned(), None),
            ("latest: digest: ".to_owned(), None),
        ];
        for (status, digest) in cases {
            assert_eq!(digest_in_status(&status), digest, "{status}");
        }
    }

    #[test]
    fn push_destinations_split_into_repository_and_tag() {
        let ok = [
            (
                "127.0.0.1:5000/voc/app:1.0",
                ("127.0.0.1:5000/voc/app", "1.0"),
            ),
            (
                "127.0.0.1:5000/voc/app",
                ("127.0.0.1:5000/voc/app", "latest"),
            ),
            ("app", ("app", "latest")),
            ("shop/api:1.4.2", ("shop/api", "1.4.2")),
            (
                "registry.example.org:443/a/b/c:_x-1.y",
                ("registry.example.org:443/a/b/c", "_x-1.y"),
            ),
        ];
        for (reference, (repository, tag)) in ok {
            assert_eq!(
                split_reference(reference).unwrap(),
                (repository.to_owned(), tag.to_owned()),
                "{reference}"
            );
        }
        let bad = [
            "",
            ":tag",
            "app:",
            "app:-x",
            "app:.x",
            "a b:1",
            "app@sha256:abc",
            "/app",
            "a//b",
            "app/",
            "ä:1",
        ];
        for reference in bad {
            let error = split_reference(reference).expect_err(reference);
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("invalid image reference `{reference}`: ")),
                "{error}"
            );
        }
        let long_tag = format!("app:{}", "x".repeat(129));
        assert!(split_reference(&long_tag).is_err());
    }
}
