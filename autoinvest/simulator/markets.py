"""Static market and asset metadata, fee rates and Decimal helpers shared by the simulator."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Decimal

TAKER_FEE = Decimal("0.0025")
MAKER_FEE = Decimal("0.0015")
FEE_VOLUME = "10000.00"
QUOTE = "EUR"
QUOTE_DECIMALS = 2
# Fees and notionals keep 8 decimals so that balances move exactly by what the order reports.
FEE_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class MarketSpec:
    market: str
    base: str
    tick_size: Decimal
    quantity_decimals: int
    min_base: Decimal
    min_quote: Decimal
    start_price: Decimal
    drift_per_day: Decimal  # expected relative move per simulated day
    vol_per_day: Decimal  # standard deviation of the relative move per simulated day
    level_size: Decimal  # base size of one synthetic book level (also what a resting order fills per touch)
    status: str = "trading"

    @property
    def quote(self) -> str:
        return QUOTE

    @property
    def amount_quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.quantity_decimals)


@dataclass(frozen=True)
class AssetSpec:
    symbol: str
    name: str
    decimals: int
    network: str
    withdrawal_fee: str


MARKETS: dict[str, MarketSpec] = {
    m.market: m
    for m in (
        MarketSpec("BTC-EUR", "BTC", Decimal("1"), 8, Decimal("0.00006100"), Decimal("5"), Decimal("60000"),
                   Decimal("0.001"), Decimal("0.03"), Decimal("0.01")),
        MarketSpec("ETH-EUR", "ETH", Decimal("0.01"), 8, Decimal("0.0016"), Decimal("5"), Decimal("3000"),
                   Decimal("0.001"), Decimal("0.04"), Decimal("0.2")),
        MarketSpec("SOL-EUR", "SOL", Decimal("0.01"), 8, Decimal("0.04"), Decimal("5"), Decimal("150"),
                   Decimal("0.0015"), Decimal("0.05"), Decimal("4")),
        MarketSpec("ADA-EUR", "ADA", Decimal("0.0001"), 6, Decimal("12"), Decimal("5"), Decimal("0.45"),
                   Decimal("0.0005"), Decimal("0.05"), Decimal("1500")),
    )
}

ASSETS: dict[str, AssetSpec] = {
    a.symbol: a
    for a in (
        AssetSpec("EUR", "Euro", 2, "SEPA", "0"),
        AssetSpec("BTC", "Bitcoin", 8, "Mainnet", "0.00002"),
        AssetSpec("ETH", "Ethereum", 8, "ETH", "0.0015"),
        AssetSpec("SOL", "Solana", 8, "SOL", "0.008"),
        AssetSpec("ADA", "Cardano", 6, "Mainnet", "1"),
    )
}


def dstr(value: Decimal) -> str:
    """Plain-notation string of a Decimal (never scientific), trailing zeros dropped."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON string or int, or None; floats are refused (money travels as strings)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        result = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return result if result.is_finite() else None


def floor_to(value: Decimal, quantum: Decimal) -> Decimal:
    return (value / quantum).to_integral_value(rounding=ROUND_FLOOR) * quantum


def ceil_to(value: Decimal, quantum: Decimal) -> Decimal:
    return (value / quantum).to_integral_value(rounding=ROUND_CEILING) * quantum


def truncate(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)


def fee_of(notional: Decimal, rate: Decimal) -> Decimal:
    # Rounded up: an exchange never under-charges.
    return (notional * rate).quantize(FEE_QUANTUM, rounding=ROUND_UP)


def buy_hold(amount: Decimal, price: Decimal) -> Decimal:
    """EUR held for a limit buy: amount×price×(1+taker), rounded up to cents (matches Bitvavo's examples)."""
    return (amount * price * (1 + TAKER_FEE)).quantize(Decimal(1).scaleb(-QUOTE_DECIMALS), rounding=ROUND_UP)
