//! Reconciling: from a conf repo's commits to what must happen in the swarm.
//!
//! - [`files`]: what a path's name says it is (stack, image, definition).
//! - [`directives`]: `[deploy-all]` and friends in commit messages.
//! - [`plan`]: the pure planner, changes in, ordered [`Action`]s out.

pub mod directives;
pub mod files;
pub mod plan;

pub use directives::Directives;
pub use plan::{Action, ActionKind, ChangedFile, FileStatus, Plan, PlanInput, Scope, Skipped, plan};
