"""`python -m bench` arguments, in process (no database): --help lists the benchmarks, a bad name exits 2 with
the list; a benchmark module that does not exist yet is "not built", and that is the only tolerance."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench
from bench import __main__ as runner


def test_help_lists_every_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        runner.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("execution", "approve-to-order", "throughput", "scan-scale", "restart",
                                        "reconcile-weight")), out


def test_a_bad_name_exits_2_naming_the_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        runner.main(["execution", "no-such-bench"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "unknown benchmark no-such-bench" in err and "approve-to-order" in err, err


def test_only_a_missing_benchmark_module_is_tolerated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "_broken_bench.py").write_text("import a_module_that_does_not_exist\n")
    monkeypatch.setattr(bench, "__path__", [*bench.__path__, str(tmp_path)])
    monkeypatch.setitem(runner.NAMES, "ghost", "_ghost_bench")
    monkeypatch.setitem(runner.NAMES, "broken", "_broken_bench")
    assert runner.load("ghost") is None
    with pytest.raises(ModuleNotFoundError, match="a_module_that_does_not_exist"):
        runner.load("broken")
