# The two set-up commands: `make run` serves peerlex, `make test` runs the whole suite (on SQLite,
# then on PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PEERLEX_DATA ?= $(CURDIR)/data
export PEERLEX_DATA

.PHONY: run test system-deps

# Every package comes from requirements.lock, checked against its hashes (scripts/lock refreshes
# it); peerlex itself is then installed without fetching anything more.
$(VENV)/.installed: requirements.lock pyproject.toml setup.py $(wildcard repo_store/diff/_speedups*.[ch])
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

system-deps:
	scripts/system-deps

run: $(VENV)/.installed
	$(VENV)/bin/peerlex-server init --if-missing
	$(VENV)/bin/peerlex-server run

# The Debian packages first: the install compiles a C module.
test: system-deps $(VENV)/.installed
	$(PY) -m ruff check server repo_store keys clients tests bench
	$(PY) -m ruff format --check server repo_store keys clients tests bench
	$(PY) -m mypy
	$(PY) -m bandit -q -r server repo_store keys clients --severity-level medium
	@echo '== the test suite on SQLite =='
	$(PY) -m pytest
	@echo '== the test suite on PostgreSQL (a throwaway cluster) =='
	scripts/with-postgres $(PY) -m pytest
