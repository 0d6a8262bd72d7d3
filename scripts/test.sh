#!/usr/bin/env bash
# The test command: brings up the engine, the swarm and the registries
# (scripts/engine-up.sh), then runs every test of the workspace.
# Extra arguments go to the test runner, e.g. `scripts/test.sh -p voc-tests`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/engine-up.sh

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi
