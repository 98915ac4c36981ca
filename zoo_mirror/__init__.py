"""The offline zoo mirror: a local HTTP replica of the Model Zoo's hosts (wiki, gists, weights)."""
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
