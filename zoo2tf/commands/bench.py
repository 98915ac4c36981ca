"""`zoo2tf bench`: list or run the benchmarks in bench/ (numbers go to bench/results/)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def available() -> dict[str, str]:
    """Benchmark name -> the first line of its docstring."""
    found = {}
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        doc = text.split('"""')[1].strip().splitlines()[0] if text.startswith('"""') else ""
        found[path.stem] = doc
    return found


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="list or run benchmarks (results in bench/results/*.json)",
        description="Without names, list the benchmarks. With names, run each one as "
                    "`python -m bench.NAME` (its own options after `--`).")
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    benches = available()
    if not args.names:
        for name, doc in benches.items():
            print(f"{name:20} {doc}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        print(f"zoo2tf bench: unknown benchmark(s): {', '.join(unknown)} "
              f"(known: {', '.join(benches)})", file=sys.stderr)
        return 2
    extra = [a for a in args.extra if a != "--"]
    for name in args.names:
        done = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra],
                              cwd=BENCH_DIR.parent)
        if done.returncode != 0:
            return done.returncode
    return 0
