# The two commands of the README:
#   make demo   - set up and run the whole sync on an embedded emulator
#   make test   - set up and run every test tier
# Both need only Python 3.11 (python3.11 or python3) on the machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test unit functional integration static bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(VENV)/.runtime $@

demo: $(VENV)/.runtime
	$(BIN)/fab demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

unit static functional integration: $(VENV)/.dev
	$(BIN)/python -m pytest -q tests/$@

clean:
	rm -rf $(VENV) .bucketsync .pytest_cache

bench: $(VENV)/.dev
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/requests.py
	$(BIN)/python bench/planner.py
