//! What every part of the running server shares: the configuration, the
//! store, the conf repo, the targets and the event channels. Passed
//! explicitly (axum `State`, GraphQL context data), never global.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::conf::model::ConfReport;
use crate::config::ServerConfig;
use crate::git::CommitId;
use crate::reconcile::follow::Follow;
use crate::engine::Engine;
use crate::git::Remote;
use crate::store::Store;

use super::events::Events;

/// The running server's shared state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration it was started with.
    pub config: Arc<ServerConfig>,
    /// voc's database.
    pub store: Store,
    /// The conf repo.
    pub repo: Arc<ConfRepo>,
    /// The Docker targets, by name.
    pub targets: Arc<BTreeMap<String, Target>>,
    /// Job, task and stack events.
    pub events: Events,
    /// The conf repo as last read at the followed branch's head (`None`
    /// until the first read). Published by the follow loop; everyone else
    /// reads it with `subscribe()` or `borrow()`.
    pub conf: Arc<tokio::sync::watch::Sender<Option<Arc<ConfSnapshot>>>>,
    /// Asks for reconciles and jobs (the follow loops).
    pub follow: Follow,
    /// Each target's live state (services, tasks, stack statuses), kept
    /// current by `serve::live`'s loops.
    pub live: super::live::LiveStates,
    /// Failed sign-ins of the last minutes, to refuse guessing passwords.
    pub login_limiter: Arc<crate::api::auth::LoginLimiter>,
    /// voc's key for the secrets committed in stack files (encrypt in the
    /// API, decrypt at deploy: pass it in `ApplySettings::secret_key`).
    pub secret_key: crate::secret::SecretKey,
    /// What voc counts and times, for `GET /metrics` (`None` when another
    /// recorder was installed in this process first).
    pub metrics: Option<crate::metrics::Metrics>,
}

/// The conf repo at one commit, read and validated.
#[derive(Debug)]
pub struct ConfSnapshot {
    /// The commit.
    pub commit: CommitId,
    /// What the walker made of it; `report.root` is a folder holding that
    /// commit's files, never changed while this snapshot lives.
    pub report: ConfReport,
    /// Keeps `report.root` on disk while a snapshot uses it (the follow
    /// loop's export, removed with the last snapshot that holds it);
    /// `None` when the folder belongs to someone else.
    pub files: Option<Arc<crate::reconcile::follow::CommitFolder>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("targets", &self.targets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The conf repo: where it is, and voc's clone of it.
#[derive(Debug)]
pub struct ConfRepo {
    /// The remote voc fetches from and pushes to.
    pub remote: Remote,
    /// voc's clone (a working tree that follows the branch).
    pub clone: PathBuf,
}

/// One Docker engine voc deploys to.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name in the configuration.
    pub name: String,
    /// The connection.
    pub engine: Engine,
}
