#!/usr/bin/env bash
# The test command: brings up the engine, the swarm and the registries
# (scripts/engine-up.sh), builds and tests the web app (scripts/web-build.sh),
# builds voc, runs the dashboard's browser tests (web/scripts/e2e.sh, in
# Debian's Chromium, installed when missing), then every test of the
# workspace.
# Extra arguments go to the Rust test runner and skip the browser tests:
# `scripts/test.sh -p voc-tests` runs one package (no --workspace then),
# `scripts/test.sh harness_check` filters.
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

failed=0
if (($# == 0)); then
    # Screenshots of this run go to web/e2e-results/ (ignored by git); the
    # committed ones in docs/screenshots/ are refreshed with
    # `cd web && npm run test:e2e`.
    if ! (cd web && SCREENSHOTS_DIR=e2e-results/shots npm run test:e2e); then
        echo "test: the dashboard's browser tests failed" >&2
        failed=1
    fi
fi

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run "${scope[@]}" --no-fail-fast "$@" || failed=1
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    cargo test "${scope[@]}" --no-fail-fast "$@" || failed=1
fi
exit "$failed"
