# Mitra: `make help` lists the targets. Every target bootstraps .venv itself.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mitra-installed

# Reinstall when the dependency declaration or the lock changes.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Mitra needs Python 3.11+, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name mitra --display-name "Python (mitra)" >/dev/null
	@touch $(STAMP)

.PHONY: help install reports test lint format lab data-check notebooks clean

help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv (if missing) and install Mitra with its pinned dependencies.

reports: $(STAMP) ## Run the main job: data check, then every report for every sector (reports/<run-id>/index.html).
	$(BIN)/mitra data check --quiet
	$(BIN)/mitra batch --no-progress
	@echo "Open reports/latest/index.html in a browser."

data-check: $(STAMP) ## Validate the data and print/write the data-quality report (reports/data-check/).
	$(BIN)/mitra data check

test: $(STAMP) ## Run the whole suite: lint, unit/reference/property/pipeline tests, nbval on committed notebooks.
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest
	MITRA_FETCH_CACHE=off $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/

notebooks: $(STAMP) ## Sync notebooks from their py:percent scripts, execute, keep only stable outputs.
	MITRA_FETCH_CACHE=off $(BIN)/python -m analysis.notebooks

lint: $(STAMP) ## Lint with ruff.
	$(BIN)/ruff check src tests

format: $(STAMP) ## Format the code with ruff.
	$(BIN)/ruff format src tests

lab: $(STAMP) ## Start JupyterLab with the project's kernel ("Python (mitra)").
	$(BIN)/jupyter lab --notebook-dir=.

clean: ## Remove generated reports and caches (keeps .venv).
	find reports -mindepth 1 -not -name README.md -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache data/processed
