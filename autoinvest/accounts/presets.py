"""Risk presets: named starting points for a profile's policy. Pure: no I/O.

observer  never auto-approves; every proposal waits for a human.
hunter    auto-approves at confidence >= 75, larger orders, shorter cooldowns.
semiauto  auto-approves at confidence >= 50, but with small caps (25 EUR, 3 trades a day, 1 an hour).

Explicit values override the preset's; without a preset the schema's defaults apply and the
profile's ``risk_preset`` is ``custom``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Final

from autoinvest.accounts.inputs import require_confidence, require_eur, require_int
from autoinvest.errors import InputError

STRATEGIES: Final = ("dca", "momentum", "mean_reversion", "llm")
PRESET_NAMES: Final = ("observer", "hunter", "semiauto")
CUSTOM: Final = "custom"


@dataclass(frozen=True, kw_only=True)
class PolicySettings:
    """The tunable part of a profile and its policy (the allowlist and the allocation are separate)."""

    auto_approve_threshold: int | None  #: None = never auto-approve
    min_order_eur: Decimal
    max_order_eur: Decimal
    min_confidence: int
    cooldown_minutes: int
    anti_flip_minutes: int
    max_trades_per_day: int
    max_trades_per_hour: int
    scan_interval_seconds: int
    strategy: str

    @property
    def allowed_confidences(self) -> tuple[int, ...]:
        """The buckets at or above min_confidence (kept consistent rather than set separately)."""
        return tuple(c for c in (0, 25, 50, 75, 100) if c >= self.min_confidence)


#: The schema's column defaults, never auto-approving: what a profile gets with no preset.
DEFAULTS: Final = PolicySettings(
    auto_approve_threshold=None, min_order_eur=Decimal("5"), max_order_eur=Decimal("100"), min_confidence=50,
    cooldown_minutes=60, anti_flip_minutes=240, max_trades_per_day=10, max_trades_per_hour=3,
    scan_interval_seconds=300, strategy="momentum",
)

PRESETS: Final[Mapping[str, PolicySettings]] = {
    "observer": DEFAULTS,
    "hunter": replace(DEFAULTS, auto_approve_threshold=75, max_order_eur=Decimal("250"), cooldown_minutes=30,
                      anti_flip_minutes=120, max_trades_per_day=20, max_trades_per_hour=5, scan_interval_seconds=120),
    "semiauto": replace(DEFAULTS, auto_approve_threshold=50, max_order_eur=Decimal("25"), max_trades_per_day=3,
                        max_trades_per_hour=1),
}

FIELDS: Final = frozenset(f.name for f in fields(PolicySettings))


def resolve(preset: str | None, overrides: Mapping[str, object] | None = None) -> tuple[str, PolicySettings]:
    """The profile's risk_preset name and policy: the preset's values, then each given override, validated.

    ``overrides`` holds only the values the operator gave; ``auto_approve_threshold=None`` there means
    "never auto-approve", not "unset".
    """
    if preset is None:
        name, base = CUSTOM, DEFAULTS
    elif preset in PRESETS:
        name, base = preset, PRESETS[preset]
    else:
        raise InputError(f"preset {preset!r} must be one of {', '.join(PRESET_NAMES)}", reason="PRESET_INVALID")
    given = dict(overrides or {})
    unknown = set(given) - FIELDS
    if unknown:
        raise ValueError(f"unknown policy settings {sorted(unknown)}")  # a programming error, not input
    settings = replace(base, **given)  # type: ignore[arg-type]
    validate(settings)
    return name, settings


def validate(s: PolicySettings) -> PolicySettings:
    """Raise InputError (with a reason code) unless the settings are coherent."""
    require_eur(s.min_order_eur, field="min_order_eur")
    require_eur(s.max_order_eur, field="max_order_eur")
    if s.min_order_eur > s.max_order_eur:
        raise InputError(f"min_order_eur {s.min_order_eur} is above max_order_eur {s.max_order_eur}",
                         reason="MIN_ABOVE_MAX")
    require_confidence(s.min_confidence, field="min_confidence")
    if s.auto_approve_threshold is not None:
        require_confidence(s.auto_approve_threshold, field="auto_approve")
        # Auto-approving what the policy then refuses would only fill the audit log with denials.
        if s.auto_approve_threshold < s.min_confidence:
            raise InputError(f"auto_approve {s.auto_approve_threshold} is below min_confidence {s.min_confidence}",
                             reason="AUTO_APPROVE_BELOW_MIN_CONFIDENCE")
    require_int(s.cooldown_minutes, field="cooldown_minutes", maximum=525_600)
    require_int(s.anti_flip_minutes, field="anti_flip_minutes", maximum=525_600)
    require_int(s.max_trades_per_day, field="max_trades_per_day", maximum=10_000)
    require_int(s.max_trades_per_hour, field="max_trades_per_hour", maximum=10_000)
    if s.max_trades_per_hour > s.max_trades_per_day:
        raise InputError(f"max_trades_per_hour {s.max_trades_per_hour} is above max_trades_per_day "
                         f"{s.max_trades_per_day}", reason="MIN_ABOVE_MAX")
    require_int(s.scan_interval_seconds, field="scan_interval_seconds", minimum=5, maximum=86_400)
    if s.strategy not in STRATEGIES:
        raise InputError(f"strategy {s.strategy!r} must be one of {', '.join(STRATEGIES)}",
                         reason="STRATEGY_INVALID")
    return s
