#!/usr/bin/env bash
# The run command: brings up the engine (scripts/engine-up.sh), then runs voc
# with the given arguments (`stack ls` when none).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/engine-up.sh
(($#)) || set -- stack ls
exec cargo run --release -p voc -- "$@"
