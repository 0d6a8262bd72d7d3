//! The one way the engine modules reach Docker: [`DockerApi`] holds the
//! bollard client with the name of the target it belongs to, and times
//! every request into `voc_docker_request_duration_seconds` (see
//! `crate::metrics`). It has none of bollard's methods itself, so a request
//! that is not timed does not compile: each goes through
//! [`DockerApi::call`] (one answer) or [`DockerApi::stream`] (a stream of
//! them).
//!
//! bollard has no hook around a request (its request modifier runs before
//! sending only), hence a wrapper at the call sites rather than one
//! chokepoint inside the client.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bollard::Docker;
use futures_util::Stream;

/// A bollard client and the target it talks to. Cheap to clone.
#[derive(Clone)]
pub(crate) struct DockerApi {
    client: Docker,
    target: Arc<str>,
}

impl std::fmt::Debug for DockerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerApi")
            .field("client", &self.client)
            .field("target", &self.target)
            .finish()
    }
}

impl DockerApi {
    /// `client`, as the engine of target `target`.
    pub(crate) fn new(client: Docker, target: Arc<str>) -> DockerApi {
        DockerApi { client, target }
    }

    /// The same connection, named `target` in the metrics.
    pub(crate) fn for_target(&self, target: &str) -> DockerApi {
        DockerApi {
            client: self.client.clone(),
            target: Arc::from(target),
        }
    }

    /// The target's name.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Sends one request, `operation` naming it in the metrics (bollard's
    /// method name), and times it until its answer is read (or the caller
    /// gives up on it).
    pub(crate) async fn call<'a, F: Future>(
        &'a self,
        operation: &'static str,
        request: impl FnOnce(&'a Docker) -> F,
    ) -> F::Output {
        // Recorded when dropped: a request abandoned at a deadline counts
        // too, with the time it was given.
        let _timer = RequestTimer {
            target: self.target.clone(),
            operation,
            started: Instant::now(),
        };
        request(&self.client).await
    }

    /// Opens a streamed request (a build, a push, logs). `operation` names
    /// it in the metrics; it is timed until the stream ends or is dropped,
    /// unless `operation` is `None` (a stream that lasts as long as its
    /// reader wants, like followed logs, would only blur the histogram).
    pub(crate) fn stream<'a, S: Stream + 'a>(
        &'a self,
        operation: Option<&'static str>,
        request: impl FnOnce(&'a Docker) -> S,
    ) -> Timed<S> {
        let timer = operation.map(|operation| RequestTimer {
            target: self.target.clone(),
            operation,
            started: Instant::now(),
        });
        Timed {
            stream: Box::pin(request(&self.client)),
            _timer: timer,
        }
    }

    /// The same client, with `modifier` applied to each request (registry
    /// credentials on the requests that pull or push).
    pub(crate) fn with_request_modifier<M>(&self, modifier: M) -> DockerApi
    where
        M: Fn(bollard::BollardRequest) -> bollard::BollardRequest + Send + Sync + 'static,
    {
        DockerApi {
            client: self.client.clone().with_request_modifier(modifier),
            target: self.target.clone(),
        }
    }
}

/// A streamed request's answers; its time is recorded when it is dropped.
pub(crate) struct Timed<S> {
    stream: Pin<Box<S>>,
    _timer: Option<RequestTimer>,
}

impl<S: Stream> Stream for Timed<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

/// Records a request's time when it is dropped: when its answer was read,
/// its stream ended, or it was abandoned.
struct RequestTimer {
    target: Arc<str>,
    operation: &'static str,
    started: Instant,
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        crate::metrics::docker_request(&self.target, self.operation, self.started.elapsed());
    }
}
