#!/usr/bin/env bash
# Builds the web app into web/dist, which the `voc` binary embeds: installs
# web/node_modules from package-lock.json when it is missing or older than
# the lock file, then `npm run build` (type check, Vite, bundle size check).
# `--test` also runs the web app's component tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../web"

if ! command -v npm >/dev/null 2>&1; then
    echo "web-build: npm is missing: install Node.js 20.19+ and npm" >&2
    exit 1
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
if [[ ${1:-} == --test ]]; then
    npm test
fi
