"""`zoo2tf dashboard`: the web dashboard over the catalog (Streamlit, read-only)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
DEFAULT_PORT = 8501


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="serve the web dashboard over the catalog (read-only)",
        description="Start the Streamlit dashboard on the catalog database; it only reads.")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="catalog database URL (default: $ZOO2TF_DB_URL, else the SQLite "
                             "file in the data directory)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.set_defaults(func=run)


def streamlit_command(port: int, host: str) -> list[str]:
    """`streamlit run` on the app, headless, without usage statistics."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless=true", "--browser.gatherUsageStats=false",
            f"--server.address={host}", f"--server.port={port}",
            "--server.fileWatcherType=none", "--client.toolbarMode=minimal"]


def run(args: argparse.Namespace) -> int:
    from zoo2tf.config import default_db_url

    env = {**os.environ, "ZOO2TF_DB_URL": args.db or default_db_url()}
    print(f"zoo2tf dashboard: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(streamlit_command(args.port, args.host), env=env)
    except KeyboardInterrupt:
        return 0
