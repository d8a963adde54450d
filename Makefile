# Two commands do all the set-up on a fresh machine:
#   make run   — install, then run the daemon on the shipped config (SQLite under data/, rules/)
#   make test  — install with the test tools, then run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run once test test-fast lint lock bench install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs the exact versions of requirements/*.lock (made by `make lock` from pyproject.toml).
install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/run.lock
	$(BIN)/pip install --quiet --no-deps -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .

lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --no-emit-index-url --strip-extras -o requirements/run.lock pyproject.toml
	$(BIN)/pip-compile --quiet --no-emit-index-url --strip-extras --extra dev -o requirements/dev.lock pyproject.toml

run: install
	$(BIN)/monitor run

once: install
	$(BIN)/monitor once

test: install-dev
	$(BIN)/pytest -q

# Pure and in-process tests only (no PostgreSQL, no subprocess daemons, no corpus): a quick check.
test-fast: install-dev
	$(BIN)/pytest -q -p no:cacheprovider -m "not postgres and not slow and not corpus" \
		tests/rules tests/test_story_alerting.py tests/test_story_keys.py tests/test_formats.py \
		tests/test_config.py tests/test_normalize.py tests/test_parse.py tests/test_architecture.py \
		tests/test_pipeline_inprocess.py tests/store/test_items.py tests/store/test_stories.py \
		tests/store/test_outbox.py tests/test_outbox_digest.py tests/test_schedule.py \
		--ignore=tests/rules/test_rules_reload.py --ignore=tests/rules/test_rule_folders.py

lint: install-dev
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python bench/match.py
	$(BIN)/python bench/cycle.py
