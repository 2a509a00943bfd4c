"""Apply each catalogued mutation in a scratch copy of the repository and run only the tests that must catch it.

The copy holds the files git knows (tracked and untracked, not ignored), so the working tree is never
touched. The tests run with the copy first on ``PYTHONPATH`` (subprocesses inherit it) and a bytecode
cache per mutation, so no compiled file of another run can hide the edit. Each run starts its own
embedded PostgreSQL (``DATABASE_URL`` is dropped), so a mutated migration or role cannot leak into the
next run. First the tests run once unmutated: a mutation only counts as caught against a green baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mutation.catalogue import CATALOGUE, REPO, CatalogueError, Mutation, load, mutate

CAUGHT, SURVIVED, ERROR = "caught", "survived", "error"
_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
#: pytest exit codes: 0 all passed, 1 some test failed; anything else (usage, collection, no tests) is ours.
_TESTS_FAILED = 1


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    result: str
    seconds: float
    detail: str


def scratch_copy(destination: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def pytest(root: Path, tests: list[str], cache: Path, timeout_s: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(root), PYTHONPYCACHEPREFIX=str(cache))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               f"--timeout={timeout_s}", "-o", "addopts=--strict-markers -rfE", *tests]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)


def run_one(root: Path, mutation: Mutation, scratch: Path, timeout_s: int) -> Outcome:
    started = time.monotonic()
    try:
        originals = mutate(root, mutation)
    except CatalogueError as exc:
        return Outcome(mutation, ERROR, 0.0, str(exc))
    try:
        done = pytest(root, list(mutation.tests), scratch, timeout_s)
    finally:
        for path, text in originals.items():
            path.write_text(text)
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return Outcome(mutation, SURVIVED, seconds, "every named test passed")
    if done.returncode == _TESTS_FAILED:
        failed = _FAILED.findall(done.stdout)
        return Outcome(mutation, CAUGHT, seconds, failed[0] if failed else "a test failed")
    return Outcome(mutation, ERROR, seconds, f"pytest exit {done.returncode}: {_tail(done)}")


def _tail(done: subprocess.CompletedProcess[str], lines: int = 15) -> str:
    return "\n".join((done.stdout + done.stderr).strip().splitlines()[-lines:])


def table(outcomes: list[Outcome]) -> str:
    width = max(len(o.mutation.name) for o in outcomes)
    rows = [f"{'g':>2}  {'mutation':<{width}}  {'result':<8}  {'s':>6}  caught by / detail",
            f"{'--':>2}  {'-' * width}  {'-' * 8}  {'-' * 6}  {'-' * 18}"]
    for o in sorted(outcomes, key=lambda o: (o.mutation.guarantee, o.mutation.name)):
        detail = o.detail.splitlines()[0] if o.detail else ""
        name = o.mutation.name
        rows.append(f"{o.mutation.guarantee:>2}  {name:<{width}}  {o.result:<8}  {o.seconds:>6.1f}  {detail}")
    counts = {r: sum(o.result == r for o in outcomes) for r in (CAUGHT, SURVIVED, ERROR)}
    rows.append(f"{len(outcomes)} mutations: {counts[CAUGHT]} caught, {counts[SURVIVED]} survived, "
                f"{counts[ERROR]} errors")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these mutations (default: all)")
    parser.add_argument("--guarantee", type=int, action="append", help="run only this guarantee's mutations")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run (faster, less sure)")
    parser.add_argument("--timeout", type=int, default=180, help="per-test timeout in seconds (a hang is caught)")
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE, help=argparse.SUPPRESS)  # the harness's own test
    args = parser.parse_args(argv)
    try:
        catalogue = load(args.catalogue)
    except CatalogueError as exc:
        print(f"mutation: the catalogue is invalid: {exc}", file=sys.stderr)
        return 2
    chosen = [m for m in catalogue if (not args.names or m.name in args.names)
              and (not args.guarantee or m.guarantee in args.guarantee)]
    if unknown := set(args.names) - {m.name for m in catalogue}:
        print(f"mutation: unknown names {sorted(unknown)}; see --list", file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            print(f"{m.guarantee:>2}  {m.name}: {m.why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="autoinvest-mutation-") as scratch:
        root = scratch_copy(Path(scratch) / "repo")
        if not args.no_baseline:
            tests = sorted({t for m in chosen for t in m.tests})
            print(f"baseline: {len(tests)} tests, unmutated …", flush=True)
            started = time.monotonic()
            done = pytest(root, tests, Path(scratch) / "baseline", args.timeout)
            if done.returncode != 0:
                print(f"mutation: the tests fail without any mutation; fix them first:\n{_tail(done, 40)}",
                      file=sys.stderr)
                return 2
            print(f"baseline: green in {time.monotonic() - started:.0f} s", flush=True)
        outcomes: list[Outcome] = []
        for i, mutation in enumerate(chosen, 1):
            print(f"[{i}/{len(chosen)}] {mutation.name} …", end=" ", flush=True)
            outcome = run_one(root, mutation, Path(scratch) / f"run-{i}", args.timeout)
            print(f"{outcome.result} in {outcome.seconds:.1f} s", flush=True)
            if outcome.result == ERROR:
                print(f"    {outcome.detail}", flush=True)
            outcomes.append(outcome)
    print()
    print(table(outcomes))
    return 0 if all(o.result == CAUGHT for o in outcomes) else 1
