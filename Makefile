# dnsrace: two commands on a fresh machine, `make demo` and `make test`. Each bootstraps what it
# needs: the virtual environment at .venv and the pinned upstream binaries (hack/build.sh).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup binaries demo test lint typecheck unit integration bench clean

setup: $(STAMP) binaries

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

binaries:
	@bash hack/build.sh

lint: $(STAMP)
	$(BIN)/ruff check operator services tests bench
	$(BIN)/ruff format --check operator services tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

test: setup lint typecheck
	$(BIN)/pytest tests

demo: setup
	$(BIN)/python -m dnsrace.demo

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reports
