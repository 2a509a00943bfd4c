"""The clock-skew fence's rule (guarantee 16), pure: may an order be sent, given the last measurement?

"Not found after the window" means "never placed" only if the exchange checks our signed timestamp against a
clock close to ours. So an order waits while the last measured skew, widened by half its round trip (the
measurement's own uncertainty), exceeds the bound, or while no measurement is fresh enough to say.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOCK_SKEW_EXCEEDED = "CLOCK_SKEW_EXCEEDED"
CLOCK_SKEW_UNMEASURED = "CLOCK_SKEW_UNMEASURED"


@dataclass(frozen=True)
class SkewMeasurement:
    skew_ms: int  # exchange time minus database time; negative when the exchange is behind
    round_trip_ms: int
    age_s: float  # database now() minus the measurement's time


def skew_refusal(last: SkewMeasurement | None, *, bound_ms: int, max_age_s: float) -> str | None:
    """The reason no order may be sent now, or None."""
    if last is None or last.age_s > max_age_s:
        return CLOCK_SKEW_UNMEASURED
    if abs(last.skew_ms) + last.round_trip_ms // 2 > bound_ms:
        return CLOCK_SKEW_EXCEEDED
    return None
