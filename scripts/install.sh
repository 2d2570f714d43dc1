#!/usr/bin/env bash
# Create .venv (if missing) and install recurrent_rl with its test tools.
# torch is pinned to 2.13.0 first and held there by constraints.txt: on a CPU machine that pin resolves to the
# CPU wheel, while an unpinned torch would pull gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt "torch==2.13.0"
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev,all]"
.venv/bin/python -c "import torch, sb3_contrib, gymnasium, recurrent_rl, envs; print('installed: torch', torch.__version__)"
