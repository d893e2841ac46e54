#!/usr/bin/env bash
# A separate virtual environment with the peer tool llm-analysis 0.2.2, for speed comparisons
# only: it is never a dependency of llm-roofline, and our code never imports it (the peer runs
# in its own process, benchmarks/llm_analysis_worker.py, driven by benchmarks/peer.py).
#
#   bash benchmarks/peer_venv.sh            # from the repository root; idempotent
#   PYTHON=python3.12 bash benchmarks/peer_venv.sh
#
# Creates benchmarks/.peer-venv (git-ignored). pip resolves llm-analysis's own dependencies
# (fire, transformers, huggingface-hub, ...) inside it. Exits non-zero, saying why, when the
# venv cannot be made or the package cannot be installed.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.peer-venv"
PACKAGE="llm-analysis"
VERSION="0.2.2"
PYTHON="${PYTHON:-python3}"

installed_version() {
  "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$PACKAGE'))" 2>/dev/null
}

if [ -x "$VENV/bin/python" ] && [ "$(installed_version)" = "$VERSION" ]; then
  echo "peer_venv: $PACKAGE $VERSION already installed in $VENV"
  exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "peer_venv: no interpreter '$PYTHON' on PATH (set PYTHON=...)" >&2
  exit 1
fi
if ! "$PYTHON" -m venv "$VENV"; then
  echo "peer_venv: '$PYTHON -m venv $VENV' failed (is the venv module installed?)" >&2
  exit 1
fi
LOG="$VENV/pip-install.log"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$PACKAGE==$VERSION" >"$LOG" 2>&1; then
  echo "peer_venv: pip could not install $PACKAGE==$VERSION into $VENV; pip said:" >&2
  grep -v "^WARNING: Location" "$LOG" | tail -n 15 >&2
  exit 1
fi
# Importing it runs its module-level setup (config files, transformers): check it works here.
if ! "$VENV/bin/python" -c "from llm_analysis.analysis import LLMAnalysis" >>"$LOG" 2>&1; then
  echo "peer_venv: $PACKAGE $VERSION installed but does not import; see $LOG" >&2
  tail -n 15 "$LOG" >&2
  exit 1
fi
echo "peer_venv: installed $PACKAGE $(installed_version) in $VENV"
