//! The engine layer's error type: every way talking to Docker can fail, each
//! naming the object and the step that failed, with the Docker error kept as
//! the source.

use std::fmt;
use std::time::Duration;

/// The kinds of swarm objects a stack is made of, for messages and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A swarm service.
    Service,
    /// A network.
    Network,
    /// A secret.
    Secret,
    /// A config.
    Config,
    /// A task.
    Task,
    /// An image (in a registry or on the node).
    Image,
    /// The engine itself (`/info`, `/version`, `/nodes`).
    Engine,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Service => "service",
            ObjectKind::Network => "network",
            ObjectKind::Secret => "secret",
            ObjectKind::Config => "config",
            ObjectKind::Task => "task",
            ObjectKind::Image => "image",
            ObjectKind::Engine => "engine",
        })
    }
}

/// What went wrong while talking to Docker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Docker engine could not be reached (bad `DOCKER_HOST`, missing
    /// socket, TLS files, or no answer to `/version`).
    #[error("connecting to the docker engine at {host}")]
    Connect {
        /// The target's host, `DOCKER_HOST` (value and name), or the default
        /// socket.
        host: String,
        /// The cause.
        #[source]
        source: bollard::errors::Error,
    },

    /// A Docker API call failed.
    #[error("{verb} {kind} `{name}`")]
    Api {
        /// The step, as a present participle (`creating`, `updating`).
        verb: &'static str,
        /// The kind of object the call was about.
        kind: ObjectKind,
        /// The object's name (or the stack's, for listings).
        name: String,
        /// The Docker error.
        #[source]
        source: bollard::errors::Error,
    },

    /// `Swarm.ControlAvailable` is false (same text as the docker CLI).
    #[error(
        "this node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again"
    )]
    NotSwarmManager,

    /// The engine did not answer in time (a hung daemon, or a host whose
    /// packets are dropped): see `engine::deadline`.
    #[error("the engine did not answer {what} within {after:?}")]
    NoAnswer {
        /// What was asked (`/_ping`, `the list of services and tasks`).
        what: String,
        /// How long voc waited.
        after: Duration,
    },

    /// A batch of deploys names the same stack more than once.
    #[error("stack `{stack}` appears more than once in the batch")]
    DuplicateStack {
        /// The stack's name.
        stack: String,
    },

    /// A service of the spec has no image.
    #[error("service `{service}` has no image")]
    MissingImage {
        /// The service's swarm name.
        service: String,
    },

    /// An external network does not exist (same text as the docker CLI).
    #[error(
        "network \"{network}\" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed"
    )]
    ExternalNetworkNotFound {
        /// The network's name.
        network: String,
    },

    /// An external network exists but is not swarm-scoped (same text as the
    /// docker CLI).
    #[error(
        "network \"{network}\" is declared as external, but it is not in the right scope: \"{scope}\" instead of \"swarm\""
    )]
    ExternalNetworkScope {
        /// The network's name.
        network: String,
        /// Its actual scope (`local`).
        scope: String,
    },

    /// An external secret or config does not exist.
    #[error("{kind} `{name}` is declared as external, but could not be found")]
    ExternalObjectNotFound {
        /// Secret or config.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },

    /// A service refers to a secret or config the spec does not define.
    #[error("service `{service}` uses {kind} `{name}`, which the stack does not define")]
    UndefinedObject {
        /// The service's swarm name.
        service: String,
        /// Secret or config.
        kind: ObjectKind,
        /// The object's name.
        name: String,
    },

    /// An explicitly named secret or config exists with other content;
    /// swarm cannot change an object's data.
    #[error(
        "{kind} `{name}` already exists with different content, and swarm cannot change it: give it a new `name:`, or drop `name:` so voc names it after its content"
    )]
    ContentChanged {
        /// Secret or config.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },

    /// A live object's version index does not fit the API's update parameter.
    #[error("{kind} `{name}` has version {index}, beyond what the update call accepts")]
    VersionOutOfRange {
        /// The kind of object.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// Its `Version.Index`.
        index: u64,
    },

    /// Updating a service kept failing with "update out of sequence", even
    /// after re-inspecting it.
    #[error("updating service `{service}`: still out of sequence after {attempts} attempts")]
    OutOfSequence {
        /// The service's swarm name.
        service: String,
        /// How many updates were tried.
        attempts: u32,
        /// The last Docker error.
        #[source]
        source: bollard::errors::Error,
    },

    /// A service did not converge: its tasks keep failing, its image cannot
    /// be pulled, or swarm paused or rolled back its update.
    #[error("service `{service}` failed: {reason}")]
    ServiceFailed {
        /// The service's swarm name.
        service: String,
        /// What happened, quoting the task's error message.
        reason: String,
    },

    /// Waiting for convergence timed out.
    #[error("timed out after {}s waiting for {}", waited.as_secs(), pending.join(", "))]
    ConvergeTimeout {
        /// How long voc waited.
        waited: Duration,
        /// What had not converged (`shop_web (1/3 running)`).
        pending: Vec<String>,
    },

    /// There is no service of that name.
    #[error("there is no service `{service}` on this engine")]
    ServiceNotFound {
        /// The service's swarm name.
        service: String,
    },

    /// The engine did not answer in time.
    #[error("the docker engine did not answer in {}s while {step}; it may be down or unreachable", waited.as_secs())]
    EngineTimeout {
        /// What voc was doing (`finding service `shop_web``).
        step: String,
        /// How long voc waited.
        waited: Duration,
    },

    /// `stack ps` found no task (same text as the docker CLI).
    #[error("nothing found in stack: {stack}")]
    NothingFound {
        /// The stack's name.
        stack: String,
    },

    /// Removing a stack left some objects behind.
    #[error("failed to remove some resources from stack: {stack}: {}", failures.join("; "))]
    RemoveIncomplete {
        /// The stack's name.
        stack: String,
        /// One message per object that could not be removed.
        failures: Vec<String>,
    },

    /// A file or folder of a build context could not be read or archived.
    #[error("{step} `{}` for the build context", path.display())]
    BuildContext {
        /// The step (`reading the folder`, `opening`, `archiving`).
        step: &'static str,
        /// The file or folder.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A build context's `.dockerignore` has a pattern Docker would refuse.
    #[error("reading `{}`", path.display())]
    Dockerignore {
        /// The `.dockerignore` file.
        path: std::path::PathBuf,
        /// The pattern and what is wrong with it.
        #[source]
        source: super::dockerignore::PatternError,
    },

    /// A build step failed: the daemon reported an error in the build's
    /// output (quoted with the end of the build log).
    #[error("building image `{tag}`: {message}{}", quote_log(log))]
    BuildFailed {
        /// The tag being built.
        tag: String,
        /// The daemon's error message.
        message: String,
        /// The last lines of the build log.
        log: Vec<String>,
    },

    /// The build request itself failed (engine unreachable, Dockerfile not
    /// found, bad parameters).
    #[error("building image `{tag}`{}", quote_log(log))]
    Build {
        /// The tag being built.
        tag: String,
        /// The last lines of the build log, if any came.
        log: Vec<String>,
        /// The Docker error.
        #[source]
        source: bollard::errors::Error,
    },

    /// An image reference voc was asked to push to is not valid.
    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// Tagging an image for a push failed (often: the image does not
    /// exist).
    #[error("tagging image `{image}` as `{destination}`")]
    Tag {
        /// The image that was to be tagged.
        image: String,
        /// The new name.
        destination: String,
        /// The Docker error.
        #[source]
        source: bollard::errors::Error,
    },

    /// A push failed: the daemon reported an error while pushing (wrong
    /// credentials, unreachable registry), quoted with the end of the push
    /// log.
    #[error("pushing image `{destination}`: {message}{}", quote_log(log))]
    PushFailed {
        /// Where the image was pushed.
        destination: String,
        /// The daemon's error message.
        message: String,
        /// The last lines of the push log.
        log: Vec<String>,
    },

    /// The push request itself failed.
    #[error("pushing image `{destination}`{}", quote_log(log))]
    Push {
        /// Where the image was pushed.
        destination: String,
        /// The last lines of the push log, if any came.
        log: Vec<String>,
        /// The Docker error.
        #[source]
        source: bollard::errors::Error,
    },

    /// A push ended without the registry's digest for the image.
    #[error(
        "pushing image `{destination}`: the push ended without a digest{}",
        quote_log(log)
    )]
    PushWithoutDigest {
        /// Where the image was pushed.
        destination: String,
        /// The last lines of the push log.
        log: Vec<String>,
    },
}

/// The end of a build or push log, quoted below an error message.
fn quote_log(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut quoted = String::from("\nlast lines of the log:");
    for line in lines {
        quoted.push_str("\n  | ");
        quoted.push_str(line);
    }
    quoted
}

/// The engine layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the step and object to a bollard error.
pub(crate) trait ApiContext<T> {
    /// Wraps the error as [`Error::Api`] (`creating service `shop_web``).
    fn during(self, verb: &'static str, kind: ObjectKind, name: &str) -> Result<T>;
}

impl<T> ApiContext<T> for std::result::Result<T, bollard::errors::Error> {
    fn during(self, verb: &'static str, kind: ObjectKind, name: &str) -> Result<T> {
        self.map_err(|source| Error::Api {
            verb,
            kind,
            name: name.to_owned(),
            source,
        })
    }
}

/// Formats an error with its sources (`a: b: c`), for warnings and
/// messages that carry a whole error as text. A cause whose text is already
/// said is left out: hyper and bollard repeat their inner errors' messages
/// (`client error (Connect): client error (Connect): ...`).
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        let mut source = self.0.source();
        while let Some(e) = source {
            let cause = e.to_string();
            if !cause.is_empty() && !said.contains(&cause) {
                said.push_str(": ");
                said.push_str(&cause);
            }
            source = e.source();
        }
        f.write_str(&said)
    }
}

/// True if Docker answered 404 (the object does not exist).
pub(crate) fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The message of a Docker server error, if that is what it is.
pub(crate) fn server_message(error: &bollard::errors::Error) -> Option<&str> {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => Some(message),
        _ => None,
    }
}

#[cfg(test)]
mod chain_tests {
    use super::ErrorChain;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |inner, text| Some(Layer(text, inner.map(Box::new))))
            .expect("at least one layer")
    }

    #[test]
    fn every_cause_is_said_once() {
        let cases: &[(&[&'static str], &str)] = &[
            (
                &["listing service `all stacks`"],
                "listing service `all stacks`",
            ),
            (
                &[
                    "listing service `all stacks`",
                    "error trying to connect",
                    "Connection refused (os error 111)",
                ],
                "listing service `all stacks`: error trying to connect: Connection refused (os error 111)",
            ),
            (
                &[
                    "client error (Connect)",
                    "client error (Connect)",
                    "tcp connect error",
                    "Connection refused",
                ],
                "client error (Connect): tcp connect error: Connection refused",
            ),
            (
                &["cannot read /x: No such file", "No such file"],
                "cannot read /x: No such file",
            ),
            (&["a", ""], "a"),
        ];
        for (layers, said) in cases {
            assert_eq!(ErrorChain(&chain(layers)).to_string(), *said, "{layers:?}");
        }
    }
}
