//! Reconciling: from a conf repo's commits to what must happen in the swarm.
//!
//! - [`files`]: what a path's name says it is (stack, image, definition).
//! - [`directives`]: `[deploy-all]` and friends in commit messages.
//! - [`plan`]: the pure planner, changes in, ordered [`Action`]s out.
//! - [`apply`]: runs a plan's actions as jobs (engine + store).
//! - [`status`]: a stack's sync status, drift and health (pure).
//! - [`range`]: the commit range a run covers and what changed in it (git).

pub mod apply;
pub mod directives;
pub mod files;
pub mod follow;
pub mod plan;
pub mod range;
pub mod status;

pub use directives::Directives;
pub use plan::{
    Action, ActionKind, ChangedFile, FileStatus, Plan, PlanInput, Scope, Skipped, plan,
};
