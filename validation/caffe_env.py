"""The Python 3.9 virtual environment that holds real pycaffe (kendryte-caffe).

Real Caffe only exists as a cp39 wheel that needs numpy 1 and protobuf 3, so it can never
share the project's interpreter; it lives in its own venv and is driven as a subprocess
(see caffe_reference). Creating the venv is idempotent: an existing, working one is reused.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zoo2tf.config import data_dir

CAFFE_REQUIREMENTS: tuple[str, ...] = (
    "kendryte-caffe==1.0.0.20210829",
    "numpy==1.26.4",
    "protobuf==3.20.3",
    "scipy==1.12.0",
    "scikit-image==0.22.0",
)
PYENV_PYTHON39 = Path("/root/.pyenv/versions/3.9.18/bin/python3.9")
_READY_MARKER = "zoo2tf-caffe-ready"


class CaffeEnvError(RuntimeError):
    """The real-Caffe venv cannot be created or used; the message says why in one line."""


@dataclass(frozen=True)
class CaffeEnv:
    path: Path
    python: Path

    @property
    def created_marker(self) -> Path:
        return self.path / _READY_MARKER


def default_env_dir() -> Path:
    """ZOO2TF_CAFFE_ENV, else <data dir>/caffe-py39."""
    configured = os.environ.get("ZOO2TF_CAFFE_ENV")
    return Path(configured).resolve() if configured else data_dir() / "caffe-py39"


def find_python39() -> Path | None:
    """A working Python 3.9: ZOO2TF_PYTHON39, pyenv's 3.9 builds, or python3.9 on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [os.environ.get("ZOO2TF_PYTHON39"), str(PYENV_PYTHON39),
                  *sorted(str(p) for p in pyenv_root.glob("versions/3.9.*/bin/python3.9")),
                  shutil.which("python3.9")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _is_python39(candidate):
            return Path(candidate)
    return None


def _is_python39(interpreter: str) -> bool:
    # A pyenv shim exists on PATH even when it has no 3.9 to run: ask the interpreter itself.
    check = "import sys; sys.exit(sys.version_info[:2] != (3, 9))"
    try:
        return subprocess.run([interpreter, "-c", check], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def locate_caffe_env(path: Path | None = None) -> CaffeEnv | None:
    """The venv at `path` (default: default_env_dir()) if it was completely created, else None."""
    env_dir = Path(path) if path else default_env_dir()
    env = CaffeEnv(path=env_dir, python=env_dir / "bin" / "python")
    if env.created_marker.is_file() and env.python.exists():
        return env
    return None


def ensure_caffe_env(path: Path | None = None, *, python39: Path | None = None) -> CaffeEnv:
    """Create (or reuse) the real-Caffe venv and check that `import caffe` works in it.

    Safe to call from concurrent processes: creation holds a lock beside the venv.
    """
    existing = locate_caffe_env(path)
    if existing is not None:
        return existing
    env_dir = Path(path) if path else default_env_dir()
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(env_dir.parent / f".{env_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return locate_caffe_env(env_dir) or _create(env_dir, python39)


def _create(env_dir: Path, python39: Path | None) -> CaffeEnv:
    interpreter = python39 or find_python39()
    if interpreter is None:
        raise CaffeEnvError(
            "no Python 3.9 interpreter found (set ZOO2TF_PYTHON39 or put python3.9 on PATH); "
            "real Caffe only exists for Python <= 3.9")
    env = CaffeEnv(path=env_dir, python=env_dir / "bin" / "python")
    _run([str(interpreter), "-m", "venv", "--clear", str(env_dir)], f"creating venv {env_dir}")
    _run([str(env.python), "-m", "pip", "install", "--quiet", *CAFFE_REQUIREMENTS],
         f"installing real Caffe into {env_dir}")
    _run([str(env.python), "-c", "import caffe"], f"importing caffe in {env_dir}")
    env.created_marker.write_text("\n".join(CAFFE_REQUIREMENTS) + "\n")
    return env


def _run(command: list[str], what: str) -> None:
    # pip must resolve against the venv's own numpy 1 / protobuf 3, not the project's pins.
    clean = {k: v for k, v in os.environ.items() if k not in ("PIP_CONSTRAINT", "PYTHONPATH")}
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=clean)
    except OSError as err:
        raise CaffeEnvError(f"{what} failed: {command[0]}: {err.strerror}") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines()
                 if line.strip() and not line.startswith("WARNING: Location")]
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        raise CaffeEnvError(f"{what} failed: {detail}")
