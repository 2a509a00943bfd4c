"""Money is Decimal from the moment it is parsed; never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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
    """Round toward zero to a multiple of ``step`` (exchange precision never rounds up a spend); a quotient
    beyond the context's 28 digits raises InvalidOperation rather than being rounded."""
    if step <= 0:
        raise ValueError("step must be positive")
    # Integer division is exact (it refuses a quotient beyond the context's precision instead of rounding it):
    # value / step would round to 28 digits first and could land on the next multiple up.
    return (value // step) * step
