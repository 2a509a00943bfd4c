"""Pure parsing and validation of operator input; every refusal is an InputError with a reason code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

from autoinvest.domain.states import CONFIDENCE_BUCKETS, CredentialPurpose, Side
from autoinvest.errors import InputError

EUR_CENT = Decimal("0.01")
MAX_EUR = Decimal("1000000000")  # a sanity bound: larger is a typo, not an allocation
# Only EUR-quoted markets: every profile's capital is EUR (profiles.quote_currency CHECK).
_MARKET = re.compile(r"^[A-Z0-9]{1,20}-EUR$")
_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TTL = re.compile(r"^([0-9]+)([smhd]?)$")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL = timedelta(days=1)
BASE_DECIMALS = 12  # finer than any market's quantity precision; more digits are a typo
MAX_BASE = Decimal("1000000000")


def parse_uuid(text: str, *, field: str = "id") -> UUID:
    """A UUID from its text form."""
    try:
        return UUID(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"{field}: {text!r} is not a UUID", reason="ID_INVALID") from None


def _plain_decimal(text: str, *, field: str, example: str) -> Decimal:
    # Exponents, floats' garbage and NaN are refused: an amount is written the way a person writes money.
    raw = text.strip()
    if not _PLAIN_DECIMAL.match(raw):
        raise InputError(f"{field}: {text!r} is not a plain decimal number like {example}", reason="AMOUNT_INVALID")
    return Decimal(raw)


def parse_eur(text: str, *, field: str = "amount") -> Decimal:
    """A positive EUR amount from plain decimal text ("12.50")."""
    return require_eur(_plain_decimal(text, field=field, example="12.50"), field=field)


def require_eur(value: Decimal, *, field: str = "amount") -> Decimal:
    """Check a Decimal EUR amount: finite, positive, at most cents, below a sanity bound."""
    return _require_amount(value, field=field, maximum=MAX_EUR, places=2, unit="EUR")


def parse_base_amount(text: str, *, field: str = "amount_base") -> Decimal:
    """A positive base-asset quantity from plain decimal text ("0.0015")."""
    return require_base_amount(_plain_decimal(text, field=field, example="0.0015"), field=field)


def require_base_amount(value: Decimal, *, field: str = "amount_base") -> Decimal:
    """Check a Decimal base quantity: finite, positive, at most BASE_DECIMALS places, below a sanity bound."""
    return _require_amount(value, field=field, maximum=MAX_BASE, places=BASE_DECIMALS, unit="units")


def _require_amount(value: Decimal, *, field: str, maximum: Decimal, places: int, unit: str) -> Decimal:
    # A runtime check as well as a type hint: a float here has already lost precision.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InputError(f"{field}: {value!r} must be a finite Decimal", reason="AMOUNT_INVALID")
    if value <= 0:
        raise InputError(f"{field}: {value} must be positive", reason="AMOUNT_NOT_POSITIVE")
    if value > maximum:
        raise InputError(f"{field}: {value} is above {maximum} {unit}", reason="AMOUNT_INVALID")
    try:
        exact = value.quantize(Decimal(1).scaleb(-places)) == value
    except InvalidOperation:
        exact = False
    if not exact:
        raise InputError(f"{field}: {value} has more than {places} decimal places", reason="AMOUNT_INVALID")
    return value


def parse_int(text: str, *, field: str, minimum: int = 0, maximum: int = 1_000_000) -> int:
    """A non-negative integer from digits only, within [minimum, maximum]."""
    raw = text.strip()
    if not _INTEGER.match(raw):
        raise InputError(f"{field}: {text!r} is not a whole number", reason="INTEGER_INVALID")
    return require_int(int(raw), field=field, minimum=minimum, maximum=maximum)


def require_int(value: int, *, field: str, minimum: int = 0, maximum: int = 1_000_000) -> int:
    """Check an integer is within [minimum, maximum] (bool is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(f"{field}: {value!r} must be a whole number in [{minimum}, {maximum}]",
                         reason="INTEGER_INVALID")
    return value


def parse_confidence(text: str, *, field: str = "confidence") -> int:
    """A confidence bucket (0, 25, 50, 75 or 100) from text."""
    raw = text.strip()
    if not _INTEGER.match(raw):
        raise InputError(f"{field}: {text!r} must be one of 0, 25, 50, 75, 100", reason="CONFIDENCE_INVALID")
    return require_confidence(int(raw), field=field)


def require_confidence(value: int, *, field: str = "confidence") -> int:
    """Check a confidence is one of the buckets."""
    if isinstance(value, bool) or value not in CONFIDENCE_BUCKETS:
        raise InputError(f"{field}: {value!r} must be one of 0, 25, 50, 75, 100", reason="CONFIDENCE_INVALID")
    return value


def parse_market(text: str) -> str:
    """A market id like BTC-EUR (upper case, EUR quote)."""
    market = text.strip()
    if not _MARKET.match(market):
        raise InputError(f"market {text!r} must look like BTC-EUR (upper case letters/digits, EUR quote)",
                         reason="MARKET_INVALID")
    return market


def parse_markets(text: str) -> tuple[str, ...]:
    """A comma-separated allowlist; duplicates dropped, order kept; empty is refused."""
    markets = tuple(dict.fromkeys(parse_market(part) for part in text.split(",")))
    return require_markets(markets)


def require_listed(markets: tuple[str, ...], listing: Mapping[str, str]) -> tuple[str, ...]:
    """Check that the user's exchange lists each market (``listing``: market -> status) and trades it: a market it
    does not know would fail every later call for it (reconciliation included)."""
    for market in markets:
        status = listing.get(market)
        if status is None:
            raise InputError(f"market {market} is not listed by the exchange (it lists {len(listing)} markets, "
                             f"e.g. {', '.join(sorted(listing)[:5]) or 'none'})", reason="MARKET_NOT_LISTED")
        if status != "trading":
            raise InputError(f"market {market} is {status!r} on the exchange, not trading", reason="MARKET_NOT_TRADING")
    return markets


def require_markets(markets: tuple[str, ...]) -> tuple[str, ...]:
    """Check an allowlist: at least one market, each well-formed."""
    if not markets:
        raise InputError("the allowlist needs at least one market (an empty one denies everything)",
                         reason="MARKET_INVALID")
    for market in markets:
        parse_market(market)
    return markets


def parse_side(text: str) -> Side:
    """buy or sell."""
    try:
        return Side(text.strip().lower())
    except ValueError:
        raise InputError(f"side {text!r} must be buy or sell", reason="SIDE_INVALID") from None


def parse_purpose(text: str) -> CredentialPurpose:
    """readonly or trade."""
    try:
        return CredentialPurpose(text.strip().lower())
    except ValueError:
        raise InputError(f"purpose {text!r} must be readonly or trade", reason="PURPOSE_INVALID") from None


def parse_ttl(text: str) -> timedelta:
    """A time to live like 90s, 10m, 2h or 1d (plain digits are seconds), at most one day."""
    match = _TTL.match(text.strip().lower())
    if not match:
        raise InputError(f"ttl {text!r} must look like 90s, 10m, 2h or 1d", reason="TTL_INVALID")
    return require_ttl(timedelta(seconds=int(match.group(1)) * _TTL_UNITS[match.group(2)]))


def require_ttl(ttl: timedelta) -> timedelta:
    """Check a time to live is positive, whole seconds, and at most a day."""
    if ttl <= timedelta(0) or ttl > MAX_TTL or ttl.microseconds:
        raise InputError(f"ttl {ttl} must be whole seconds between 1s and {MAX_TTL}", reason="TTL_INVALID")
    return ttl


def parse_email(text: str) -> str:
    """An e-mail address (shape only)."""
    email = text.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InputError(f"email {text!r} is not an e-mail address", reason="EMAIL_INVALID")
    return email


def require_name(name: str) -> str:
    """A profile name: 1 to 100 characters, not only blanks."""
    if not name.strip() or len(name) > 100:
        raise InputError("profile name must be 1 to 100 characters", reason="NAME_INVALID")
    return name
