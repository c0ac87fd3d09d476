# Callbridge: `make run` serves a demo contact centre, `make test` runs every check. `make help` lists all.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: run
run: $(VENV)/.run-installed ## Install, migrate, apply the demo contact centre and serve on 127.0.0.1:8080 (set HOST=, PORT=)
	$(BIN)/callbridge migrate
	$(BIN)/callbridge demo --base-url http://$(HOST):$(PORT)
	$(BIN)/callbridge serve --host $(HOST) --port $(PORT)

.PHONY: test
test: lint ## Install what the tests need, lint, type-check and run every test
	$(BIN)/pytest

.PHONY: test-postgres
test-postgres: $(VENV)/.dev-installed ## Every test again on PostgreSQL and Redis (started if down; .ci/test-postgres)
	.ci/test-postgres

.PHONY: screenshots
screenshots: $(VENV)/.dev-installed ## Refresh docs/screenshots/ from the browser tests (Debian's chromium)
	CALLBRIDGE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q \
		tests/e2e/test_console_browser.py tests/e2e/test_getting_started_browser.py

.PHONY: lint
lint: $(VENV)/.dev-installed ## ruff and mypy
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

$(VENV)/.bench-installed: $(VENV)/.run-installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[bench]"
	touch $@

.PHONY: bench
bench: $(VENV)/.bench-installed ## Measure a running server (wrk; results in bench/results/ and docs/benchmarks.md)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && apt-get install -y -qq wrk >/dev/null); } \
		|| { echo "wrk is needed: apt-get install wrk (Debian) or build it from source"; exit 1; }
	$(BIN)/python -m bench

.PHONY: openapi
openapi: $(VENV)/.dev-installed ## Regenerate the checked-in docs/openapi.json
	$(BIN)/python -m callbridge.openapi > docs/openapi.json

.PHONY: clean
clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
