//! Tests of the git layer against real repositories made with the `git` CLI,
//! fetched over a local path, a real `git daemon` and git's smart HTTP
//! protocol behind Basic authentication.

mod auth;
mod daemon;
pub(crate) mod fixture;
mod history;
mod http;
mod sync;
mod write;
