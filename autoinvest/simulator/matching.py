"""Order placement, matching against the synthetic book, fills, fees and balance settlement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from autoinvest.simulator.accounts import Account, Accounts
from autoinvest.simulator.errors import ApiError
from autoinvest.simulator.markets import MAKER_FEE, QUOTE, TAKER_FEE, MarketSpec, buy_hold, fee_of, truncate
from autoinvest.simulator.orders import Fill, Order
from autoinvest.simulator.prices import PriceModel
from autoinvest.simulator.validation import NewOrder

MARKET_BOOK_LEVELS = 1000
MARKET_PROTECTION = Decimal("0.10")  # market orders stop once a fill would be 10% worse than the best level
MAX_OPEN_PER_MARKET = 100


@dataclass(frozen=True)
class Take:
    amount: Decimal
    price: Decimal


class Engine:
    def __init__(self, accounts: Accounts, prices: PriceModel, now: Callable[[], int]) -> None:
        self.accounts = accounts
        self.prices = prices
        self.now = now
        self.orders: dict[str, Order] = {}  # insertion order = creation order
        self.resting: dict[str, Order] = {}  # active limit orders, the only ones a price move can fill

    # ---- queries -------------------------------------------------------------------------------------------

    def find(self, account_id: str, market: str, order_id: str | None, client_order_id: str | None) -> Order:
        if client_order_id is not None:  # Bitvavo uses clientOrderId when both are given
            matches = [
                o for o in self.orders.values()
                if o.account_id == account_id and o.market == market and o.client_order_id == client_order_id
            ]
            if matches:
                active = [o for o in matches if o.active]
                return (active or matches)[-1]
            raise ApiError(240)
        order = self.orders.get(order_id or "")
        if order is None or order.account_id != account_id or order.market != market:
            raise ApiError(240)
        return order

    def open_orders(self, account_id: str) -> list[Order]:
        return [o for o in self.orders.values() if o.account_id == account_id and o.active]

    # ---- placement -----------------------------------------------------------------------------------------

    def place(self, account: Account, new: NewOrder) -> Order:
        spec = new.spec
        open_in_market = [o for o in self.open_orders(account.account_id) if o.market == spec.market]
        if new.client_order_id is not None and any(o.client_order_id == new.client_order_id for o in open_in_market):
            raise ApiError(220)
        if len(open_in_market) >= MAX_OPEN_PER_MARKET:
            raise ApiError(235, "You have reached the maximum of 100 open orders for this market.")
        price_now = self.prices.markets[spec.market].price
        notional = new.amount_quote if new.amount_quote is not None else (new.amount or Decimal(0)) * (
            new.price or price_now
        )
        if notional < spec.min_quote:
            raise ApiError(217, f"Minimum order size in quote currency is {spec.min_quote} {QUOTE} or "
                                f"{spec.min_base} {spec.base}.")
        if new.amount is not None and new.amount < spec.min_base:
            raise ApiError(212, f"Minimum order size in base currency is {spec.min_base} {spec.base}.")
        ts = self.now()
        order = Order(
            order_id=str(uuid.uuid4()), account_id=account.account_id, market=spec.market, side=new.side,
            order_type=new.order_type, created=ts, updated=ts, status="new", operator_id=new.operator_id,
            client_order_id=new.client_order_id, amount=new.amount, amount_quote=new.amount_quote, price=new.price,
            time_in_force=new.time_in_force, post_only=new.post_only,
            self_trade_prevention=new.self_trade_prevention,
        )
        if new.order_type == "market":
            self._execute_market(account, order, spec)
        else:
            self._place_limit(account, order, spec)
        self.orders[order.order_id] = order
        return order

    def _execute_market(self, account: Account, order: Order, spec: MarketSpec) -> None:
        takes, complete = self._walk(spec, order.side, order.amount, order.amount_quote, limit=None)
        base_total = sum((t.amount for t in takes), Decimal(0))
        cost = sum((t.amount * t.price for t in takes), Decimal(0))
        fees = [fee_of(t.amount * t.price, TAKER_FEE) for t in takes]
        if order.side == "buy" and order.amount_quote is not None and complete and takes:
            # Bitvavo takes the fee out of amountQuote: the whole budget is spent, the last fill's fee takes the
            # remainder (the 0.25 % and the dust below one unit of the base asset).
            fees[-1] = order.amount_quote - cost - sum(fees[:-1], Decimal(0))
        # All-or-nothing balance check before anything moves: a rejected order leaves no trace.
        if order.side == "buy":
            if cost + sum(fees, Decimal(0)) > account.balance(QUOTE).available:
                raise ApiError(216)
        elif base_total > account.balance(spec.base).available:
            raise ApiError(216)
        for take, fee in zip(takes, fees, strict=True):
            self._fill(account, order, spec, take, taker=True, fee=fee)
        if not takes:
            order.status = "expired"
        elif complete:
            order.status = "filled"
        else:
            order.status = "canceledMarketProtection"

    def _place_limit(self, account: Account, order: Order, spec: MarketSpec) -> None:
        assert order.amount is not None and order.price is not None
        if order.side == "buy":
            hold = buy_hold(order.amount, order.price)
            account.hold(QUOTE, hold)
        else:
            hold = order.amount
            account.hold(spec.base, hold)
        order.on_hold = hold
        self.take_if_marketable(account, order, spec)

    def take_if_marketable(self, account: Account, order: Order, spec: MarketSpec) -> None:
        """Let a limit order take what it can from the book, then apply its time in force."""
        takes, _ = self._walk(spec, order.side, order.remaining, None, limit=order.price)
        if takes and order.post_only:
            self._close(account, order, "canceledPostOnly")
            return
        available = sum((t.amount for t in takes), Decimal(0))
        if order.time_in_force == "FOK" and available < order.remaining:
            self._close(account, order, "canceledFOK")
            return
        for take in takes:
            self._fill(account, order, spec, take, taker=True)
        if order.remaining == 0:
            self._close(account, order, "filled")
        elif order.time_in_force != "GTC":
            self._close(account, order, "canceledIOC")
        else:
            if order.filled_amount > 0:
                order.status = "partiallyFilled"
            self.resting[order.order_id] = order

    def _walk(
        self, spec: MarketSpec, side: str, amount: Decimal | None, quote: Decimal | None, limit: Decimal | None
    ) -> tuple[list[Take], bool]:
        """Fills a taker would get from the synthetic book, by base amount or by quote budget; True if complete."""
        bids, asks = self.prices.markets[spec.market].book(MARKET_BOOK_LEVELS)
        levels = asks if side == "buy" else bids
        if not levels:
            return [], False
        best = levels[0][0]
        worst = best * (1 + MARKET_PROTECTION) if side == "buy" else best * (1 - MARKET_PROTECTION)
        takes: list[Take] = []
        left_base = amount
        left_quote = quote
        for price, size in levels:
            if limit is not None and (price > limit if side == "buy" else price < limit):
                break
            if limit is None and (price > worst if side == "buy" else price < worst):
                break
            if left_base is not None:
                take = min(size, left_base)
                left_base -= take
            else:  # a quote budget (market buys only): the fee is a share of it (EUR 1,000 buys EUR 997.50)
                assert left_quote is not None
                net = 1 - TAKER_FEE
                take = min(size, truncate(left_quote * net / price, spec.quantity_decimals))
                left_quote -= take * price / net
            if take <= 0:
                return takes, True  # the quote budget cannot buy one more unit
            takes.append(Take(take, price))
            if left_base == 0:
                return takes, True
        return takes, False

    # ---- fills and settlement ------------------------------------------------------------------------------

    def _fill(self, account: Account, order: Order, spec: MarketSpec, take: Take, taker: bool,
              fee: Decimal | None = None) -> None:
        ts = self.now()
        notional = take.amount * take.price
        if fee is None:
            fee = fee_of(notional, TAKER_FEE if taker else MAKER_FEE)
        if order.side == "buy":
            charge = notional + fee
            from_hold = min(charge, order.on_hold)
            account.spend_held(QUOTE, from_hold)
            order.on_hold -= from_hold
            account.balance(QUOTE).available -= charge - from_hold  # market orders hold nothing
            account.credit(spec.base, take.amount)
        else:
            from_hold = min(take.amount, order.on_hold)
            account.spend_held(spec.base, from_hold)
            order.on_hold -= from_hold
            account.balance(spec.base).available -= take.amount - from_hold
            account.credit(QUOTE, notional - fee)
        order.fills.append(Fill(str(uuid.uuid4()), order.order_id, ts, take.amount, take.price, taker, fee))
        order.filled_amount += take.amount
        order.filled_amount_quote += notional
        order.fee_paid += fee
        order.updated = ts
        self.prices.add_fill_volume(spec.market, ts, take.amount)

    def _close(self, account: Account, order: Order, status: str) -> None:
        if order.on_hold:
            account.release(order.hold_currency, order.on_hold)
            order.on_hold = Decimal(0)
        order.status = status
        order.updated = self.now()
        self.resting.pop(order.order_id, None)

    # ---- resting orders ------------------------------------------------------------------------------------

    def match_market(self, market: str) -> None:
        """Fill resting limit orders against the current last price: partly at a touch, fully once crossed."""
        price = self.prices.markets[market].price
        spec = self.prices.markets[market].spec
        for order in list(self.resting.values()):
            if order.market != market or not order.active:
                continue
            assert order.price is not None
            crossed = price < order.price if order.side == "buy" else price > order.price
            if not crossed and price != order.price:
                continue
            # A touch fills one synthetic level of depth; a move through fills the rest.
            take = order.remaining if crossed else min(order.remaining, spec.level_size)
            account = self.accounts.accounts[order.account_id]
            self._fill(account, order, spec, Take(take, order.price), taker=False)
            if order.remaining == 0:
                self._close(account, order, "filled")
            else:
                order.status = "partiallyFilled"

    def match_all(self) -> None:
        for market in sorted({o.market for o in self.resting.values()}):
            self.match_market(market)

    # ---- cancel and update ---------------------------------------------------------------------------------

    def cancel(self, account: Account, order: Order) -> None:
        if not order.active:
            raise ApiError(233)
        self._close(account, order, "canceled")

    def update(
        self, account: Account, order: Order, amount: Decimal | None, price: Decimal | None,
        time_in_force: str | None, post_only: bool | None, stp: str | None,
    ) -> None:
        if order.order_type != "limit":
            raise ApiError(234)
        if not order.active:
            raise ApiError(233)
        assert order.amount is not None and order.price is not None
        spec = self.prices.markets[order.market].spec
        new_amount = order.amount if amount is None else amount
        new_price = order.price if price is None else price
        if new_amount <= order.filled_amount:
            raise ApiError(205, "amount parameter is invalid.")
        remaining = new_amount - order.filled_amount
        new_hold = buy_hold(remaining, new_price) if order.side == "buy" else remaining
        old_hold = order.on_hold
        account.release(order.hold_currency, old_hold)
        try:
            account.hold(order.hold_currency, new_hold)
        except ApiError:
            account.hold(order.hold_currency, old_hold)
            raise
        order.on_hold = new_hold
        order.amount, order.price = new_amount, new_price
        order.time_in_force = time_in_force or order.time_in_force
        order.post_only = order.post_only if post_only is None else post_only
        order.self_trade_prevention = stp or order.self_trade_prevention
        order.updated = self.now()
        self.take_if_marketable(account, order, spec)
