# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_SERVE := $(VENV)/.installed-serve
# Where PyTorch comes from: empty is pip's configured index. On Linux, PyPI's torch is a CUDA
# build of several GB; `make test TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu`
# gets the CPU build from PyTorch's own index instead.
TORCH_INDEX_URL ?=
TORCH_INDEX := $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL),)

.PHONY: run serve test lint typecheck unit browser screenshots bench clean

# Each step says what it installs first: the first `make test` takes minutes, mostly pip.
$(BIN)/python:
	@echo "make: creating the virtual environment $(VENV) ($(PYTHON) -m venv), upgrading pip"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@echo "make: installing llm-roofline into $(VENV) (editable; no runtime dependencies)"
	$(BIN)/python -m pip install -qq -e .
	touch $@

# The test install adds PyTorch 2.13.0, the CPU build where the index offers it (see
# TORCH_INDEX_URL above; README "Dependencies"): never a multi-GB CUDA build by accident.
$(STAMP_TEST): pyproject.toml | $(BIN)/python
	@echo "make: installing llm-roofline with its test tools into $(VENV): pytest, hypothesis,"
	@echo "      ruff, mypy, numpy, matplotlib, transformers, fastapi, uvicorn, playwright,"
	@echo "      schemathesis (a few minutes the first time)"
	$(BIN)/python -m pip install -q -e '.[test]'
	@echo "make: installing PyTorch, torch==2.13.0, from $(or $(TORCH_INDEX_URL),pip's configured index) (the largest download)"
	$(BIN)/python -m pip install -q $(TORCH_INDEX) 'torch==2.13.0' || echo "make: torch==2.13.0 unavailable: torch-dependent tests will be skipped"
	@echo "make: $(VENV) is ready; the next runs skip these steps"
	touch $(STAMP_RUN) $(STAMP_SERVE) $@

$(STAMP_SERVE): pyproject.toml | $(BIN)/python
	@echo "make: installing llm-roofline with the web app's extra [serve] into $(VENV)"
	$(BIN)/python -m pip install -q -e '.[serve]'
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
