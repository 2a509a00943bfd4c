"""What every benchmark shares: the figure it reports and the environment it runs in.

A benchmark is a module of ``bench/`` with ``NAME`` (as given on the command line) and
``async def run(env: Env, *, quick: bool) -> list[Figure]``. ``quick`` shrinks the volumes so that the smoke test
in ``make test`` runs the code in seconds; its figures mean nothing. Every figure is compared to a baseline
measured in the same run (these machines are noisy), and says whether it meets the issue's target.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support import database
from tests.support.simulator import RunningSimulator, start_simulator


@dataclass(frozen=True)
class Figure:
    benchmark: str  #: e.g. "execution"
    name: str  #: e.g. "hardened / bare at p50"
    value: float
    unit: str  #: "ms", "/s", "x", "weight", "requests"
    baseline: str = ""  #: what the value is compared to, with its own figure ("bare order p50 5.1 ms")
    ratio: float | None = None  #: value / baseline, where there is one
    target: str = ""  #: the issue's target in words ("<= 3x"); empty when there is none
    met: bool | None = None  #: None when there is no target


@dataclass(frozen=True)
class Env:
    tmp: Path
    db: database.DatabaseUnderTest
    sim: RunningSimulator

    def progress(self, message: str) -> None:
        """One line on stderr: long set-ups show that they are moving."""
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def started(tmp: Path) -> Iterator[Env]:
    """An embedded PostgreSQL (migrated, with the component roles) and the simulator, for one run."""
    db = database.start(tmp / "pg")
    try:
        with start_simulator(seed=1, state=tmp / "sim-state.json") as sim:
            yield Env(tmp=tmp, db=db, sim=sim)
    finally:
        database.stop(db)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_alone(run: Callable[[Env], Coroutine[object, object, list[Figure]]]) -> None:
    """``python -m bench.<module>``: one benchmark on its own database and simulator, its figures printed."""
    with tempfile.TemporaryDirectory() as tmp, started(Path(tmp)) as env:
        for figure in asyncio.run(run(env)):
            print(figure)
