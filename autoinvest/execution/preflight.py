"""One query builds the pre-flight facts of a proposal, on database time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.db.tx import AppConnection
from autoinvest.domain.money import quantize_down
from autoinvest.domain.states import Side
from autoinvest.errors import NotFound
from autoinvest.lifecycle import reservations
from autoinvest.policy import KillSwitches, LastTrade, PreflightFacts

# A "trade" for caps, cooldown and anti-flip is an execution that is live or has filled: in-flight
# orders count, so that N instances cannot each see "no trade yet". A NOT_PLACED not yet confirmed counts too:
# its order may still land. LIVE_SQL is the predicate of the one-live-entry index (migration 0003).
_TRADE_STATES = "('CLAIMED', 'SUBMITTING', 'SUBMITTED', 'FILLED')"
LIVE_SQL: LiteralString = ("(e.state IN ('CLAIMED', 'SUBMITTING', 'SUBMITTED')"
                           " OR (e.state = 'NOT_PLACED' AND e.confirmed_at IS NULL))")

FACTS_SQL = f"""
WITH p AS (SELECT * FROM trade_proposals WHERE id = %(proposal_id)s),
     t AS (
        SELECT e.market, e.side, e.created_at AS at FROM executions e, p
         WHERE e.profile_id = p.profile_id AND e.id IS DISTINCT FROM %(exclude)s::uuid
           AND (e.state IN {_TRADE_STATES} OR {LIVE_SQL} OR EXISTS (SELECT 1 FROM fills f WHERE f.execution_id = e.id))
        UNION ALL
        SELECT f.market, f.side, f.filled_at FROM fills f, p
         WHERE f.profile_id = p.profile_id AND f.execution_id IS NULL)
SELECT now() AS now,
       g.kill_switch AS global_kill, u.kill_switch AS user_kill, pol.trading_enabled,
       p.id AS proposal_id, p.user_id, p.profile_id, p.status, p.market, p.side, p.amount_eur, p.amount_base,
       p.confidence, p.expires_at, p.override_cooldown, p.override_anti_flip,
       pol.allowlist, pol.min_order_eur, pol.max_order_eur, pol.allowed_confidences, pol.min_confidence,
       pol.cooldown_minutes, pol.anti_flip_minutes, pol.max_trades_per_day, pol.max_trades_per_hour,
       (SELECT count(*) FROM t WHERE t.at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
           AS trades_today,
       (SELECT count(*) FROM t WHERE t.at > now() - interval '1 hour') AS trades_last_hour,
       (SELECT t.at FROM t WHERE t.market = p.market ORDER BY t.at DESC LIMIT 1) AS last_trade_at,
       (SELECT t.side FROM t WHERE t.market = p.market ORDER BY t.at DESC LIMIT 1) AS last_trade_side,
       c.allocated - c.reserved_for_orders - c.reserved_for_positions + c.realized_pnl AS available_eur,
       coalesce(pos.quantity, 0) AS position_quantity,
       coalesce(pos.cost_basis_eur, 0) AS position_cost_eur,
       m.min_order_quote AS exchange_min_order_eur
  FROM p
  JOIN profile_policies pol ON pol.profile_id = p.profile_id
  JOIN users u ON u.id = p.user_id
  JOIN capital_accounts c ON c.profile_id = p.profile_id
  CROSS JOIN global_settings g
  LEFT JOIN positions pos ON pos.profile_id = p.profile_id AND pos.market = p.market
  LEFT JOIN market_metadata m ON m.market = p.market
       -- the user's exchange; a key without a stored URL is on Bitvavo (the only exchange live mode accepts)
       AND m.exchange_url = (SELECT exchange_key(coalesce(x.exchange_url, 'https://api.bitvavo.com'))
                               FROM exchange_credentials x WHERE x.user_id = p.user_id AND x.purpose = 'trade')
"""

KILL_SWITCHES_SQL = """
SELECT g.kill_switch AS global_kill, u.kill_switch AS user_kill, pol.trading_enabled
  FROM profile_policies pol JOIN users u ON u.id = pol.user_id CROSS JOIN global_settings g
 WHERE pol.profile_id = %(profile_id)s
"""


@dataclass(frozen=True)
class SellQuote:
    """The exchange's best bid and the market's quantity precision, read just before a claim."""

    bid: Decimal
    quantity_decimals: int


@dataclass(frozen=True)
class Snapshot:
    """The facts and the ids they were read for."""

    facts: PreflightFacts
    proposal_id: UUID
    user_id: UUID
    profile_id: UUID
    amount_eur: Decimal | None
    amount_base: Decimal | None  #: the proposal's, or a sell's EUR size converted at ``sell_quote``
    sell_quote: SellQuote | None = None  #: what a sell sized in EUR was converted at


def _converted_base(row: dict[str, Any], quote: SellQuote | None) -> Decimal | None:
    """A sell sized in EUR becomes a base amount at the best bid, rounded down to the market's precision: the
    pre-flight can then prove it covered by the position, and the order sells exactly that, whatever the price
    does next. None (the rule then denies the sell) without a quote."""
    if row["side"] != Side.SELL.value or row["amount_base"] is not None or quote is None or quote.bid <= 0:
        return None
    base = quantize_down(Decimal(row["amount_eur"]) / quote.bid, Decimal(1).scaleb(-quote.quantity_decimals))
    return base if base > 0 else None


def _eur_estimate(row: dict[str, Any], quote: SellQuote | None = None) -> Decimal:
    if row["amount_eur"] is not None:
        return Decimal(row["amount_eur"])
    if quote is not None:  # converted from EUR: what it sells for at the bid it was converted at
        return Decimal(row["amount_base"]) * quote.bid
    # A sell sized in base is valued at the position's average cost (no price lookup inside the claim).
    quantity = Decimal(row["position_quantity"])
    if quantity <= 0:
        return Decimal(0)
    return Decimal(row["amount_base"]) * Decimal(row["position_cost_eur"]) / quantity


async def load(conn: AppConnection, proposal_id: UUID, *, sell_quote: SellQuote | None = None,
               exclude_execution: UUID | None = None) -> Snapshot:
    """Read every fact of the proposal in one statement (call inside the claim transaction).

    ``sell_quote`` (read from the exchange before the transaction) converts a sell sized in EUR to base;
    ``exclude_execution``: the proposal's own execution, when deciding it again, is not a trade of its own."""
    cur = await conn.execute(FACTS_SQL, {"proposal_id": proposal_id, "exclude": exclude_execution})
    found = await cur.fetchone()
    if found is None:
        raise NotFound(f"proposal {proposal_id} not found (or not yours)", reason="PROPOSAL_NOT_FOUND")
    converted = _converted_base(found, sell_quote)
    used = sell_quote if converted is not None else None
    row = found if converted is None else {**found, "amount_base": converted, "amount_eur": None}
    estimate = _eur_estimate(row, used)
    last = (LastTrade(at=row["last_trade_at"], side=Side(row["last_trade_side"]))
            if row["last_trade_at"] is not None else None)
    facts = PreflightFacts(
        now=row["now"],
        global_kill=bool(row["global_kill"]), user_kill=bool(row["user_kill"]),
        profile_trading_enabled=bool(row["trading_enabled"]),
        status=str(row["status"]), market=str(row["market"]), side=Side(row["side"]),
        amount_eur=estimate,
        amount_base=Decimal(row["amount_base"]) if row["amount_base"] is not None else None,
        confidence=int(row["confidence"]),
        expires_at=row["expires_at"],
        override_cooldown=bool(row["override_cooldown"]), override_anti_flip=bool(row["override_anti_flip"]),
        allowlist=frozenset(row["allowlist"]),
        min_order_eur=Decimal(row["min_order_eur"]), max_order_eur=Decimal(row["max_order_eur"]),
        allowed_confidences=frozenset(int(c) for c in row["allowed_confidences"]),
        min_confidence=int(row["min_confidence"]),
        cooldown_minutes=int(row["cooldown_minutes"]), anti_flip_minutes=int(row["anti_flip_minutes"]),
        max_trades_per_day=int(row["max_trades_per_day"]),
        max_trades_per_hour=int(row["max_trades_per_hour"]),
        trades_today=int(row["trades_today"]), trades_last_hour=int(row["trades_last_hour"]),
        last_trade=last,
        available_eur=Decimal(row["available_eur"]),
        position_quantity=Decimal(row["position_quantity"]),
        fee_headroom_eur=reservations.required_eur(estimate) - estimate,
        exchange_min_order_eur=(Decimal(row["exchange_min_order_eur"])
                                if row["exchange_min_order_eur"] is not None else None),
    )
    return Snapshot(facts=facts, proposal_id=proposal_id, user_id=row["user_id"],
                    profile_id=row["profile_id"],
                    amount_eur=found["amount_eur"], amount_base=row["amount_base"], sell_quote=used)


async def kill_switches(conn: AppConnection, profile_id: UUID) -> KillSwitches:
    """Read the three switches as they are now (the re-check just before sending)."""
    cur = await conn.execute(KILL_SWITCHES_SQL, {"profile_id": profile_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"profile {profile_id} not found", reason="PROFILE_NOT_FOUND")
    return KillSwitches(global_kill=bool(row["global_kill"]), user_kill=bool(row["user_kill"]),
                        profile_trading_enabled=bool(row["trading_enabled"]))


SEND_AGE_SQL = """
SELECT now() - e.created_at > make_interval(secs => %(stale)s) AS stale_claim,
       now() - coalesce(p.decided_at, p.created_at) > make_interval(secs => %(repeat)s) AS old_proposal
  FROM executions e JOIN trade_proposals p ON p.id = e.proposal_id AND p.user_id = e.user_id
 WHERE e.id = %(id)s
"""


@dataclass(frozen=True)
class SendAge:
    """How old a CLAIMED execution is at its send, on database time."""

    stale_claim: bool  #: claimed longer ago than the stale bound: decide again
    may_repeat: bool  #: an earlier send of its clientOrderId may exist (stale claim, or an old proposal)


async def send_age(conn: AppConnection, execution_id: UUID, *, stale_claim_s: int, repeat_after_s: int) -> SendAge:
    cur = await conn.execute(SEND_AGE_SQL, {"id": execution_id, "stale": stale_claim_s, "repeat": repeat_after_s})
    row = await cur.fetchone()
    assert row is not None, execution_id
    stale = bool(row["stale_claim"])
    return SendAge(stale_claim=stale, may_repeat=stale or bool(row["old_proposal"]))
