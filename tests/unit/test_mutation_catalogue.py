"""The mutation catalogue stays true: every guarantee has mutations, every edit still applies, every named test
exists, docs/guarantees.md lists each row's mutations; and the harness tells a caught mutation from a survivor."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from mutation.catalogue import GUARANTEES, REPO, CatalogueError, guarantee_rows, load

MUTATIONS = load()


def test_every_guarantee_has_at_least_two_mutations() -> None:
    per_row = {row: [m.name for m in MUTATIONS if m.guarantee == row] for row in guarantee_rows()}
    assert len(per_row) >= 13
    assert {row: names for row, names in per_row.items() if len(names) < 2} == {}


def test_every_mutation_belongs_to_a_guarantee_row() -> None:
    rows = set(guarantee_rows())
    assert [m.name for m in MUTATIONS if m.guarantee not in rows] == []


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_edit_still_applies_exactly_once(mutation: object) -> None:
    for edit in mutation.edits:  # type: ignore[attr-defined]
        edit.apply((REPO / edit.file).read_text())  # raises CatalogueError unless found exactly once


def test_an_edit_whose_text_moved_is_reported() -> None:
    edit = MUTATIONS[0].edits[0]
    with pytest.raises(CatalogueError, match="occurs 0 times"):
        edit.apply("nothing to mutate here")


def test_every_named_test_exists() -> None:
    missing = []
    for mutation in MUTATIONS:
        for test in mutation.tests:
            path, _, name = test.partition("::")
            target = REPO / path
            function = re.sub(r"\[.*\]$", "", name.split("::")[-1])
            if not target.exists() or (function and not re.search(rf"def {re.escape(function)}\b",
                                                                    target.read_text())):
                missing.append(f"{mutation.name}: {test}")
    assert missing == []


def test_the_guarantees_table_lists_each_rows_mutations() -> None:
    documented: dict[int, set[str]] = {}
    for line in GUARANTEES.read_text().splitlines():
        if match := re.match(r"^\| (\d+) \|", line):
            last_cell = line.rstrip().removesuffix("|").rsplit("|", 1)[-1]
            documented[int(match[1])] = set(re.findall(r"`([a-z0-9-]+)`", last_cell))
    catalogued: dict[int, set[str]] = defaultdict(set)
    for mutation in MUTATIONS:
        catalogued[mutation.guarantee].add(mutation.name)
    assert documented == dict(catalogued)


def test_the_harness_reports_a_caught_mutation_and_a_survivor(tmp_path: Path) -> None:
    caught = next(m for m in MUTATIONS if m.name == "readonly-session-may-place")
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(f"""
[[mutation]]
name = "caught-one"
guarantee = 3
why = "the real mutation"
tests = {list(caught.tests)!r}
[[mutation.edit]]
file = {caught.edits[0].file!r}
find = {caught.edits[0].find!r}
replace = {caught.edits[0].replace!r}

[[mutation]]
name = "harmless-one"
guarantee = 3
why = "an edit of a comment, which no test can see"
tests = {list(caught.tests)!r}
[[mutation.edit]]
file = "autoinvest/exchange/_session.py"
find = "# Our WeightBudget replaces"
replace = "# The WeightBudget replaces"
""")
    done = subprocess.run([sys.executable, "-m", "mutation", "--no-baseline", "--catalogue", str(catalogue)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"caught-one\s+caught", done.stdout), done.stdout
    assert re.search(r"harmless-one\s+survived", done.stdout), done.stdout
    assert "2 mutations: 1 caught, 1 survived, 0 errors" in done.stdout
    assert "The WeightBudget replaces" not in (REPO / "autoinvest/exchange/_session.py").read_text()
