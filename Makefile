# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_SERVE := $(VENV)/.installed-serve

.PHONY: run serve test lint typecheck unit browser screenshots bench clean

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
	touch $(STAMP_RUN) $(STAMP_SERVE) $@

$(STAMP_SERVE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e '.[serve]'
	touch $(STAMP_RUN) $@

run: $(STAMP_RUN)
	$(BIN)/llm-roofline

serve: $(STAMP_SERVE)
	$(BIN)/llm-roofline serve

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser
# build). As root with apt-get, a missing chromium is installed; otherwise those tests are
# skipped with the reason (with CI=true they fail instead: CI must run them).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "no chromium (Debian: apt-get install chromium): the browser tests will be skipped"; fi; }

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST) browser
	$(BIN)/python -m pytest

# The screenshots docs/WEB.md shows, taken by the browser tests.
screenshots: $(STAMP_TEST) browser
	mkdir -p docs/web
	LLM_ROOFLINE_SCREENSHOTS=docs/web $(BIN)/python -m pytest -q tests/test_serve_browser.py

test: lint typecheck unit

bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/bench_cli.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
