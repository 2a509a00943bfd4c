"""Every benchmark runs end to end with tiny volumes (`--quick`), in one run as `make bench` does: every figure is
in the one table with a number (and a ratio where it has a baseline). No timing is asserted: the figures of a
quick run mean nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

#: benchmark -> the start of each figure's name (the table wraps long names), and whether the row has a ratio
#: (None: either).
FIGURES = {
    "execution": (("hardened p50", True), ("hardened p99", True)),
    "approve-to-order": (("approve -> order p50", True), ("approve -> order p99", True)),
    "throughput": (("1 executor", True), ("4 executors", True), ("4 executors / 1 executor", True),
                   ("wasted execute calls, 4 executors", True), ("machine CPU per order", False),
                   ("4 executors / the CPU ceiling", True)),
    "scan-scale": (("profiles scanned/s", None), ("worker time per", None), ("p99 lag behind", None),
                   ("candle requests", None)),
    "restart": (("start to 'recovery", None), ("start to the", None), ("open orders still", None),
                ("profiles paused", None)),
    "reconcile-weight": (("weight per profile", None),) * 4,
}
NUMBER = r"\d+(?:\.\d+)?"


def test_quick_run_prints_every_figure_with_a_value() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "bench", *FIGURES, "--quick"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=400)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's database, simulator and workers are in its group
        out, err = proc.communicate()
        pytest.fail(f"python -m bench --quick did not finish:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    for benchmark, figures in FIGURES.items():
        row = re.compile(rf"^\s*{re.escape(benchmark)}\s+(.*?)\s{NUMBER} \S")
        found = [(m[1], re.search(rf"\s{NUMBER}x\s", line) is not None)
                 for line in out.splitlines() if (m := row.match(line))]
        assert len(found) == len(figures), f"{benchmark}: {len(found)} rows with a value, not {len(figures)}:\n{out}"
        for (name, with_ratio), (row_name, has_ratio) in zip(figures, found, strict=True):
            wrapped = name.startswith(row_name) or row_name.startswith(name)  # a long name wraps onto more lines
            assert wrapped and with_ratio in (None, has_ratio), (benchmark, name, row_name, out)
    assert "not built" not in out, out
