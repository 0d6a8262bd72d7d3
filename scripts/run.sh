#!/usr/bin/env bash
# The run command: brings up the engine (scripts/engine-up.sh), builds voc in
# release mode and runs it with the given arguments; with none, `voc serve`
# with its embedded defaults (a local conf repo seeded from templates/ in the
# data folder, the local engine, http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/engine-up.sh
(($#)) || set -- serve
exec cargo run --release -p voc -- "$@"
