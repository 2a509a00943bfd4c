"""The scale benchmarks (scan-scale, restart, reconcile-weight) run end to end with tiny volumes (`--quick`): every
figure is in the table with a number. No timing is asserted: the figures of a quick run mean nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

#: The start of each figure's name (the table wraps long names onto more lines).
FIGURES = {
    "scan-scale": ("profiles scanned/s", "worker time per", "p99 lag behind", "candle requests"),
    "restart": ("start to 'recovery", "start to the", "open orders still", "profiles paused"),
    "reconcile-weight": ("weight per profile", "weight per profile", "weight per profile", "weight per profile"),
}
NUMBER = r"\d+(?:\.\d+)?"


def test_quick_run_prints_every_scale_figure_with_a_value() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "bench", *FIGURES, "--quick"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's database, simulator and workers are in its group
        out, err = proc.communicate()
        pytest.fail(f"python -m bench --quick did not finish:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    for benchmark, names in FIGURES.items():
        rows = re.findall(rf"^\s*{re.escape(benchmark)}\s+(.*?)\s({NUMBER}) \S", out, re.MULTILINE)
        assert [name for name in names if not any(r[0].startswith(name) for r in rows)] == [], out
        assert len(rows) == len(names), f"{benchmark}: {len(rows)} rows with a value, not {len(names)}:\n{out}"
    assert "not built" not in out, out
