"""Named points between the execution steps where a test can make the process die as kill -9 would."""

from __future__ import annotations

import os
import signal

POINTS = ("after-claim-commit", "after-submitting-commit", "before-send", "after-send-before-record", "after-record")


def failpoint(name: str) -> None:
    """Kill this process at once when AUTOINVEST_FAILPOINT names this point (read each time: tests set it)."""
    assert name in POINTS, name
    if os.environ.get("AUTOINVEST_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
