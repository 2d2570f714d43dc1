#!/usr/bin/env bash
# Install (scripts/install.sh) and run the default test suite (slow learning tests excluded: add -m slow for them)
# on 2 pytest workers (pytest-xdist); each test file stays on one worker, so its session fixtures train once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
