# Two commands do all the set-up on a fresh machine:
#   make run   — install, then run the daemon on the shipped config (SQLite under data/, rules/)
#   make test  — install with the test tools, then run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run once test lint bench install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

run: install
	$(BIN)/monitor run

once: install
	$(BIN)/monitor once

test: install-dev
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python bench/match.py
	$(BIN)/python bench/cycle.py
