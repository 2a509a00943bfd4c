"""The candle file of `--candles`: validation with line numbers, replay start, the price path, state round trip."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from autoinvest.simulator import state
from autoinvest.simulator.clock import DAY_MS, MINUTE_MS
from autoinvest.simulator.exchange import Exchange
from autoinvest.simulator.markets import MARKETS
from autoinvest.simulator.replay import (
    Candle,
    CandleFile,
    CandleFileError,
    CandleSeries,
    ReplayError,
    choose_start,
    default_start,
    load_candles,
    parse_candles,
    path_price,
    shift_offset,
)

HEADER = "market,timestamp,open,high,low,close,volume"
T0 = 1_700_000_040_000  # a whole minute


def parse(*rows: str, header: str = HEADER) -> dict[str, CandleSeries]:
    return dict(parse_candles("\n".join([header, *rows]) + "\n", "c.csv", MARKETS))


def candle(o: str, h: str, low: str, c: str) -> Candle:
    return Candle(T0, Decimal(o), Decimal(h), Decimal(low), Decimal(c), Decimal(1), 2)


def test_a_valid_file_with_two_interleaved_markets() -> None:
    series = parse_candles(
        "\n".join([
            "timestamp,market,open,high,low,close,volume",  # any column order
            f"{T0},BTC-EUR,60000,60100,59900,60050.5,1.25",
            f"{T0},ADA-EUR,0.4500,0.4510,0.4490,0.4495,1500",
            "",
            f"{T0 + MINUTE_MS},BTC-EUR, 60050 ,60200,60000,60150,0",
            f"{T0 + 2 * MINUTE_MS},ADA-EUR,0.4495,0.45,0.449,0.4499,20",
        ]),
        "c.csv", MARKETS,
    )
    assert sorted(series) == ["ADA-EUR", "BTC-EUR"]
    btc = series["BTC-EUR"]
    assert btc.times == (T0, T0 + MINUTE_MS)
    assert btc.candles[0].close == Decimal("60050.5") and btc.candles[1].open == Decimal("60050")
    assert btc.candles[1].volume == 0 and btc.candles[1].line == 5
    assert series["ADA-EUR"].duration(1) == 2 * MINUTE_MS  # the last lasts as long as the one before


GOOD = f"BTC-EUR,{T0},100,110,90,105,1"
LATER = f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,100,1"


@pytest.mark.parametrize(("rows", "header", "line", "problem"), [
    ((GOOD, LATER), "market,timestamp,open,high,low,close", 1, "missing column(s) volume"),
    ((GOOD, LATER), HEADER + ",extra", 1, "unknown column(s) extra"),
    ((GOOD, LATER), "market,timestamp,open,high,low,close,close,volume", 1, "duplicate column(s) close"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,100"), HEADER, 3, "6 columns, expected 7"),
    ((GOOD, LATER + ",9"), HEADER, 3, "8 columns, expected 7"),
    ((GOOD, f"DOGE-EUR,{T0},1,1,1,1,1"), HEADER, 3, "unknown market 'DOGE-EUR'"),
    ((GOOD, f"BTC-EUR,{T0}.5,105,110,90,100,1"), HEADER, 3, "timestamp '1700000040000.5' is not an integer"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},abc,110,90,100,1"), HEADER, 3, "open 'abc' is not a decimal number"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,NaN,1"), HEADER, 3, "close 'NaN' is not a decimal number"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,1_0,100,1"), HEADER, 3, "low '1_0' is not a decimal number"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,0,100,1"), HEADER, 3, "low '0' is not positive"),
    ((f"BTC-EUR,{T0},-100,110,90,105,1", LATER), HEADER, 2, "open '-100' is not positive"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,104,90,100,1"), HEADER, 3, "high 104 is below max(open, close) 105"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,101,100,1"), HEADER, 3, "low 101 is above min(open, close) 100"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,100,-0.1"), HEADER, 3, "volume '-0.1' is negative"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,100,x"), HEADER, 3, "volume 'x' is not a decimal number"),
    ((GOOD, f"BTC-EUR,{T0 + MINUTE_MS},1E+20,1E+20,90,100,1"), HEADER, 3, "open '1E+20' is too large"),
    ((GOOD, LATER, f"BTC-EUR,{T0 + MINUTE_MS},105,110,90,100,1"), HEADER, 4,
     f"timestamp {T0 + MINUTE_MS} of BTC-EUR is not after the previous one ({T0 + MINUTE_MS}, line 3)"),
    ((GOOD, LATER, f"BTC-EUR,{T0 - 1},105,110,90,100,1"), HEADER, 4, "is not after the previous one"),
    ((GOOD, LATER, f"ETH-EUR,{T0},3000,3010,2990,3005,1"), HEADER, 4, "ETH-EUR has only one candle"),
    ((GOOD,), HEADER, 2, "BTC-EUR has only one candle; replay needs at least 2"),
    ((), HEADER, 1, "no candles after the header"),
    ((GOOD, 'BTC-EUR,"1700000100000,105,110,90,100,1'), HEADER, 3, "malformed CSV"),
])
def test_each_invalid_input_names_its_line(rows: tuple[str, ...], header: str, line: int, problem: str) -> None:
    with pytest.raises(CandleFileError) as caught:
        parse(*rows, header=header)
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"candles file c.csv, line {line}: ")
    assert "\n" not in str(caught.value)


def test_an_empty_file_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="line 1: empty file"):
        parse_candles("", "c.csv", MARKETS)
    with pytest.raises(ReplayError, match="cannot be read"):
        load_candles(tmp_path / "missing.csv", MARKETS)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ReplayError, match="not UTF-8 text"):
        load_candles(binary, MARKETS)


def test_default_start_is_the_last_candle_within_three_days_of_the_earliest_market() -> None:
    hours = [f"BTC-EUR,{T0 + h * 3_600_000},100,110,90,105,1" for h in range(80)]  # 1h candles over 80 hours
    series = parse(f"ETH-EUR,{T0 + 5 * DAY_MS},1,1,1,1,1", f"ETH-EUR,{T0 + 6 * DAY_MS},1,1,1,1,1", *hours)
    assert default_start(series) == T0 + 72 * 3_600_000
    gap = parse(GOOD, f"BTC-EUR,{T0 + 4 * DAY_MS},105,110,90,100,1")  # the second candle is beyond 3 days
    assert default_start(gap) == T0


def test_replay_from_must_lie_within_the_candles() -> None:
    series = parse_candles("\n".join([HEADER, GOOD, LATER]), "c.csv", MARKETS)
    assert choose_start(series, T0 + 30_000, "c.csv") == T0 + 30_000
    assert choose_start(series, None, "c.csv") == T0 + MINUTE_MS
    with pytest.raises(ReplayError, match=r"--replay-from 5 is outside its candles"):
        choose_start(series, 5, "c.csv")


def test_the_path_through_a_rising_and_a_falling_candle() -> None:
    rising, falling = candle("100", "130", "80", "120"), candle("100", "130", "80", "90")
    at = [0, 10_000, 15_000, 30_000, 45_000, 50_000, 59_999]
    assert [path_price(rising, MINUTE_MS, t) for t in at] == [100, Decimal("100") - 20 * 10 / Decimal(15), 80,
                                                              130, 120, 120, 120]
    assert [path_price(falling, MINUTE_MS, t) for t in (0, 15_000, 30_000, 45_000, 55_000)] == [100, 130, 80, 90, 90]
    assert path_price(rising, 4 * 3_600_000, 5_400_000) == 105  # half way from the low to the high


def test_price_before_first_and_after_last_candle() -> None:
    series = parse_candles("\n".join([HEADER, GOOD, LATER]), "c.csv", MARKETS)["BTC-EUR"]
    assert series.price_at(T0 - 1) == 100  # the first open
    assert series.end_ms == T0 + 2 * MINUTE_MS
    assert series.price_at(T0 + MINUTE_MS + 15_000) == 110  # the falling second candle at its high
    assert series.price_at(T0 + MINUTE_MS + 30_000) == 90  # then its low
    assert series.price_at(series.end_ms) == series.price_at(series.end_ms + DAY_MS) == 100  # the last close


def test_the_offset_is_whole_minutes_and_lands_the_start_just_before_now() -> None:
    now = 1_800_000_012_345
    offset = shift_offset(T0 + 7, now)
    assert offset % MINUTE_MS == 0 and now - MINUTE_MS < T0 + 7 + offset <= now


def _candle_file(tmp_path: Path) -> CandleFile:
    path = tmp_path / "c.csv"
    path.write_text("\n".join([HEADER, GOOD, LATER, f"BTC-EUR,{T0 + 2 * MINUTE_MS},100,100,100,100,1"]) + "\n")
    return load_candles(path, MARKETS, T0 + MINUTE_MS)


def test_state_keeps_the_replay_and_loads_without_one(tmp_path: Path) -> None:
    candles = _candle_file(tmp_path)
    ex = Exchange(seed=3, speed=0, candles=candles)
    assert ex.prices.replay is not None
    saved = json.loads(json.dumps(state.dump(ex)))
    assert saved["replay"] == {"startMs": T0 + MINUTE_MS, "offsetMs": ex.prices.replay.offset_ms}

    again = state.load(saved, speed=0, candles=candles)
    assert again.prices.replay == ex.prices.replay
    assert again.prices.markets["BTC-EUR"].candles == ex.prices.markets["BTC-EUR"].candles

    del saved["replay"]  # a state file written before (or without) replay
    plain = state.load(saved, speed=0)
    assert plain.prices.replay is None and plain.prices.markets["BTC-EUR"].price == ex.prices.markets["BTC-EUR"].price
    started = state.load(saved, speed=0, candles=candles)  # with --candles it starts the replay at the saved time
    assert started.prices.replay is not None
    assert started.prices.replay.offset_ms == shift_offset(T0 + MINUTE_MS, saved["simMs"])
