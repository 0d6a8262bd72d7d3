#!/usr/bin/env bash
# The test command: brings up the engine, the swarm and the registries
# (scripts/engine-up.sh), builds and tests the web app (scripts/web-build.sh),
# then runs every test of the workspace.
# Extra arguments go to the test runner: `scripts/test.sh -p voc-tests` runs
# one package (no --workspace then), `scripts/test.sh harness_check` filters.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/engine-up.sh
# The binary embeds web/dist: build the web app first.
scripts/web-build.sh --test

scope=(--workspace)
for arg in "$@"; do
    case $arg in -p | -p?* | --package | --package=*) scope=() ;; esac
done

# The end-to-end tests run the `voc` binary: build it once here rather than
# in each test process (see voc_tests::voc_binary).
cargo build -p voc --bin voc
export VOC_BIN=${CARGO_TARGET_DIR:-$PWD/target}/debug/voc

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run "${scope[@]}" --no-fail-fast "$@"
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    exec cargo test "${scope[@]}" --no-fail-fast "$@"
fi
