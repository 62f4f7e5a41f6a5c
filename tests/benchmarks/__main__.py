"""Run the benchmarks: ``python -m tests.benchmarks [AREA ...] [--quick] [--workdir DIR]``."""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

from . import AREA_MODULES
from .harness import AREAS, FIGURES, Context, log, print_table, write_json


def main(argv: list[str] | None = None) -> int:
    for module in AREA_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("areas", nargs="*", metavar="AREA", help=f"areas to run (default: all of {', '.join(AREAS)})")
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one, removed after)")
    args = parser.parse_args(argv)
    unknown = [a for a in args.areas if a not in AREAS]
    if unknown:
        parser.error(f"unknown area(s) {', '.join(unknown)}; known: {', '.join(AREAS)}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chronology-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    shared: dict = {}
    try:
        for name in args.areas or list(AREAS):
            log(f"area {name}{' (quick)' if args.quick else ''}")
            area_dir = workdir / name
            area_dir.mkdir(exist_ok=True)
            AREAS[name](Context(quick=args.quick, workdir=area_dir, shared=shared))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(FIGURES)
    print()
    for figure in FIGURES:
        print(figure.bench_line())
    directory = write_json(FIGURES, args.quick)
    log(f"results written to {directory}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
