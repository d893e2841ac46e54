# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e .
	touch $@

# The test install adds the CPU build of PyTorch (2.13.0 is the release whose CPU wheel
# this machine keeps on disk; never let a plain `torch` pull a multi-GB CUDA build).
$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e '.[test]'
	$(BIN)/python -m pip install -qq 'torch==2.13.0' || echo "torch==2.13.0 unavailable: torch-dependent tests will be skipped"
	touch $(STAMP_RUN) $@

run: $(STAMP_RUN)
	$(BIN)/llm-roofline

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/python -m pytest

test: lint typecheck unit

bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/bench_cli.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
