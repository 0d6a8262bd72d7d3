//! End-to-end tests of voc against a real Docker engine (a single-node swarm
//! with two local registries, set up by `scripts/engine-up.sh`).
//!
//! One module per feature, in `tests/e2e/<feature>.rs`. Every test calls
//! `voc_tests::require_engine()` first and removes what it deploys with a
//! `voc_tests::StackGuard`.

mod ci_examples;
mod harness_check;
mod differential;
mod engine_batch;
mod engine_deploy;
mod engine_fixture;
mod images;
mod engine_converge;
mod engine_interop;
mod engine_remove;
mod engine_resolve;
mod engine_tls;
mod loader_parity;
mod runner;
mod validate;
