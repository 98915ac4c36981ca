#!/usr/bin/env bash
# The README's main job: set up .venv, then run the nightly pipeline once, end to end, on the
# bundled offline zoo mirror (extra arguments go to `zoo2tf run`, e.g. --limit 5 or --force).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup-venv.sh"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3} TF_ENABLE_ONEDNN_OPTS=${TF_ENABLE_ONEDNN_OPTS:-0}
cd "$root"
exec "$root/.venv/bin/zoo2tf" run --mirror "$@"
