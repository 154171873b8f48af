# The README's two commands: `make report` builds the report, `make test` runs the tests.
# Each creates the virtual environment (.venv, Python 3.11) the first time, and refreshes it when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: report test lint benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

report: $(VENV)/.installed
	$(BIN)/python -m aicompute build $(ARGS)

test: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/build_benchmark.py

clean:
	rm -rf .cache .build
