//! End-to-end tests of voc against a real Docker engine (a single-node swarm
//! with two local registries, set up by `scripts/engine-up.sh`).
//!
//! One module per feature, in `tests/e2e/<feature>.rs`. Every test calls
//! `voc_tests::require_engine()` first and removes what it deploys with a
//! `voc_tests::StackGuard`.

mod ci_examples;
mod differential;
mod engine_batch;
mod engine_converge;
mod engine_deploy;
mod engine_fixture;
mod engine_interop;
mod engine_remove;
mod engine_resolve;
mod engine_tls;
mod harness_check;
mod images;
mod loader_parity;
mod runner;
mod serve_auth;
mod serve_backup;
mod serve_edits;
mod serve_follow;
mod serve_scenario;
mod serve_stack_details;
mod serve_targets;
mod serve_limits;
mod serve_live;
mod serve_observability;
mod serve_restart;
mod serve_webhooks;
mod validate;
mod voc_image;
