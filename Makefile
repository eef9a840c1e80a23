# postcart: every task is one command. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help run test lint fmt bench fuzz oracle docs clean system-deps

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## venv, install, build the evidence DB, run every analysis, write out/
	$(BIN)/postcart run --out out

system-deps:  ## install R+metafor, PostgreSQL and Chromium via apt when root and missing
	scripts/install-system-deps.sh

test: $(STAMP) system-deps  ## the whole suite: unit, metafor cross-checks, PostgreSQL, browser
	scripts/with-postgres.sh $(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)  ## ruff, mypy strict, import layers
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP) system-deps  ## speed/memory/load benchmarks; prints ratios against their targets
	scripts/with-postgres.sh bash -c 'for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done'

fuzz: $(STAMP)  ## generated inputs over readers, statistics and profiles (>10,000) + hostile files
	$(BIN)/python scripts/fuzz.py

oracle: $(STAMP) system-deps  ## regenerate pinned metafor reference JSON, then show the diff
	cd tests/oracle && Rscript make_reference.R
	git diff --stat -- tests/oracle

docs: $(STAMP)  ## regenerate docs/cli.md from the commands' --help
	$(BIN)/python scripts/gen_cli_docs.py

clean:  ## remove the venv, database and outputs
	rm -rf $(VENV) out postcart.db
