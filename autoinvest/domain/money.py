"""Money is Decimal from the moment it is parsed; never float."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

EUR_CENT = Decimal("0.01")


def parse_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Parse a string or int into a finite Decimal; floats are refused (they already lost precision)."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{field}: floats are not accepted for money, pass a string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    else:
        raise ValueError(f"{field}: {type(value).__name__} is not a number")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not finite")
    return result


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of ``step`` (exchange precision never rounds up a spend)."""
    if step <= 0:
        raise ValueError("step must be positive")
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step
