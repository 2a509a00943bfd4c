"""The quarantine's canonical form of an item: stable (one row per distinct item) and storable as jsonb."""

from __future__ import annotations

import json

from autoinvest.lifecycle.quarantine import canonical


def test_the_same_item_in_any_key_order_is_one_canonical_text() -> None:
    assert canonical({"b": "1", "a": ["x", {"d": 1, "c": 2}]}) == canonical({"a": ["x", {"c": 2, "d": 1}], "b": "1"})


def test_a_nul_character_which_jsonb_refuses_is_replaced() -> None:
    text = canonical({"id": "a\x00b", "k\x00": ["\x00"]})
    assert "\\u0000" not in text
    assert json.loads(text) == {"id": "a\ufffdb", "k\ufffd": ["\ufffd"]}
