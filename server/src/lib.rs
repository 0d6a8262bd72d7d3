//! voc: conf as code for Docker Swarm.
//!
//! The server is layered by what each part knows, lowest first:
//!
//! - [`conf`]: the conf repo model and its validation (`image-<name>.json`,
//!   and the other conf files). Pure.
//! - [`voc_compose`] (its own crate): loading, interpolating and validating
//!   Compose files, and converting them to swarm specs. Pure.
//! - [`git`]: everything that talks to git (voc's clone of the conf repo,
//!   fetch, checkout, diffs, history). Blocking.
//! - [`engine`]: everything that talks to Docker (stacks, services, tasks,
//!   networks, secrets, configs, images, registries).
//! - [`reconcile`]: planning (what changed in git, what to build, deploy
//!   and remove, in which order) and applying plans as jobs.
//! - [`notify`]: the webhook a target calls when a job fails and when
//!   it recovers (told by `reconcile::follow`).
//! - [`store`]: voc's SQLite database (jobs and their logs, the last
//!   applied commit per target). Blocking.
//! - [`secret`]: voc's age key, which encrypts the secrets committed in
//!   stack files and decrypts them at deploy. Blocking.
//! - [`config`]: `voc serve`'s configuration (TOML and environment).
//! - [`serve`]: the running server's state and start-up; [`api`]: the
//!   GraphQL schema; [`http`]: routes, auth, webhooks.
//! - [`cli`]: the `voc` command.
//! - [`metrics`]: the names of what `voc serve` counts and times, and
//!   their recording; every layer may use it (it uses no other).
//!
//! Lower layers never import upper ones.

#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod conf;
pub mod config;
pub mod engine;
pub mod git;
pub mod http;
pub mod notify;
pub mod metrics;
pub mod reconcile;
pub mod secret;
pub mod serve;
pub mod store;
pub mod timestamp;

pub use voc_compose as compose;
