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
set +e
"$root/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
exit $rc
