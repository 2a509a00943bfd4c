# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest mutation bench clean

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "installing autoinvest and its dev tools into $(VENV) (first run takes a minute)…"
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/autoinvest up --fast

lint: $(STAMP)
	$(BIN)/ruff check autoinvest tests bench mutation

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# Not part of `make test`: breaks each guarantee's mechanism in a scratch copy and runs the tests named for it.
mutation: $(STAMP)
	$(BIN)/python -m mutation

# Not part of `make test`: the benchmark suite (minutes; loads the machine), one table of figures vs baselines.
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .autoinvest .pytest_cache .mypy_cache .ruff_cache
