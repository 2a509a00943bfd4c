"""The mutation catalogue (``catalogue.toml``): per guarantee, named bugs and the tests that must catch each.

A mutation is one or more exact text edits (``find`` must occur exactly once in its file, so an edit
cannot silently stop applying when the code moves). Loading validates the file; nothing here runs tests.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = Path(__file__).with_name("catalogue.toml")
GUARANTEES = REPO / "docs" / "guarantees.md"
_ROW = re.compile(r"^\| (\d+) \|", re.MULTILINE)


class CatalogueError(ValueError):
    """The catalogue is malformed or no longer matches the code."""


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str

    def apply(self, source: str) -> str:
        count = source.count(self.find)
        if count != 1:
            raise CatalogueError(f"{self.file}: the text to mutate occurs {count} times, expected once:\n{self.find}")
        return source.replace(self.find, self.replace)


@dataclass(frozen=True)
class Mutation:
    name: str
    guarantee: int
    why: str
    tests: tuple[str, ...]
    edits: tuple[Edit, ...]

    def files(self) -> set[str]:
        return {edit.file for edit in self.edits}


def guarantee_rows(path: Path = GUARANTEES) -> list[int]:
    """The row numbers of the guarantees table."""
    return [int(n) for n in _ROW.findall(path.read_text())]


def load(path: Path = CATALOGUE) -> list[Mutation]:
    data = tomllib.loads(path.read_text())
    mutations: list[Mutation] = []
    for entry in data.get("mutation", []):
        try:
            edits = tuple(Edit(e["file"], e["find"], e["replace"]) for e in entry["edit"])
            mutation = Mutation(name=entry["name"], guarantee=int(entry["guarantee"]), why=entry["why"],
                                tests=tuple(entry["tests"]), edits=edits)
        except (KeyError, TypeError) as exc:
            raise CatalogueError(f"mutation {entry.get('name', '?')}: missing or bad field {exc}") from exc
        if not mutation.tests or not mutation.edits:
            raise CatalogueError(f"mutation {mutation.name}: needs at least one test and one edit")
        if find_same := [e for e in edits if e.find == e.replace]:
            raise CatalogueError(f"mutation {mutation.name}: an edit changes nothing ({find_same[0].file})")
        mutations.append(mutation)
    names = [m.name for m in mutations]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise CatalogueError(f"mutation names must be unique: {duplicated}")
    return mutations


def mutate(root: Path, mutation: Mutation) -> dict[Path, str]:
    """Apply ``mutation`` under ``root``; return the original text of each changed file."""
    originals: dict[Path, str] = {}
    for edit in mutation.edits:
        path = root / edit.file
        originals.setdefault(path, path.read_text())
        path.write_text(edit.apply(path.read_text()))
    return originals
