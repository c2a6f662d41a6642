# Mitra: `make help` lists the targets. Every target bootstraps .venv itself.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mitra-installed

# Reinstall when the dependency declaration or the lock changes. --no-compile: byte-compiling
# all ~10,000 installed modules costs ~50 s of CPU at install; Python compiles the ones a run
# imports on first use instead.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> Installing Mitra and its pinned dependencies into $(VENV)/ (first run: 1-3 minutes)"
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Mitra needs Python 3.11+, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-compile -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name mitra --display-name "Python (mitra)" >/dev/null
	@touch $(STAMP)

.PHONY: help install reports test fuzz lint format lab data-check notebooks browser clean

help: ## List the targets.
	@if [ -t 1 ]; then bold=$$'\033[1m'; plain=$$'\033[0m'; else bold=; plain=; fi; \
	awk -v b="$$bold" -v p="$$plain" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-12s%s %s\n", b, $$1, p, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv (if missing) and install Mitra with its pinned dependencies.

reports: $(STAMP) ## Run the main job: data check, then every report for every sector and the partner briefs (reports/latest/index.html).
	@echo "==> Data check of the investment ledger (reports/data-check/)"
	@$(BIN)/mitra data check --quiet
	@echo "==> Report batch: 4 reports x 3 sectors, then partner briefs in English and Bahasa Indonesia"
	@echo "    (briefs start as soon as their sector's ranking report is done; one line per finished report)"
	@$(BIN)/mitra batch
	@echo "==> Open reports/latest/index.html in a browser."

data-check: $(STAMP) ## Validate the data and print/write the data-quality report (reports/data-check/).
	$(BIN)/mitra data check

test: $(STAMP) browser ## Run the whole suite: lint, unit/reference/property/pipeline/browser tests, nbval on committed notebooks.
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 tests notebooks \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# pytest-xdist workers for `make test`. One run holds the tests and nbval's re-execution of
# the committed notebooks, so both share one results cache and keep the cores busy; tests
# sharing the session's CI batch stay on one worker, and so do each notebook's cells
# (--dist loadgroup; tests/conftest.py groups them).
TEST_WORKERS ?= 2

# Property tests (Hypothesis). `make test` replays fixed examples (derandomised); `make fuzz`
# draws fresh random ones, FUZZ_ROUNDS times, and keeps any failure in .hypothesis/.
PROPERTY_TESTS := $(shell grep -l '@given' tests/test_*.py)
FUZZ_ROUNDS ?= 5

fuzz: $(STAMP) ## Explore the property tests with fresh random examples (FUZZ_ROUNDS=5 rounds); not part of `make test`.
	@for round in $$(seq $(FUZZ_ROUNDS)); do \
		echo "==> fuzz round $$round of $(FUZZ_ROUNDS) (fresh random examples)"; \
		MITRA_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider -m hypothesis $(PROPERTY_TESTS) || exit 1; \
	done

notebooks: $(STAMP) ## Sync notebooks from their py:percent scripts, execute, keep only stable outputs.
	MITRA_FETCH_CACHE=off $(BIN)/python -m analysis.notebooks

browser: ## Install Debian's chromium for the browser test (needs root; skipped with a note otherwise).
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "==> Installing chromium (Debian package) for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "chromium is not installed and this is not root: the browser test will be skipped"; fi

lint: $(STAMP) ## Lint with ruff.
	$(BIN)/ruff check src tests

format: $(STAMP) ## Format the code with ruff.
	$(BIN)/ruff format src tests

lab: $(STAMP) ## Start JupyterLab with the project's kernel ("Python (mitra)").
	$(BIN)/jupyter lab --notebook-dir=. $$(if [ "$$(id -u)" = 0 ]; then echo --allow-root; fi)

clean: ## Remove generated reports and caches (keeps .venv).
	find reports -mindepth 1 -not -name README.md -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache data/processed
