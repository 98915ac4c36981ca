"""`zoo2tf mirror serve` as a real process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_serve_prints_urls_and_env_and_applies_flags(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoo2tf", "mirror", "serve", "--weights", "none", "--cache-dir", str(tmp_path),
         "--wiki-revision", "2016-03-02", "--faults", "/api/gists/*=500:1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip().startswith("export ZOO2TF_GITHUB_API="):
                break
        env = dict(l.removeprefix("export ").split("=", 1) for l in lines if l.startswith("export "))
        assert env["ZOO2TF_CATALOG_URL"].startswith("http://127.0.0.1:")
        wiki = requests.get(env["ZOO2TF_CATALOG_URL"], timeout=10)
        assert wiki.headers["Last-Modified"].endswith("Mar 2016 17:28:05 GMT")
        gist = f"{env['ZOO2TF_GITHUB_API']}/gists/mirror-lenet-mnist"
        assert [requests.get(gist, timeout=10).status_code for _ in range(2)] == [500, 200]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Traceback" not in proc.stderr.read()


def test_bad_fault_spec_is_one_line_error() -> None:
    done = subprocess.run([sys.executable, "-m", "zoo2tf", "mirror", "serve", "--faults", "*=drop"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "zoo2tf mirror: fault rule '*=drop': 'drop' takes 1 to 2 argument(s), got 0"
