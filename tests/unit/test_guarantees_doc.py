"""docs/guarantees.md stays true: every test it names exists."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _references() -> list[tuple[str, str | None]]:
    text = (ROOT / "docs" / "guarantees.md").read_text()
    found: list[tuple[str, str | None]] = []
    current = ""
    for token in re.findall(r"`([^`]+)`", text):
        if token.startswith("tests/"):
            path, _, name = token.partition("::")
            current = path
            found.append((path, name or None))
        elif token.startswith("::") and current:
            found.append((current, token[2:]))
    return found


def test_every_named_test_exists() -> None:
    refs = _references()
    assert len(refs) > 40, refs
    missing = []
    for path, name in refs:
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name:
            function = re.sub(r"\[.*\]$", "", name)
            if not re.search(rf"def {re.escape(function)}\b", target.read_text()):
                missing.append(f"{path}::{name}")
    assert missing == []
