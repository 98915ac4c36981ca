#!/usr/bin/env bash
# Create or refresh .venv with zoo2tf (editable) and its test tools.
# Idempotent: a stamp of pyproject.toml + constraints.txt skips pip when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"

find_python() {
    local c
    for c in "${ZOO2TF_PYTHON:-}" python3.11 "$HOME/.pyenv/versions/3.11.7/bin/python3" python3; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    echo "zoo2tf needs Python 3.11 (set ZOO2TF_PYTHON to its path)" >&2
    return 1
}

stamp=$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha1sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
    "$(find_python)" -m venv "$venv"
fi
if [ "$(cat "$venv/.zoo2tf-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "zoo2tf: installing dependencies into $venv (about a minute on a fresh machine)" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -c "$root/constraints.txt" -e "$root[test]"
    echo "$stamp" > "$venv/.zoo2tf-stamp"
fi
