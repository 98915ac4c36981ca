#!/usr/bin/env bash
# The README's main job: set up .venv, then run zoo2tf's main job.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup-venv.sh"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3} TF_ENABLE_ONEDNN_OPTS=${TF_ENABLE_ONEDNN_OPTS:-0}
cd "$root"
exec "$root/.venv/bin/zoo2tf" convert "$root/zoo_mirror/snapshot/weights/lenet_mnist/lenet.prototxt" \
    "$root/zoo_mirror/snapshot/weights/lenet_mnist/lenet_iter_10000.caffemodel" -o "$root/data/models/lenet" "$@"
