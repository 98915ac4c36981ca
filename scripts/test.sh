#!/usr/bin/env bash
# The README's test command (and what .ci/run runs): set up .venv, start the services the
# tests need (PostgreSQL, and Debian's chromium for the browser tests), run the whole suite.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash "$root/scripts/setup-venv.sh"
# shellcheck source=scripts/test-services.sh
source "$root/scripts/test-services.sh"
start_test_services
trap stop_test_services EXIT
export TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 PYTHONDONTWRITEBYTECODE=1
# The mirror's full-catalog check (every synthetic weight file, about 2 minutes) is part of
# the suite; set ZOO2TF_MIRROR_FULL_CATALOG=0 to skip it in a quick local run.
export ZOO2TF_MIRROR_FULL_CATALOG=${ZOO2TF_MIRROR_FULL_CATALOG:-1}
set +e
"$root/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
exit $rc
