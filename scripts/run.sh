#!/usr/bin/env bash
# The run command: brings up the engine (scripts/engine-up.sh), builds the
# web app (scripts/web-build.sh) and voc in release mode, and runs voc with
# the given arguments; with none, `voc serve` with its embedded defaults (a
# local conf repo seeded from templates/ in the data folder, the local
# engine, http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/engine-up.sh
scripts/web-build.sh
(($#)) || set -- serve
exec cargo run --release -p voc -- "$@"
