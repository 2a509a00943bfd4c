"""LLM output validation: malformed or out-of-policy answers make no proposal and say why."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from autoinvest.domain.states import Side
from autoinvest.proposers import llm
from autoinvest.proposers.base import Proposals
from tests.unit.proposers.factory import closes, snapshot, view

SNAP = snapshot(view("BTC-EUR", closes(100, 101), price="50000", position="0.001"), view("ETH-EUR", closes(1, 2)),
                allowlist=("BTC-EUR", "ETH-EUR"), min_eur="10", max_eur="100")


def item(**overrides: Any) -> dict[str, Any]:
    return {"market": "BTC-EUR", "side": "buy", "amount_eur": "25.50", "confidence": 75,
            "rationale": "trend up"} | overrides


def answer(*items: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"proposals": list(items), **extra})


def reason(result: Proposals) -> str:
    assert result.drafts == ()
    (rejection,) = result.rejections
    return rejection.reason


def test_a_valid_answer_becomes_drafts_with_decimal_amounts() -> None:
    result = llm.parse_answer(answer(item(), item(market="BTC-EUR", side="sell", amount_eur="250.00")
                                     | {"amount_eur": "50.00"}), SNAP)
    assert result.rejections == ()
    buy, sell = result.drafts
    assert (buy.side, buy.amount_eur, buy.confidence) == (Side.BUY, Decimal("25.50"), 75)
    assert (sell.side, sell.amount_base, sell.amount_eur) == (Side.SELL, Decimal("0.001"), None)  # 50 EUR / 50000


def test_an_empty_list_is_no_proposal_and_no_rejection() -> None:
    assert llm.parse_answer(answer(), SNAP) == Proposals()


@pytest.mark.parametrize(("content", "expected"), [
    ("I think you should buy BTC", "NOT_JSON"),
    ('{"proposals": [', "NOT_JSON"),
    ("NaN", "NOT_JSON"),
    ("", "EMPTY_OUTPUT"),
    (answer(item(confidence=60)), "CONFIDENCE_INVALID"),
    (answer(item(confidence="75")), "CONFIDENCE_INVALID"),
    (answer(item(market="DOGE-EUR")), "MARKET_NOT_ALLOWED"),
    (answer(item(amount_eur="-5")), "AMOUNT_INVALID"),
    (answer(item(amount_eur="0")), "AMOUNT_INVALID"),
    (answer(item(amount_eur="1e2")), "AMOUNT_INVALID"),
    (answer(item(amount_eur="12.345")), "AMOUNT_INVALID"),
    ('{"proposals": [{"market": "BTC-EUR", "side": "buy", "amount_eur": 25.5, "confidence": 75, "rationale": ""}]}',
     "AMOUNT_INVALID"),
    (answer(item(amount_eur="100.01")), "AMOUNT_ABOVE_MAX"),
    (answer(item(amount_eur="9.99")), "AMOUNT_BELOW_MIN"),
    (answer(item(leverage=10)), "EXTRA_FIELDS"),
    (answer(item(), reasoning="because"), "EXTRA_FIELDS"),
    (answer(item(side="short")), "SIDE_INVALID"),
    (json.dumps({"proposals": [{"market": "BTC-EUR"}]}), "SCHEMA_INVALID"),
    (json.dumps([item()]), "SCHEMA_INVALID"),
    (answer(item(side="sell", amount_eur="100.00")), "SELL_ABOVE_POSITION"),
    (answer(item(market="ETH-EUR", side="sell", amount_eur="10.00")), "SELL_ABOVE_POSITION"),
])
def test_malformed_or_out_of_policy_output_makes_no_proposal(content: str, expected: str) -> None:
    assert reason(llm.parse_answer(content, SNAP)) == expected


def test_one_bad_item_refuses_the_whole_answer() -> None:
    assert reason(llm.parse_answer(answer(item(), item(market="XRP-EUR")), SNAP)) == "MARKET_NOT_ALLOWED"


def test_the_schema_sent_is_strict_and_amounts_are_strings() -> None:
    proposal = llm.RESPONSE_SCHEMA["properties"]["proposals"]["items"]
    assert llm.RESPONSE_SCHEMA["additionalProperties"] is False and proposal["additionalProperties"] is False
    assert set(proposal["required"]) == set(proposal["properties"])
    assert proposal["properties"]["amount_eur"]["type"] == "string"
    assert proposal["properties"]["confidence"]["enum"] == [0, 25, 50, 75, 100]


def test_the_prompt_carries_decimals_as_strings() -> None:
    data = json.loads(llm.prompt(SNAP))
    assert data["allowed_markets"] == ["BTC-EUR", "ETH-EUR"]
    assert data["markets"]["BTC-EUR"]["price"] == "50000" and data["max_order_eur"] == "100"
