# Two entry points, each doing its own set-up on a fresh machine (Python 3.11, no venv needed):
#   make run   - create .venv, install, serve the app on http://localhost:8501 (offline)
#   make test  - create .venv, install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup bench

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-cluster.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

PORT ?= 8501
ARGS ?=  # more Streamlit options, e.g. ARGS="--secrets.files /etc/viva/secrets.toml" for a class's sign-in

run: $(STAMP)
	$(BIN)/python -m ui.serve --server.headless true --server.port $(PORT) --browser.gatherUsageStats false $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m qa_bank lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo  # the layers of docs/architecture.md

bench: $(STAMP)
	$(BIN)/python -m bench --quick --out bench_out
