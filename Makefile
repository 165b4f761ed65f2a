# Tidings — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= tidings.toml

.PHONY: run test lint typecheck install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## Start the hub on the embedded default (SQLite), with the test inbox and the demo store.
run: install
	@test -f $(CONFIG) || $(BIN)/tidings init $(CONFIG)
	$(BIN)/tidings serve -c $(CONFIG)

lint: install
	$(BIN)/ruff check core plugins tests

typecheck: install
	$(BIN)/mypy core/src plugins/woocommerce/src

## The whole suite: lint, strict typing, tests.
test: lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var preview .pytest_cache .mypy_cache .ruff_cache
