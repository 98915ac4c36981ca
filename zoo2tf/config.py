"""Where zoo2tf keeps its data, and the environment variables that move it.

Every setting has a flag in the CLI and an environment variable here; the flag wins.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Root for the catalog database, the artifact store and converted models."""
    return Path(os.environ.get("ZOO2TF_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def default_db_url() -> str:
    return os.environ.get("ZOO2TF_DB_URL") or f"sqlite:///{data_dir() / 'catalog.sqlite'}"


def default_store_url() -> str:
    return os.environ.get("ZOO2TF_STORE") or str(data_dir() / "store")


def models_dir() -> Path:
    return Path(os.environ.get("ZOO2TF_MODELS_DIR", data_dir() / "models")).resolve()


def catalog_url() -> str:
    """Raw markdown of the Model Zoo wiki page (the offline mirror sets its own)."""
    return os.environ.get("ZOO2TF_CATALOG_URL") or (
        "https://raw.githubusercontent.com/wiki/BVLC/caffe/Model-Zoo.md")


def github_api_base() -> str:
    return os.environ.get("ZOO2TF_GITHUB_API") or "https://api.github.com"


def github_token() -> str | None:
    return os.environ.get("ZOO2TF_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN") or None
