"""Guarantee 10: each kind of drift, made on the simulator, is repaired and reported by one run; the next is clean."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import Side
from autoinvest.exchange.base import MarketData, OrderRequest
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.ledger import repo as ledger_repo
from autoinvest.observability import metrics
from autoinvest.reconcile.service import reconcile_all
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting, reconcile
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant

D = Decimal


def gauge(kind: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("autoinvest_reconcile_mismatches", {"kind": kind})


async def execution_state(conn: AppConnection, t: TradingTenant, execution_id: UUID) -> dict[str, Any]:
    async with user_tx(conn, t.user_id):
        cur = await conn.execute("SELECT state, (SELECT count(*) FROM fills f WHERE f.execution_id = e.id) AS fills"
                                 " FROM executions e WHERE id = %s", (execution_id,))
        row = await cur.fetchone()
        assert row is not None
        assert await ledger_repo.check(conn, t.profile_id) is None
        (await ledger_repo.account(conn, t.profile_id)).check()
        return row


async def assert_clean_next_run(conn: AppConnection, settings: Settings, t: TradingTenant) -> None:
    again = await reconcile(conn, settings, t)
    assert again.counts() == dict.fromkeys(again.counts(), 0), again.to_json()
    assert all(gauge(kind) == 0 for kind in again.counts())
    [account] = again.accounts
    assert account.balances == "compared" and [p.status for p in account.profiles] == ["ok"]


async def test_a_missed_partial_fill_then_a_missed_fill_and_close(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        resting = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price)
        simulator.admin.set_price("BTC-EUR", price)  # a touch: one level (0.01) fills; no monitor runs
        first = await reconcile(app_conn, settings, t)
        assert first.counts()["missed_fill"] == 1 and gauge("missed_fill") == 1, first.to_json()
        assert await execution_state(app_conn, t, resting.execution_id) == {"state": "SUBMITTED", "fills": 1}
        simulator.admin.set_price("BTC-EUR", price - 100)  # crossed: the rest fills, the order closes
        second = await reconcile(app_conn, settings, t)
        counts = second.counts()
        assert (counts["missed_fill"], counts["missed_close"]) == (1, 1), second.to_json()
        assert await execution_state(app_conn, t, resting.execution_id) == {"state": "FILLED", "fills": 2}
        async with user_tx(app_conn, t.user_id):
            account = await ledger_repo.account(app_conn, t.profile_id)
            cur = await app_conn.execute("SELECT status, mismatches FROM reconciliation_runs ORDER BY started_at")
            runs = await cur.fetchall()
            cur = await app_conn.execute("SELECT sum(fee) AS fee FROM fills")
            fee = (await cur.fetchone() or {})["fee"]
        # the position cost what was paid: the quote and the (maker) fee charged on top of a limit order
        assert account.reserved_for_orders == 0 and account.reserved_for_positions == D("0.015") * price + fee
        assert [r["status"] for r in runs] == ["repaired", "repaired"]
        assert runs[1]["mismatches"]["missed_close"] == 1
        await assert_clean_next_run(app_conn, settings, t)


async def test_a_missed_cancel_closes_the_execution_and_releases_its_reservation(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        resting = await place_resting(app_conn, settings, t, market="ETH-EUR", amount=D("0.1"),
                                      price=below(simulator, "ETH-EUR"))
        clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
        try:  # canceled at the exchange behind our back
            await clients.trader.cancel_order("ETH-EUR", operator_id=1, order_id=resting.report.order_id)
        finally:
            await clients.close()
        report = await reconcile(app_conn, settings, t)
        assert report.counts()["missed_close"] == 1 and gauge("missed_close") == 1, report.to_json()
        assert await execution_state(app_conn, t, resting.execution_id) == {"state": "CANCELED", "fills": 0}
        async with user_tx(app_conn, t.user_id):
            assert (await ledger_repo.account(app_conn, t.profile_id)).reserved_for_orders == 0
        await assert_clean_next_run(app_conn, settings, t)


async def test_an_order_unknown_to_the_database_is_adopted_and_reported(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, market="ETH-EUR", amount_eur=D("100"),
                                   status="PENDING")
    coid = client_order_id(t.user_id, proposal)
    with frozen_prices(simulator):
        price = below(simulator, "ETH-EUR")
        clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
        try:  # our clientOrderId, but no execution row: as if a crash lost the record
            await clients.trader.place_order(OrderRequest.limit_order(
                market="ETH-EUR", side=Side.BUY, client_order_id=str(coid), operator_id=1, amount=D("0.05"),
                price=price))
        finally:
            await clients.close()
        report = await reconcile(app_conn, settings, t)
        assert report.counts()["unknown_order"] == 1 and gauge("unknown_order") == 1, report.to_json()
        [run] = report.accounts[0].profiles
        assert run.repaired[0]["proposal_id"] == str(proposal) and run.repaired[0]["state"] == "SUBMITTED"
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT state, reasons, reserved_eur FROM executions WHERE proposal_id = %s",
                                         (proposal,))
            row = await cur.fetchone()
            cur = await app_conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'reconcile.adopt'")
            audits = await cur.fetchone()
        assert row is not None and row["state"] == "SUBMITTED" and row["reasons"] == ["ADOPTED_BY_RECONCILIATION"]
        # the quote, with no fee headroom (a buy by amountQuote has the fee inside; a limit's fee, charged on top,
        # comes from free capital when it fills)
        assert row["reserved_eur"] == D("0.05") * price and audits == {"n": 1}
        await assert_clean_next_run(app_conn, settings, t)


async def test_a_coin_shortfall_pauses_the_profile_and_waits_for_an_operators_ack(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.01"), price=price)
        simulator.admin.set_price("BTC-EUR", price - 100)  # fills
        await reconcile(app_conn, settings, t)
        balances = simulator.admin.balances(t.trade_key.account_id)
        assert balances["BTC"]["available"] == D("0.01")
        simulator.admin.set_balances(t.trade_key.account_id, {"EUR": balances["EUR"]["available"], "BTC": "0.004"})
        pauses = metrics.REGISTRY.get_sample_value("autoinvest_reconcile_shortfall_pauses_total") or 0
        report = await reconcile(app_conn, settings, t)
        assert report.counts()["balance_drift"] == 1 and gauge("balance_drift") == 1, report.to_json()
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT sum(fee) AS fee FROM fills")
            cost = D("0.01") * price + (await cur.fetchone() or {})["fee"]  # the fee is part of the cost
        lost = cost * D("0.6")  # 60% of the coins vanished: 60% of the cost basis is the loss to book
        [pending] = [r for r in report.accounts[0].profiles[0].reported if r["kind"] == "balance_drift"]
        assert D(pending["adjust_eur"]) == -lost and "pending_ack" in pending, report.to_json()
        async with user_tx(app_conn, t.user_id):  # worth more than the threshold: not booked, profile paused
            cur = await app_conn.execute("SELECT quantity FROM positions WHERE market = 'BTC-EUR'")
            assert await cur.fetchone() == {"quantity": D("0.01")}
            cur = await app_conn.execute("SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                                         (t.profile_id,))
            assert await cur.fetchone() == {"trading_enabled": False}
            cur = await app_conn.execute("SELECT details->>'reason' AS reason FROM audit_log"
                                         " WHERE action = 'kill_switch.on' AND subject_id = %s", (str(t.profile_id),))
            [row] = await cur.fetchall()
            assert row["reason"].startswith("RECONCILE_SHORTFALL: BTC short by 0.006")
        assert metrics.REGISTRY.get_sample_value("autoinvest_reconcile_shortfall_pauses_total") == pauses + 1
        again = await reconcile(app_conn, settings, t)  # still pending: one item, refreshed, no second pause
        assert again.counts()["balance_drift"] == 1
        assert metrics.REGISTRY.get_sample_value("autoinvest_reconcile_shortfall_pauses_total") == pauses + 1

        env = processes.env_for(db, simulator)
        code, listed, err = processes.execute_result(processes.start(["reconcile", "pending", "--user",
                                                                       str(t.user_id)], env))
        assert code == 0 and listed is not None, err
        assert [(i["market"], i["d_quantity"]) for i in listed["pending"]] == [("BTC-EUR", "-0.006")]
        code, acked, err = processes.execute_result(processes.start(["reconcile", "ack", "--profile",
                                                                     str(t.profile_id)], env))
        assert code == 0 and acked is not None, err
        [booked] = acked["booked"]
        assert (booked["market"], D(booked["d_quantity"]), D(booked["adjust_eur"])) == ("BTC-EUR", D("-0.006"), -lost)
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT quantity, cost_basis_eur FROM positions WHERE market = 'BTC-EUR'")
            position = await cur.fetchone()
            cur = await app_conn.execute("SELECT d_reserved_for_positions, d_realized_pnl FROM ledger_entries"
                                         " WHERE kind = 'ADJUST'")
            adjust = await cur.fetchall()
            account = await ledger_repo.account(app_conn, t.profile_id)
            assert await ledger_repo.check(app_conn, t.profile_id) is None
            cur = await app_conn.execute("SELECT actor FROM audit_log WHERE action = 'reconcile.adjust_ack'")
            [row] = await cur.fetchall()
            assert row["actor"].startswith("operator:")  # audited as the operator at the keyboard
        assert position == {"quantity": D("0.004"), "cost_basis_eur": cost - lost}
        assert adjust == [{"d_reserved_for_positions": -lost, "d_realized_pnl": -lost}]
        assert account.reserved_for_positions == cost - lost
        await assert_clean_next_run(app_conn, settings, t)


async def test_coins_back_before_the_ack_clear_the_pending_item(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.01"), price=price)
        simulator.admin.set_price("BTC-EUR", price - 100)  # fills
        await reconcile(app_conn, settings, t)
        eur = simulator.admin.balances(t.trade_key.account_id)["EUR"]["available"]
        simulator.admin.set_balances(t.trade_key.account_id, {"EUR": eur, "BTC": "0.004"})
        await reconcile(app_conn, settings, t)
        simulator.admin.set_balances(t.trade_key.account_id, {"EUR": eur, "BTC": "0.01"})  # found and put back
        await assert_clean_next_run(app_conn, settings, t)
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT status FROM reconcile_adjustments")
            assert await cur.fetchall() == [{"status": "cleared"}]
            cur = await app_conn.execute("SELECT count(*) AS n FROM ledger_entries WHERE kind = 'ADJUST'")
            assert await cur.fetchone() == {"n": 0}


async def test_a_small_coin_shortfall_is_booked_at_once(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.01"), price=price)
        simulator.admin.set_price("BTC-EUR", price - 100)  # fills
        await reconcile(app_conn, settings, t)
        balances = simulator.admin.balances(t.trade_key.account_id)
        simulator.admin.set_balances(t.trade_key.account_id, {"EUR": balances["EUR"]["available"], "BTC": "0.00999"})
        report = await reconcile(app_conn, settings, t)  # 0.00001 BTC is worth cents: below the threshold
        [item] = report.accounts[0].profiles[0].repaired
        assert item["kind"] == "balance_drift" and item["d_quantity"] == "-0.00001", report.to_json()
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT quantity FROM positions WHERE market = 'BTC-EUR'")
            assert await cur.fetchone() == {"quantity": D("0.00999")}
        await assert_clean_next_run(app_conn, settings, t)


async def test_less_eur_on_the_exchange_than_the_ledger_counts_is_reported_until_it_is_back(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)  # 5000 EUR on the exchange, 3000 allocated
    simulator.admin.set_balances(t.trade_key.account_id, {"EUR": "2000"})  # a withdrawal the ledger never saw
    report = await reconcile(app_conn, settings, t)
    assert report.counts()["eur_shortfall"] == 1 and gauge("eur_shortfall") == 1, report.to_json()
    [item] = [r for r in report.accounts[0].profiles[0].reported if r["kind"] == "eur_shortfall"]
    assert (item["ledger_cash"], item["exchange"], item["shortfall"]) == ("3000", "2000", "1000")
    async with user_tx(app_conn, t.user_id):  # reported, never booked: which profile lost it is unknowable
        assert (await ledger_repo.account(app_conn, t.profile_id)).allocated == D("3000")
        cur = await app_conn.execute("SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                                     (t.profile_id,))
        assert await cur.fetchone() == {"trading_enabled": False}  # paused: it must not spend EUR that is gone
    simulator.admin.set_balances(t.trade_key.account_id, {"EUR": "3000"})
    await assert_clean_next_run(app_conn, settings, t)


async def test_one_instance_at_a_time_and_the_cli_prints_json(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    holder = await processes_conn(db)
    try:  # another instance holds the profile's lock: this run skips the account, it does not wait
        async with user_tx(holder, t.user_id):
            await holder.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (0x5245, str(t.profile_id)))
        report = await reconcile(app_conn, settings, t)
        assert report.accounts[0].skipped is not None and report.accounts[0].profiles == []
    finally:
        await holder.close()
    proc = processes.start(["reconcile", "--profile", str(t.profile_id)], processes.env_for(db, simulator))
    code, payload, err = processes.execute_result(proc)
    assert code == 0, err
    assert payload is not None and payload["mismatches"]["missed_fill"] == 0
    assert payload["accounts"][0]["profiles"][0]["profile_id"] == str(t.profile_id)
    assert payload["accounts"][0]["balances"] == "skipped"  # one profile of a shared account: orders only
    bad = processes.start(["reconcile", "--profile", "nope"], processes.env_for(db, simulator))
    code, _, err = processes.execute_result(bad)
    assert code == 2 and "ID_INVALID" in err


async def processes_conn(db: DatabaseUnderTest) -> AppConnection:
    from autoinvest.db.tx import connect

    return await connect(db.app_url)


async def test_reconcile_all_visits_accounts_through_the_id_functions(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    report = await reconcile_all(app_conn, reader_for, profile_id=t.profile_id)
    assert [a.user_id for a in report.accounts] == [t.user_id]
