"""No module outside ``autoinvest.db`` catches (or names) a database driver exception.

``autoinvest/db/errors.py`` is the one translation point: code elsewhere catches our classes (``UniqueViolated``,
``CheckRefused``, ``ForeignKeyMissing``, ``DatabaseUnavailable``, by ``constraint``). import-linter cannot see an
``except`` clause, so this walks the source: every expression rooted at a name bound to psycopg, psycopg_pool or
``autoinvest.db.driver`` that resolves to an exception class is reported, and so is any ``except`` clause naming
such a root. The planted cases prove that the walker finds each spelling.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import psycopg
import pytest

from autoinvest.db import driver

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "autoinvest"
DRIVER_MODULES = ("psycopg", "psycopg_pool", "autoinvest.db.driver")

def _is_driver(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in DRIVER_MODULES)


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*base, *([module] if module else [])])


def _bindings(tree: ast.AST, package: str) -> dict[str, str]:
    """Local name -> the dotted driver path it is bound to (a module or a name imported from one)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_driver(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:  # `import psycopg.errors` binds `psycopg`
                        root = alias.name.split(".")[0]
                        bound[root] = root
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, package)
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if _is_driver(target) or _is_driver(module):
                    bound[alias.asname or alias.name] = target
    return bound


def _dotted(expr: ast.expr) -> tuple[str, list[str]] | None:
    """(root name, attribute chain) of ``a.b.c``, or None for anything that is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.insert(0, expr.attr)
        expr = expr.value
    return (expr.id, parts) if isinstance(expr, ast.Name) else None


def _resolve(path: str, chain: list[str]) -> object:
    """The object a driver path names (importing what it must); for a name the seam does not export (any more),
    the psycopg class of that name, if there is one; None when nothing is found."""
    names = path.split(".") + chain
    obj: object = None
    for cut in range(len(names), 0, -1):
        try:
            obj = importlib.import_module(".".join(names[:cut]))
        except ImportError:
            continue
        for name in names[cut:]:
            obj = getattr(obj, name, None)
        break
    if obj is None and names:
        obj = getattr(psycopg.errors, names[-1], None) or getattr(psycopg, names[-1], None)
    return obj


def driver_exceptions(source: str, *, package: str = "autoinvest") -> list[str]:
    """Every place the source names a driver exception class, or catches something rooted at the driver."""
    tree = ast.parse(source)
    bound = _bindings(tree, package)
    found: list[tuple[int, str]] = []
    caught: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            kinds = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for kind in kinds:
                dotted = _dotted(kind)
                if dotted is not None and dotted[0] in bound:
                    found.append((kind.lineno, ast.unparse(kind)))
                    caught.add(id(kind))
    for node in ast.walk(tree):
        if id(node) in caught or not isinstance(node, ast.Attribute | ast.Name):
            continue
        dotted = _dotted(node)
        if dotted is None or dotted[0] not in bound or not isinstance(node.ctx, ast.Load):
            continue
        obj = _resolve(bound[dotted[0]], dotted[1])
        if isinstance(obj, type) and issubclass(obj, BaseException):
            found.append((node.lineno, ast.unparse(node)))
    return [f"{line}: {text}" for line, text in sorted(set(found))]


def _package_of(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


def _outside_db() -> dict[str, list[str]]:
    report: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith("autoinvest/db/"):
            continue
        found = driver_exceptions(path.read_text(encoding="utf-8"), package=_package_of(path))
        if found:
            report[relative] = found
    return report


def test_no_module_outside_db_catches_a_driver_exception() -> None:
    assert _outside_db() == {}


def test_the_driver_seam_exports_no_exception() -> None:
    exported = {name for name in driver.__all__
                if isinstance(getattr(driver, name), type) and issubclass(getattr(driver, name), BaseException)}
    assert exported == set()


PLANTED: dict[str, str] = {
    "the driver seam's class": "from autoinvest.db import driver\ntry:\n    pass\nexcept driver.CheckViolation:\n"
                               "    pass\n",
    "psycopg in a tuple": "import psycopg\ntry:\n    pass\nexcept (ValueError, psycopg.errors.UniqueViolation):\n"
                          "    pass\n",
    "a class imported by name": "from psycopg.errors import ForeignKeyViolation\ntry:\n    pass\n"
                                "except ForeignKeyViolation as exc:\n    raise\n",
    "the seam's class imported by name": "from autoinvest.db.driver import UniqueViolation\ntry:\n    pass\n"
                                         "except UniqueViolation:\n    pass\n",
    "a relative import of the seam": "from . import driver\ntry:\n    pass\nexcept driver.UniqueViolation:\n"
                                     "    pass\n",
    "a tuple kept in a constant": "import psycopg\nREFUSED = (psycopg.errors.UniqueViolation,)\n",
    "a class the seam does not export": "from autoinvest.db import driver\nREFUSED = (driver.CheckViolation,)\n",
    "the driver's base class": "import psycopg\ntry:\n    pass\nexcept psycopg.Error:\n    pass\n",
    "the pool's timeout": "from psycopg_pool import PoolTimeout\ntry:\n    pass\nexcept PoolTimeout:\n    pass\n",
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_the_walker_finds_a_planted_driver_exception(case: str) -> None:
    package = "autoinvest.db" if "relative" in case else "autoinvest.accounts"
    assert driver_exceptions(PLANTED[case], package=package) != []


def test_the_walker_accepts_our_classes_and_the_seams_other_names() -> None:
    clean = ("from autoinvest.db import driver\nfrom autoinvest.errors import UniqueViolated\n"
             "payload = driver.Jsonb({})\nok = driver.in_transaction\n"
             "try:\n    pass\nexcept UniqueViolated as exc:\n    print(exc.constraint)\n")
    assert driver_exceptions(clean) == []
