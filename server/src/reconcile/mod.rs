//! Reconciling: from a conf repo's commits to what must happen in the swarm.
//!
//! - [`files`]: what a path's name says it is (stack, image, definition).
//! - [`directives`]: `[deploy-all]` and friends in commit messages.
//! - [`plan`]: the pure planner, changes in, ordered [`Action`]s out.
//! - [`apply`]: runs a plan's actions as jobs (engine + store).
//! - [`status`]: a stack's sync status, drift and health (pure).
//! - [`range`]: the commit range a run covers and what changed in it (git).
//! - [`run`]: preparing a run for a target (start, conf, range, plan),
//!   shared by the CLI and the server.
//! - [`edit`]: the files and commit messages of the API's stack
//!   mutations (pure).
//! - [`follow`]: `voc serve`'s loops that follow the conf repo.

pub mod apply;
pub mod directives;
pub mod edit;
pub mod files;
pub mod follow;
pub mod plan;
pub mod range;
pub mod status;
pub mod run;

pub use directives::Directives;
pub use plan::{
    Action, ActionKind, ChangedFile, FileStatus, Plan, PlanInput, Scope, Skipped, plan,
};
