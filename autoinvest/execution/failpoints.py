"""Named points between the execution steps where a test can make the process die as kill -9 would.

A subprocess is armed with AUTOINVEST_FAILPOINT=<name> and AUTOINVEST_TEST_HOOKS=true, and is killed by SIGKILL
there; without the hooks setting, or in live mode, the variable does nothing (load_settings refuses it live).
In-process tests arm a point with :func:`armed` instead, which raises :class:`SimulatedCrash`: every failpoint
sits between transactions, so unwinding there leaves the database exactly as a kill would.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

POINTS = ("after-claim-commit", "after-submitting-commit", "before-send", "after-send-before-record", "after-record")
#: How pydantic spells a true bool (Settings.test_hooks, Settings.live), read here without loading the settings.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_armed_in_process: set[str] = set()
_delays_in_process: dict[str, float] = {}


class SimulatedCrash(BaseException):
    """The process "died" at a failpoint (in-process tests only)."""


def failpoint(name: str) -> None:
    """Die here when this point is armed (read each time: tests arm and disarm it)."""
    assert name in POINTS, name
    if name in _delays_in_process:
        time.sleep(_delays_in_process[name])  # blocks the loop as a stalled process would
    if name in _armed_in_process:
        raise SimulatedCrash(name)
    if os.environ.get("AUTOINVEST_FAILPOINT") == name and _hooks_active():
        os.kill(os.getpid(), signal.SIGKILL)


def _hooks_active() -> bool:
    """AUTOINVEST_TEST_HOOKS is on and AUTOINVEST_LIVE is not (Settings.test_hooks_active, from the environment)."""
    def on(variable: str) -> bool:
        return os.environ.get(variable, "").strip().lower() in _TRUE

    return on("AUTOINVEST_TEST_HOOKS") and not on("AUTOINVEST_LIVE")


@contextmanager
def armed(name: str) -> Iterator[None]:
    """Arm a failpoint in this process for the duration of the block."""
    assert name in POINTS, name
    _armed_in_process.add(name)
    try:
        yield
    finally:
        _armed_in_process.discard(name)


@contextmanager
def delayed(name: str, seconds: float) -> Iterator[None]:
    """Stall this process at a failpoint for ``seconds`` (e.g. a pause between the SUBMITTING commit and the
    send), for the duration of the block."""
    assert name in POINTS, name
    _delays_in_process[name] = seconds
    try:
        yield
    finally:
        _delays_in_process.pop(name, None)
