"""Replay of a CSV of candles: parsing and validation, the replay start, and the price at a time.

The file (`--candles FILE`) has a header and one candle per line:

    market,timestamp,open,high,low,close,volume
    BTC-EUR,1700000040000,60000,60100,59900,60050,1.5

`timestamp` is the candle's start in epoch ms; prices and volume are decimal strings (read as Decimal, never float).
Several markets may share a file. CSV times are shifted by one offset (a whole number of minutes) onto the simulated
clock, so that the replay start lands on the simulator's start time. Everything here is pure: the price model
(`prices.PriceModel`) asks `Replay.price_at` for a replayed market's price at each step.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from autoinvest.simulator.clock import DAY_MS, HISTORY_DAYS, MINUTE_MS

COLUMNS = ("market", "timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
# The path through a candle has three legs of a quarter of its duration each; the close holds for the last quarter.
LEGS = 4
# Prices and volumes are kept to 12 decimals by the model; larger numbers would overflow its Decimal context.
MAX_INTEGER_DIGITS = 15
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d+")


class ReplayError(ValueError):
    """A candle file or replay option the simulator refuses at start (one line, no traceback)."""


class CandleFileError(ReplayError):
    """A problem at one line of the candle file."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"candles file {source}, line {line}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Candle:
    timestamp: int  # candle start, CSV time (epoch ms)
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    line: int  # where it was read, for messages

    @property
    def rising(self) -> bool:
        return self.close >= self.open


@dataclass(frozen=True)
class CandleSeries:
    """One market's candles, strictly increasing in time, at least two."""

    market: str
    candles: tuple[Candle, ...]
    times: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", tuple(c.timestamp for c in self.candles))

    def duration(self, index: int) -> int:
        """Next candle's time minus this one's; the last candle lasts as long as the one before it."""
        if index + 1 < len(self.times):
            return self.times[index + 1] - self.times[index]
        return self.times[-1] - self.times[-2]

    @property
    def end_ms(self) -> int:
        """CSV time at which the last candle ends; from then on the price stays at its close."""
        return self.times[-1] + self.duration(len(self.times) - 1)

    def price_at(self, csv_ms: int) -> Decimal:
        """Unrounded price at a CSV time: the first open before the first candle, the last close after the end."""
        index = bisect_right(self.times, csv_ms) - 1
        if index < 0:
            return self.candles[0].open
        if csv_ms >= self.end_ms:
            return self.candles[-1].close
        return path_price(self.candles[index], self.duration(index), csv_ms - self.times[index])


@dataclass(frozen=True)
class CandleFile:
    source: str  # the path as given, for messages
    series: Mapping[str, CandleSeries]
    start_ms: int  # CSV time at which the replay starts: --replay-from, or the default


@dataclass(frozen=True)
class HistoryCandle:
    """A candle before the replay start, on the simulated clock."""

    timestamp: int  # shifted start
    end: int  # shifted end (start + duration)
    candle: Candle


@dataclass(frozen=True)
class Replay:
    """A candle file placed on the simulated clock: simulated time = CSV time + offset_ms."""

    series: Mapping[str, CandleSeries]
    start_ms: int  # CSV time of the replay start
    offset_ms: int

    @classmethod
    def begin(cls, candles: CandleFile, sim_start_ms: int) -> Replay:
        return cls(candles.series, candles.start_ms, shift_offset(candles.start_ms, sim_start_ms))

    def replays(self, market: str) -> bool:
        return market in self.series

    def price_at(self, market: str, sim_ms: int) -> Decimal:
        return self.series[market].price_at(sim_ms - self.offset_ms)

    def history(self, market: str) -> list[HistoryCandle]:
        """The market's candles that start before the replay start, shifted onto the simulated clock."""
        series = self.series[market]
        return [
            HistoryCandle(t + self.offset_ms, t + series.duration(i) + self.offset_ms, c)
            for i, (t, c) in enumerate(zip(series.times, series.candles, strict=True))
            if t < self.start_ms
        ]


def shift_offset(start_csv_ms: int, sim_start_ms: int) -> int:
    """Whole minutes from the replay start to the simulated start (rounded down): minute-aligned candle times
    stay minute-aligned, and the replay start lands at most a minute before the simulator's start."""
    gap = sim_start_ms - start_csv_ms
    return gap - gap % MINUTE_MS


def path_price(candle: Candle, duration_ms: int, elapsed_ms: int) -> Decimal:
    """The price `elapsed_ms` into a candle: open → low → high → close when it rises (close ≥ open), open → high →
    low → close otherwise, linear legs of a quarter of the duration each, then the close for the last quarter."""
    if elapsed_ms <= 0:
        return candle.open
    first, second = (candle.low, candle.high) if candle.rising else (candle.high, candle.low)
    points = (candle.open, first, second, candle.close)
    position = Decimal(elapsed_ms * LEGS) / Decimal(duration_ms)
    leg = int(position)
    if leg >= len(points) - 1:
        return candle.close
    start, end = points[leg], points[leg + 1]
    return start + (end - start) * (position - leg)


def default_start(series: Mapping[str, CandleSeries]) -> int:
    """The last candle time of the earliest market that is at most HISTORY_DAYS after its first candle."""
    earliest = min(series.values(), key=lambda s: (s.times[0], s.market))
    limit = earliest.times[0] + HISTORY_DAYS * DAY_MS
    return earliest.times[bisect_right(earliest.times, limit) - 1]


def choose_start(series: Mapping[str, CandleSeries], replay_from: int | None, source: str) -> int:
    if replay_from is None:
        return default_start(series)
    first = min(s.times[0] for s in series.values())
    last = max(s.times[-1] for s in series.values())
    if not first <= replay_from <= last:
        raise ReplayError(
            f"candles file {source}: --replay-from {replay_from} is outside its candles ({first} … {last})"
        )
    return replay_from


def _decimal(raw: str, column: str, source: str, line: int) -> Decimal:
    if not _DECIMAL.fullmatch(raw):
        raise CandleFileError(source, line, f"{column} {raw!r} is not a decimal number")
    value = Decimal(raw)
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise CandleFileError(source, line, f"{column} {raw!r} is too large (at most {MAX_INTEGER_DIGITS} digits "
                                            "before the decimal point)")
    return value


def _candle(row: list[str], index: dict[str, int], source: str, line: int) -> Candle:
    raw = {name: row[i].strip() for name, i in index.items()}
    if not _INTEGER.fullmatch(raw["timestamp"]):
        raise CandleFileError(source, line, f"timestamp {raw['timestamp']!r} is not an integer (epoch ms)")
    prices: dict[str, Decimal] = {}
    for column in PRICE_COLUMNS:
        value = _decimal(raw[column], column, source, line)
        if value <= 0:
            raise CandleFileError(source, line, f"{column} {raw[column]!r} is not positive")
        prices[column] = value
    volume = _decimal(raw["volume"], "volume", source, line)
    if volume < 0:
        raise CandleFileError(source, line, f"volume {raw['volume']!r} is negative")
    open_, high, low, close = (prices[c] for c in PRICE_COLUMNS)
    if high < max(open_, close):
        raise CandleFileError(source, line, f"high {raw['high']} is below max(open, close) {max(open_, close)}")
    if low > min(open_, close):
        raise CandleFileError(source, line, f"low {raw['low']} is above min(open, close) {min(open_, close)}")
    return Candle(int(raw["timestamp"]), open_, high, low, close, volume, line)


def _header(row: list[str] | None, source: str) -> dict[str, int]:
    if row is None:
        raise CandleFileError(source, 1, f"empty file; expected the header {','.join(COLUMNS)}")
    names = [name.strip() for name in row]
    missing = [c for c in COLUMNS if c not in names]
    extra = [n for n in names if n not in COLUMNS]
    duplicate = sorted({n for n in names if names.count(n) > 1})
    problems = [
        f"{label} column(s) {', '.join(items)}"
        for label, items in (("missing", missing), ("unknown", extra), ("duplicate", duplicate))
        if items
    ]
    if problems:
        raise CandleFileError(source, 1, f"header must name the columns {','.join(COLUMNS)}: " + "; ".join(problems))
    return {name: names.index(name) for name in COLUMNS}


def parse_candles(text: str, source: str, markets: Collection[str]) -> dict[str, CandleSeries]:
    """Validate a whole candle file; the first problem found raises CandleFileError naming its line."""
    reader = csv.reader(io.StringIO(text), strict=True)
    found: dict[str, list[Candle]] = {}
    try:
        index = _header(next(reader, None), source)
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != len(COLUMNS):
                raise CandleFileError(source, line, f"{len(row)} columns, expected {len(COLUMNS)} "
                                                    f"({','.join(COLUMNS)})")
            market = row[index["market"]].strip()
            if market not in markets:
                raise CandleFileError(source, line, f"unknown market {market!r} (the simulator has "
                                                    f"{', '.join(sorted(markets))})")
            candle = _candle(row, index, source, line)
            previous = found.setdefault(market, [])
            if previous and candle.timestamp <= previous[-1].timestamp:
                raise CandleFileError(
                    source, line, f"timestamp {candle.timestamp} of {market} is not after the previous one "
                                  f"({previous[-1].timestamp}, line {previous[-1].line})",
                )
            previous.append(candle)
    except csv.Error as exc:
        raise CandleFileError(source, reader.line_num, f"malformed CSV: {exc}") from None
    if not found:
        raise CandleFileError(source, max(reader.line_num, 1), "no candles after the header")
    for market, candles in sorted(found.items(), key=lambda item: item[1][0].line):
        if len(candles) < 2:
            raise CandleFileError(source, candles[0].line, f"{market} has only one candle; replay needs at least 2")
    return {market: CandleSeries(market, tuple(candles)) for market, candles in found.items()}


def load_candles(path: Path, markets: Collection[str], replay_from: int | None = None) -> CandleFile:
    """Read and validate `path` and choose the replay start; ReplayError (one line) on any problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReplayError(f"candles file {source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ReplayError(f"candles file {source}: cannot be read ({exc.strerror or exc})") from None
    series = parse_candles(text, source, markets)
    return CandleFile(source, series, choose_start(series, replay_from, source))
