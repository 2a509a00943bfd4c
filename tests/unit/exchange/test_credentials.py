"""Credentials never show their secret and only build the client of their purpose."""

from __future__ import annotations

import pytest

from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import KeySeparationError
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange.budget import BudgetRegistry, WeightBudget
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading

SECRET = "s3cr3t-" + "x" * 57


def credential(purpose: CredentialPurpose) -> Credential:
    return Credential(api_key="A" * 64, api_secret=SECRET, purpose=purpose, base_url="http://127.0.0.1:1/v2")


def test_the_secret_is_never_shown() -> None:
    cred = credential(CredentialPurpose.TRADE)
    for shown in (repr(cred), str(cred), f"{cred}", repr([cred])):
        assert SECRET not in shown
        assert "A" * 64 not in shown


def test_host_url_drops_the_v2_suffix() -> None:
    assert credential(CredentialPurpose.READONLY).host_url == "http://127.0.0.1:1"
    bitvavo = Credential(api_key="a", api_secret="b", purpose=CredentialPurpose.READONLY)
    assert bitvavo.host_url == "https://api.bitvavo.com"


def test_a_trade_key_cannot_build_market_data() -> None:
    with pytest.raises(KeySeparationError):
        market_data(credential(CredentialPurpose.TRADE))


def test_a_readonly_key_cannot_build_trading() -> None:
    with pytest.raises(KeySeparationError) as caught:
        trading(credential(CredentialPurpose.READONLY))
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("endpoint", [e for e in vars(ep).values() if isinstance(e, ep.Endpoint) and e.changes_state],
                         ids=lambda e: e.name)
async def test_a_session_built_from_a_readonly_key_refuses_every_state_changing_endpoint(
        endpoint: ep.Endpoint) -> None:
    # The side door: code that builds the private Session itself instead of going through trading().
    # Nothing listens on port 1, so a request that was sent would fail as unreachable, not as key separation.
    pool = SessionPool(budgets=BudgetRegistry(WeightBudget))
    session = pool.session(credential(CredentialPurpose.READONLY), owner="test", timeout_ms=1000,
                           access_window_ms=10_000)
    try:
        with pytest.raises(KeySeparationError) as caught:
            await session.call(endpoint, {"market": "BTC-EUR", "orderId": "x"})
    finally:
        await pool.close()
    assert SECRET not in str(caught.value)


def test_placing_and_cancelling_are_the_state_changing_endpoints() -> None:
    changing = {e.name for e in vars(ep).values() if isinstance(e, ep.Endpoint) and e.changes_state}
    assert {ep.PLACE_ORDER.name, ep.CANCEL_ORDER.name} <= changing


async def test_ccxt_never_retries_a_request_on_its_own() -> None:
    credential = Credential(api_key="k" * 10, api_secret="s" * 10, purpose=CredentialPurpose.TRADE)
    pool = SessionPool()
    session = pool.session(credential, owner="test", timeout_ms=1000, access_window_ms=1000)
    await pool.close()
    options = session._exchange.options
    assert (options.get("maxRetriesOnFailure"), options.get("maxRetriesOnFailureDelay")) == (0, 0)
