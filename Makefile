# The two set-up commands: `make run` serves peerlex, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PEERLEX_DATA ?= $(CURDIR)/data
export PEERLEX_DATA

.PHONY: run test system-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	scripts/system-deps

run: $(VENV)/.installed
	$(VENV)/bin/peerlex-server init --if-missing
	$(VENV)/bin/peerlex-server run

test: $(VENV)/.installed system-deps
	$(PY) -m ruff check server repo_store keys clients tests bench
	$(PY) -m ruff format --check server repo_store keys clients tests bench
	$(PY) -m mypy
	$(PY) -m pytest
