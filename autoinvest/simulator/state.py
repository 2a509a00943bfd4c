"""Persistence of the exchange state as JSON (Decimals as strings), written atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from autoinvest.simulator.accounts import Account, ApiKey, Balance
from autoinvest.simulator.clock import wall_ms
from autoinvest.simulator.exchange import Exchange
from autoinvest.simulator.markets import dstr
from autoinvest.simulator.orders import Fill, Order
from autoinvest.simulator.prices import PublicTrade
from autoinvest.simulator.replay import CandleFile, Replay

VERSION = 1
log = logging.getLogger("autoinvest.simulator")


def _d(value: Decimal | None) -> str | None:
    return None if value is None else dstr(value)


def _p(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def dump(ex: Exchange) -> dict[str, Any]:
    state = ex.prices.rng.getstate()
    return {
        "version": VERSION,
        "seed": ex.seed,
        "simMs": ex.now(),
        "modelMs": ex.prices.model_ms,
        "rng": [state[0], list(state[1]), state[2]],
        "accounts": [
            {
                "accountId": a.account_id,
                "balances": {s: [dstr(b.available), dstr(b.in_order)] for s, b in a.balances.items()},
            }
            for a in ex.accounts.accounts.values()
        ],
        "keys": [
            {"key": k.key, "secret": k.secret, "accountId": k.account_id, "permissions": sorted(k.permissions)}
            for k in ex.accounts.keys.values()
        ],
        "orders": [_dump_order(o) for o in ex.engine.orders.values()],
        # Where a candle replay stands (absent or null: no replay); the file itself is given again at restart.
        "replay": None if ex.prices.replay is None else {
            "startMs": ex.prices.replay.start_ms, "offsetMs": ex.prices.replay.offset_ms,
        },
        "markets": {
            name: {
                "level": str(m.level),
                "price": dstr(m.price),
                "candles": [[ts, *(dstr(v) for v in c)] for ts, c in m.candles.items()],
                "trades": [[t.id, t.timestamp, dstr(t.amount), dstr(t.price), t.side] for t in m.trades],
            }
            for name, m in ex.prices.markets.items()
        },
    }


def _dump_order(o: Order) -> dict[str, Any]:
    return {
        "orderId": o.order_id, "accountId": o.account_id, "market": o.market, "side": o.side,
        "orderType": o.order_type, "created": o.created, "updated": o.updated, "status": o.status,
        "operatorId": o.operator_id, "clientOrderId": o.client_order_id, "amount": _d(o.amount),
        "amountQuote": _d(o.amount_quote), "price": _d(o.price), "timeInForce": o.time_in_force,
        "postOnly": o.post_only, "selfTradePrevention": o.self_trade_prevention, "onHold": dstr(o.on_hold),
        "filledAmount": dstr(o.filled_amount), "filledAmountQuote": dstr(o.filled_amount_quote),
        "feePaid": dstr(o.fee_paid),
        "fills": [[f.id, f.timestamp, dstr(f.amount), dstr(f.price), f.taker, dstr(f.fee)] for f in o.fills],
    }


def _load_order(d: dict[str, Any]) -> Order:
    order = Order(
        order_id=d["orderId"], account_id=d["accountId"], market=d["market"], side=d["side"],
        order_type=d["orderType"], created=d["created"], updated=d["updated"], status=d["status"],
        operator_id=d["operatorId"], client_order_id=d["clientOrderId"], amount=_p(d["amount"]),
        amount_quote=_p(d["amountQuote"]), price=_p(d["price"]), time_in_force=d["timeInForce"],
        post_only=d["postOnly"], self_trade_prevention=d["selfTradePrevention"], on_hold=Decimal(d["onHold"]),
        filled_amount=Decimal(d["filledAmount"]), filled_amount_quote=Decimal(d["filledAmountQuote"]),
        fee_paid=Decimal(d["feePaid"]),
    )
    order.fills = [
        Fill(f[0], order.order_id, f[1], Decimal(f[2]), Decimal(f[3]), f[4], Decimal(f[5])) for f in d["fills"]
    ]
    return order


def load(data: dict[str, Any], speed: float, rate_limit: int = 1000, candles: CandleFile | None = None) -> Exchange:
    if data.get("version") != VERSION:
        raise ValueError(f"unsupported simulator state version {data.get('version')!r}")
    ex = Exchange(seed=data["seed"], speed=speed, rate_limit=rate_limit, history=False)
    rng = data["rng"]
    ex.prices.rng.setstate((rng[0], tuple(rng[1]), rng[2]))
    ex.prices.model_ms = data["modelMs"]
    # While the simulator was down a running clock keeps going (catching up, bounded); a paused one does not.
    ex.clock.reset_to(max(data["simMs"], wall_ms()) if speed > 0 else data["simMs"])
    for a in data["accounts"]:
        account = Account(a["accountId"])
        for symbol, (available, in_order) in a["balances"].items():
            account.balances[symbol] = Balance(Decimal(available), Decimal(in_order))
        ex.accounts.accounts[account.account_id] = account
    for k in data["keys"]:
        ex.accounts.keys[k["key"]] = ApiKey(k["key"], k["secret"], k["accountId"], frozenset(k["permissions"]))
    for d in data["orders"]:
        order = _load_order(d)
        ex.engine.orders[order.order_id] = order
        if order.order_type == "limit" and order.active:
            ex.engine.resting[order.order_id] = order
    for name, m in data["markets"].items():
        market = ex.prices.markets[name]
        market.level, market.price = Decimal(m["level"]), Decimal(m["price"])
        market.candles = {c[0]: [Decimal(v) for v in c[1:]] for c in m["candles"]}
        market.trades = deque(
            (PublicTrade(t[0], t[1], Decimal(t[2]), Decimal(t[3]), t[4]) for t in m["trades"]), maxlen=1000
        )
    if candles is not None:
        ex.prices.replay = _replay(data.get("replay"), candles, ex.clock.now())
    elif data.get("replay") is not None:
        log.warning("simulator state was saved with a candle replay; without --candles every market walks")
    return ex


def _replay(saved: dict[str, Any] | None, candles: CandleFile, sim_ms: int) -> Replay:
    """The saved replay continues where it was; a state saved without one starts the replay now."""
    if saved is None:
        log.warning("simulator state has no candle replay: it starts now, the saved candle history stays")
        return Replay.begin(candles, sim_ms)
    if saved["startMs"] != candles.start_ms:
        log.warning("candle replay continues from the saved start %s; this run's start %s is not used",
                    saved["startMs"], candles.start_ms)
    return Replay(candles.series, saved["startMs"], saved["offsetMs"])


def save(ex: Exchange, path: Path) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over the old state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dump(ex), handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_file(path: Path, speed: float, rate_limit: int = 1000, candles: CandleFile | None = None) -> Exchange:
    with path.open(encoding="utf-8") as handle:
        return load(json.load(handle), speed, rate_limit, candles)
