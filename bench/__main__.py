"""`python -m bench [NAME ...] [--quick]`: run the benchmarks (all, or those named) on one embedded PostgreSQL and
one simulator, and print one table of every figure. A missed target is a measurement, not a failure: the exit code
is 0; 2 on bad arguments. Progress goes to stderr, the table to stdout."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import math
import sys
from collections.abc import Sequence
from types import ModuleType

from rich import box
from rich.console import Console
from rich.table import Table

from bench._suite import Env, Figure, started
from tests.support import database

#: The suite, in the order it runs: module names of ``bench/``, imported only when their benchmark runs.
REGISTRY = ("execution", "approve_to_order", "throughput", "scan_scale", "restart", "reconcile_weight")
NAMES = {module.replace("_", "-"): module for module in REGISTRY}


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the benchmarks and print one table of figures, each against a "
        "baseline measured in the same run.", epilog=f"benchmarks: {', '.join(NAMES)}")
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny volumes: runs the code, the figures mean nothing")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; the benchmarks are: {', '.join(NAMES)}")
    return args


def load(name: str) -> ModuleType | None:
    """The benchmark's module; None only when the module itself does not exist yet (any other import error,
    including a missing module it imports, is a bug and propagates)."""
    module = f"bench.{NAMES[name]}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


async def run_all(env: Env, names: Sequence[str], quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        module = load(name)
        if module is None:
            env.progress(f"{name}: not built")
            figures.append(Figure(name, "not built", math.nan, ""))
            continue
        if name != module.NAME:
            raise RuntimeError(f"bench/{NAMES[name]}.py says NAME = {module.NAME!r}; the registry calls it {name!r}")
        env.progress(f"{name}: running")
        figures += await module.run(env, quick=quick)
    return figures


def table(figures: Sequence[Figure]) -> Table:
    out = Table(title="Benchmarks (each figure against a baseline measured in the same run)", box=box.SIMPLE)
    for column in ("benchmark", "figure", "value", "baseline", "ratio", "target", "met"):
        out.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for f in figures:
        value = "–" if math.isnan(f.value) else f"{f.value:.{_digits(f.value)}f} {f.unit}".rstrip()
        ratio = "–" if f.ratio is None else f"{f.ratio:.2f}x"
        met = "–" if f.met is None else ("✓" if f.met else "✗")
        out.add_row(f.benchmark, f.name, value, f.baseline or "–", ratio, f.target or "–", met)
    return out


def _digits(value: float) -> int:
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    names = args.names or list(NAMES)
    with database.private_home("autoinvest-bench-") as tmp, started(tmp) as env:
        figures = asyncio.run(run_all(env, names, args.quick))
    # A wide console when not on a terminal: a wrapped row would split a figure from its value.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
