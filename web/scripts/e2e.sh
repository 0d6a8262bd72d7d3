#!/usr/bin/env bash
# The dashboard's browser end-to-end tests (e2e/*.test.ts) against a real
# `voc serve`, the local Docker engine and a git remote made on the fly.
# Needs: the engine up (scripts/engine-up.sh), web/dist built and a voc
# binary that embeds it ($VOC_BIN, default ../target/debug/voc), and
# Debian's Chromium, installed here when /usr/bin/chromium is missing
# (root, ~20 s). Screenshots go to ../docs/screenshots/ ($SCREENSHOTS_DIR).
# Extra arguments go to vitest (`-t delete` runs the tests whose name
# matches).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z ${CHROMIUM:-} && ! -x /usr/bin/chromium ]]; then
    echo "e2e: installing Debian's chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends chromium >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
export VOC_BIN=${VOC_BIN:-$(cd .. && pwd)/target/debug/voc}
if [[ ! -x $VOC_BIN ]]; then
    echo "e2e: no voc binary at $VOC_BIN: run \`cargo build -p voc --bin voc\` (after \`npm run build\`) or set VOC_BIN" >&2
    exit 1
fi
exec npx vitest run --config vitest.e2e.config.ts "$@"
