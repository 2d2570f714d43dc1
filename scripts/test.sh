#!/usr/bin/env bash
# Install (scripts/install.sh) and run the default test suite (slow learning tests excluded: add -m slow for them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m pytest "$@"
