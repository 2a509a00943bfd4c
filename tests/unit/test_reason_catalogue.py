"""Every reason code in autoinvest/ is in the one catalogue (autoinvest/reasons.py), with where it can appear.

The walker reads the source (AST, nothing is run) and finds codes where the code base puts them:

- ``reason=`` / ``reasons=`` keyword arguments (a string, a list or tuple of strings, an f-string);
- class-level ``reason = "…"`` attributes (the error tree, and any class like it);
- module-level UPPER_CASE constants whose value is a code (``ENTRY_IN_PROGRESS = "ENTRY_IN_PROGRESS"``);
- ``{"reason": "…"}`` dict entries (audit details, log extras);
- the first argument of the proposers' rejection constructors (``Rejection("…")``, ``_Refused("…")``);
- every code-shaped string inside a function whose name says it computes a reason (``_reason_of``).

An f-string reason is expanded from its known values (``f"{kind.upper()}_NOT_FOUND"`` from ``OwnedKind``); an
f-string the test does not know fails, asking for its expansion. The pre-flight codes come from ``ReasonCode``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import get_args

import pytest

from autoinvest import errors, reasons
from autoinvest.db.ids import OwnedKind
from autoinvest.policy.reasons import REASON_CODES, ReasonCode

PACKAGE = Path(reasons.__file__).resolve().parent
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
REASON_KEYWORDS = frozenset({"reason", "reasons"})
#: Callables whose first positional argument is a reason code.
REASON_CONSTRUCTORS = frozenset({"Rejection", "_Refused"})
#: f-string reasons and the codes they can produce.
FSTRING_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "f'{kind.upper()}_NOT_FOUND'": tuple(f"{kind.upper()}_NOT_FOUND" for kind in get_args(OwnedKind)),
    "f'{SHORTFALL_PAUSE}: {why}'": ("RECONCILE_SHORTFALL",),
}


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _strings(expr: ast.expr | None) -> Iterator[str]:
    """The literal strings an expression in a reason position can evaluate to (an f-string as its source)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        yield expr.value
    elif isinstance(expr, ast.JoinedStr):
        yield ast.unparse(expr)
    elif isinstance(expr, ast.List | ast.Tuple | ast.Set):
        for element in expr.elts:
            yield from _strings(element)
    elif isinstance(expr, ast.IfExp):
        yield from _strings(expr.body)
        yield from _strings(expr.orelse)
    elif isinstance(expr, ast.BoolOp):
        for value in expr.values:
            yield from _strings(value)


def _assigned(node: ast.stmt) -> tuple[list[str], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)], node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id], node.value
    return [], None


def reason_literals(source: str) -> list[tuple[int, str]]:
    """(line, code) for every reason the source names; an f-string reason is given as its source text."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []

    def add(line: int, values: Iterable[str]) -> None:
        found.extend((line, value) for value in values)

    for statement in tree.body:  # module-level constants holding a code
        names, value = _assigned(statement)
        if any(name.isupper() for name in names):
            add(statement.lineno, (s for s in _strings(value) if CODE.match(s)))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                names, value = _assigned(statement)
                if "reason" in names:
                    add(statement.lineno, _strings(value))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in REASON_KEYWORDS:
                    add(node.lineno, _strings(keyword.value))
            if _callee(node) in REASON_CONSTRUCTORS and node.args:
                add(node.lineno, _strings(node.args[0]))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in REASON_KEYWORDS:
                    add(node.lineno, _strings(value))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "reason" in node.name.lower():
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and CODE.match(inner.value):
                    add(inner.lineno, [inner.value])
    return sorted(set(found))


def expand(literal: str) -> tuple[str, ...]:
    """The codes one found literal stands for; an f-string must be known in FSTRING_EXPANSIONS."""
    if literal.startswith(("f'", 'f"')):
        if literal not in FSTRING_EXPANSIONS:
            raise AssertionError(f"an f-string reason {literal}: add its codes to FSTRING_EXPANSIONS")
        return FSTRING_EXPANSIONS[literal]
    return (literal,)


def missing_from_catalogue(source: str, catalogue: frozenset[str]) -> list[str]:
    """Every code the source names that the catalogue does not list, as 'line: CODE'."""
    return [f"{line}: {code}" for line, literal in reason_literals(source) for code in expand(literal)
            if code not in catalogue]


def _sources() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent).as_posix(), path.read_text(encoding="utf-8")


def codes_in_source() -> dict[str, set[str]]:
    """code -> the files naming it."""
    where: dict[str, set[str]] = {}
    for relative, source in _sources():
        for _line, literal in reason_literals(source):
            for code in expand(literal):
                where.setdefault(code, set()).add(relative)
    return where


# ---------------------------------------------------------------- the real tree

def test_every_code_in_the_source_is_in_the_catalogue() -> None:
    missing = {relative: found for relative, source in _sources()
               if (found := missing_from_catalogue(source, frozenset(reasons.CATALOGUE)))}
    assert missing == {}, "add these codes to autoinvest/reasons.py (code, meaning, where it appears)"


def test_every_catalogued_code_is_still_used() -> None:
    # A code nothing names any more is dead text; the error tree and the pre-flight are read from the classes.
    used = set(codes_in_source()) | REASON_CODES | {cls.reason for cls in _subclasses(errors.AutoInvestError)}
    assert sorted(set(reasons.CATALOGUE) - used) == []


def test_the_pre_flight_codes_are_the_catalogue_s_preflight_subset() -> None:
    preflight = {code for code, entry in reasons.CATALOGUE.items() if reasons.Where.PREFLIGHT in entry.where}
    assert preflight == REASON_CODES == {code.value for code in ReasonCode}


def test_every_error_class_reason_is_catalogued_as_an_error() -> None:
    for cls in _subclasses(errors.AutoInvestError):
        assert cls.reason in reasons.CATALOGUE, cls
        assert reasons.Where.ERROR in reasons.CATALOGUE[cls.reason].where, cls


def test_each_entry_is_well_formed() -> None:
    for code, entry in reasons.CATALOGUE.items():
        assert entry.code == code
        assert entry.meaning and "\n" not in entry.meaning and len(entry.meaning) <= 120, code
        assert entry.where, code
        if reasons.Where.LEDGER_MEMO not in entry.where:
            assert CODE.match(code), code


def test_the_constants_of_the_catalogue_are_its_own_codes() -> None:
    constants = {name: value for name, value in vars(reasons).items()
                 if name.isupper() and not name.startswith("_") and isinstance(value, str)}
    assert constants, "the catalogue defines the module-level codes"
    for name, value in constants.items():
        assert name == value and value in reasons.CATALOGUE, name


def _execution_module_constants() -> set[str]:
    found: set[str] = set()
    paths = [*sorted((PACKAGE / "execution").glob("*.py")), PACKAGE / "reconcile" / "repair.py"]
    for path in paths:
        for statement in ast.parse(path.read_text(encoding="utf-8")).body:
            names, value = _assigned(statement)
            if any(name.isupper() for name in names):
                found.update(s for s in _strings(value) if CODE.match(s))
    return found


def test_every_code_an_execution_row_can_carry_is_catalogued_under_execution() -> None:
    exchange = {cls.reason for cls in _subclasses(errors.ExchangeError)} | {reasons.EXCHANGE_MALFORMED_RESPONSE}
    # What the executor's clients_for can raise before anything is sent (submit_claimed refuses with it).
    keys = {"VAULT_KEY_MISSING", "VAULT_KEYS_NOT_SEPARATE", "VAULT_KEY_INVALID", "VAULT_DECRYPT_FAILED",
            "CREDENTIAL_NOT_FOUND", errors.KeySeparationError.reason}
    constants = _execution_module_constants() | {"ENTRY_IN_PROGRESS", "NOT_FOUND_AFTER_WINDOW",
                                                 "INSUFFICIENT_EXCHANGE_BALANCE", "ADOPTED_BY_RECONCILIATION"}
    expected = REASON_CODES | exchange | keys | constants
    assert sorted(expected - reasons.codes(reasons.Where.EXECUTION)) == []


def _subclasses(cls: type[errors.AutoInvestError]) -> set[type[errors.AutoInvestError]]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


# ---------------------------------------------------------------- the walker itself

PLANTED: dict[str, tuple[str, str]] = {
    "an inline reason= keyword": ('raise InputError("no", reason="SOMETHING_NEW")\n', "SOMETHING_NEW"),
    "a class attribute": ('class Refused(AutoInvestError):\n    reason = "SOMETHING_NEW"\n', "SOMETHING_NEW"),
    "an annotated class attribute": ('class Refused(AutoInvestError):\n    reason: str = "SOMETHING_NEW"\n',
                                     "SOMETHING_NEW"),
    "a module constant": ('SOMETHING = "SOMETHING_NEW"\n', "SOMETHING_NEW"),
    "a list of reasons": ('records.transition(conn, x, reasons=[KNOWN, "SOMETHING_NEW"])\n', "SOMETHING_NEW"),
    "a conditional reason": ('refuse(reason="KILL_SWITCH_GLOBAL" if on else "SOMETHING_NEW")\n', "SOMETHING_NEW"),
    "an audit detail": ('audit.record(conn, {"reason": "SOMETHING_NEW"})\n', "SOMETHING_NEW"),
    "a rejection": ('return Proposals(rejections=(Rejection("SOMETHING_NEW", "x"),))\n', "SOMETHING_NEW"),
    "a reason function": ('def _reason_of(e):\n    return {"a": "X_INVALID"}.get(e, "SOMETHING_NEW")\n',
                          "SOMETHING_NEW"),
    "a lower-case memo reason": ('entries.adjust(p, r, reason="something_new")\n', "something_new"),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_the_walker_finds_a_planted_code(case: str) -> None:
    source, code = PLANTED[case]
    assert code in [literal for _line, literal in reason_literals(source)]
    assert any(f.endswith(f": {code}") for f in missing_from_catalogue(source, frozenset(reasons.CATALOGUE)))


def test_a_catalogued_code_planted_inline_passes() -> None:
    assert missing_from_catalogue('raise NotFound("x", reason="PROFILE_NOT_FOUND")\n',
                                  frozenset(reasons.CATALOGUE)) == []


def test_an_f_string_reason_is_expanded_from_its_known_values() -> None:
    source = 'raise NotFound("x", reason=f"{kind.upper()}_NOT_FOUND")\n'
    assert missing_from_catalogue(source, frozenset(reasons.CATALOGUE)) == []
    assert missing_from_catalogue(source, frozenset({"USER_NOT_FOUND"})) == [
        "1: PROFILE_NOT_FOUND", "1: PROPOSAL_NOT_FOUND", "1: EXECUTION_NOT_FOUND"]


def test_an_unknown_f_string_reason_fails_asking_for_its_expansion() -> None:
    with pytest.raises(AssertionError, match="FSTRING_EXPANSIONS"):
        missing_from_catalogue('raise NotFound("x", reason=f"{what}_GONE")\n', frozenset(reasons.CATALOGUE))


def test_the_walker_ignores_what_is_not_a_reason() -> None:
    source = ('ENV_PREFIX = "AUTOINVEST_"\nQUOTE = "EUR"\nlog.info("x", extra={"loop": "SOME_NAME"})\n'
              'kill_switch.set_user(conn, u, True, reason=reason)\nreport(error=exc.reason)\n'
              '__all__ = ["REASON_CODES"]\n')
    assert reason_literals(source) == []
