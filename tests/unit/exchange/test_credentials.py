"""Credentials never show their secret and only build the client of their purpose."""

from __future__ import annotations

import pytest

from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import KeySeparationError
from autoinvest.exchange.credentials import Credential
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
