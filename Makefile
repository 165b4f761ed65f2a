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
	$(BIN)/mypy core/src plugins/*/src

ZAPIER_APP := plugins/zapier/app

# The Zapier app's Node packages (its tests run inside the suite; skipped with a notice without npm).
$(ZAPIER_APP)/node_modules/.installed: $(ZAPIER_APP)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(ZAPIER_APP) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "NOTICE: npm not found: the Zapier app's tests will be skipped"; fi

## The whole suite: lint, strict typing, tests.
test: lint typecheck $(ZAPIER_APP)/node_modules/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var preview .pytest_cache .mypy_cache .ruff_cache $(ZAPIER_APP)/node_modules

## Benchmarks (ratios against smtp-source, Node mjml, a no-write server): see bench/README.md.
## BENCH_QUICK=1 for a smoke run; the table is also written to bench/results.md.
.PHONY: bench
bench: install bench/node/node_modules/.installed
	@command -v wrk >/dev/null && test -x /usr/sbin/smtp-sink && test -x /usr/sbin/smtp-source \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y postfix wrk
	$(BIN)/python bench/run.py

bench/node/node_modules/.installed: bench/node/package.json bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund
	touch $@
