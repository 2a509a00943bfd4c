"""`--candles`: the simulator replays a CSV of candles (history, path through each candle, the end, fills), keeps
walking the other markets, continues a replay after a restart, and refuses a bad file with one line and status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.simulator import signed
from tests.support.simulator import RunningSimulator, SimKey, free_port, start_simulator, stop

MINUTE = 60_000
STEP = 5_000
R = 1_700_000_040_000 + 3 * MINUTE  # the replay start (a whole minute)
HISTORY = [  # BTC-EUR before the replay start
    (R - 3 * MINUTE, "60000", "60100", "59900", "60050", "1.5"),
    (R - 2 * MINUTE, "60050", "60200", "60000", "60150", "2"),
    (R - 1 * MINUTE, "60150", "60160", "59800", "59850", "0.5"),
]
REPLAYED = [  # BTC-EUR from the replay start on
    (R, "59850", "60000", "59700", "59900", "1"),
    (R + 1 * MINUTE, "59900", "61000", "59000", "60500", "3"),  # rising: open → low → high → close
    (R + 2 * MINUTE, "60500", "60600", "59500", "59600", "2"),  # falling: open → high → low → close
]
SOL = [(R + 2 * MINUTE, "150", "151", "149", "150.5", "10"), (R + 3 * MINUTE, "150.5", "152", "150", "151.25", "12")]


def write_candles(path: Path) -> Path:
    lines = ["market,timestamp,open,high,low,close,volume"]
    lines += [f"BTC-EUR,{ts},{o},{h},{lo},{c},{v}" for ts, o, h, lo, c, v in HISTORY + REPLAYED]
    lines += [f"SOL-EUR,{ts},{o},{h},{lo},{c},{v}" for ts, o, h, lo, c, v in SOL]
    path.write_text("\n".join(lines) + "\n")
    return path


def candles(sim: RunningSimulator, market: str, **params: Any) -> list[list[Any]]:
    response = signed.call(sim.url, None, "GET", f"/{market}/candles", {"interval": "1m", "limit": 1440, **params})
    assert response.status_code == 200, response.text
    rows: list[list[Any]] = response.json()
    return rows


def decimals(row: list[Any]) -> list[Decimal]:
    return [Decimal(v) for v in row[1:]]


def expected(candle: tuple[int, str, str, str, str, str]) -> list[Decimal]:
    return [Decimal(v) for v in candle[1:]]


def place(sim: RunningSimulator, key: SimKey, **body: Any) -> str:
    order = signed.place_order(sim.url, key, **body)
    assert order["status"] == "new", order
    order_id: str = order["orderId"]
    return order_id


def status(sim: RunningSimulator, key: SimKey, order_id: str) -> dict[str, Any]:
    return signed.get_order(sim.url, key, order_id)


def offset_from_history(sim: RunningSimulator) -> int:
    """The shift of CSV times onto the simulated clock, read off the history candles (which must be the CSV's)."""
    rows = sorted(candles(sim, "BTC-EUR"))
    offset = int(rows[0][0]) - HISTORY[0][0]
    before_start = [[row[0], *decimals(row)] for row in rows if row[0] < R + offset]
    assert before_start == [[c[0] + offset, *expected(c)] for c in HISTORY]  # nothing generated, exact values
    return offset


def walk(sim: RunningSimulator, steps: int) -> list[dict[str, Decimal]]:
    """Prices after each of `steps` model steps."""
    seen = []
    for _ in range(steps):
        sim.admin.advance(STEP)
        seen.append(sim.admin.prices())
    return seen


def test_replay_of_history_path_end_and_fills(tmp_path: Path) -> None:
    csv = write_candles(tmp_path / "candles.csv")
    with start_simulator(seed=4, extra_args=["--speed", "0", "--candles", str(csv), "--replay-from", str(R)]) as sim:
        now = sim.admin.advance(0)
        offset = offset_from_history(sim)  # history: exactly the CSV's pre-start candles, shifted
        assert offset % MINUTE == 0 and R + offset <= now < R + offset + MINUTE  # the start lines up with now
        assert sim.admin.prices()["SOL-EUR"] == Decimal("150")  # before its first candle: that candle's open

        sim.admin.advance(R + offset + MINUTE - now)  # to the start of the rising candle
        assert sim.admin.prices()["BTC-EUR"] == Decimal("59900")
        key = sim.admin.create_account({"EUR": "1000", "BTC": "0.01"})
        buy = place(sim, key, side="buy", orderType="limit", amount="0.001", price="59500")
        sell = place(sim, key, side="sell", orderType="limit", amount="0.001", price="60800")
        rising = walk(sim, 12)
        btc = [p["BTC-EUR"] for p in rising]
        assert (btc[2], btc[5], btc[8]) == (Decimal("59000"), Decimal("61000"), Decimal("60500"))  # low, high, close
        assert min(btc) == Decimal("59000") and max(btc) == Decimal("61000") and btc[8:11] == [Decimal("60500")] * 3
        assert btc[11] == Decimal("60500")  # the next candle opens where this one closed
        for order_id, price in ((buy, "59500"), (sell, "60800")):  # the path crossed both limits
            filled = status(sim, key, order_id)
            assert filled["status"] == "filled" and filled["fills"][0]["price"] == price
        recorded = candles(sim, "BTC-EUR", start=R + offset + MINUTE, end=R + offset + 2 * MINUTE)
        assert [decimals(row)[:4] for row in recorded] == [expected(REPLAYED[1])[:4]]  # the CSV's OHLC again

        falling = walk(sim, 3)  # the falling candle: its high after a quarter
        assert falling[-1]["BTC-EUR"] == Decimal("60600")
        sim.admin.set_price("BTC-EUR", "70000")  # the admin override holds until the next step
        assert sim.admin.prices()["BTC-EUR"] == Decimal("70000")
        falling += walk(sim, 8)
        btc = [p["BTC-EUR"] for p in falling]
        assert Decimal("59500") <= btc[3] < Decimal("60600")  # back on the path, down towards the low
        assert (btc[5], btc[8], btc[10]) == (Decimal("59500"), Decimal("59600"), Decimal("59600"))

        after = walk(sim, 3)
        sim.admin.advance(10 * MINUTE)
        after += walk(sim, 2)
        assert {p["BTC-EUR"] for p in after} == {Decimal("59600")}  # after the last candle: its close
        assert after[-1]["SOL-EUR"] == Decimal("151.25")
        eth = {p["ETH-EUR"] for p in rising + falling + after}
        assert len(eth) > 5  # a market not in the file keeps walking
        assert len(candles(sim, "ETH-EUR", end=R + offset)) == 1440  # with its generated history


def test_replay_continues_after_a_restart(tmp_path: Path) -> None:
    csv = write_candles(tmp_path / "candles.csv")
    state = tmp_path / "exchange.json"
    args = ["--speed", "0", "--candles", str(csv), "--replay-from", str(R)]
    with start_simulator(seed=4, state=state, extra_args=args) as sim:
        offset = offset_from_history(sim)
        now = sim.admin.advance(0)
        sim.admin.advance(R + offset + MINUTE + 15_000 - now)  # the rising candle's low
        assert sim.admin.prices()["BTC-EUR"] == Decimal("59000")
        stop(sim.process)
        assert sim.process.returncode == 0
    assert json.loads(state.read_text())["replay"] == {"startMs": R, "offsetMs": offset}

    with start_simulator(seed=4, state=state, extra_args=args) as again:
        assert offset_from_history(again) == offset
        assert again.admin.prices()["BTC-EUR"] == Decimal("59000")
        assert [p["BTC-EUR"] for p in walk(again, 3)][-1] == Decimal("61000")  # the same candle's high


BAD = "market,timestamp,open,high,low,close,volume\nBTC-EUR,1700000040000,100,110,90,105,1\n" \
      "BTC-EUR,1700000100000,105,104,90,100,1\n"


@pytest.mark.parametrize("command", [
    ["-m", "autoinvest.simulator"],
    ["-m", "autoinvest.cli", "exchange-sim"],
])
def test_a_bad_candle_file_exits_2_with_one_line(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    result = subprocess.run(
        [sys.executable, *command, "--port", str(free_port()), "--candles", str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"candles file {bad}, line 3: high 104 is below max(open, close) 105" in lines[0]
