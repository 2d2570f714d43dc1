#!/usr/bin/env bash
# Install, train the default config (configs/tmaze.yaml) and evaluate the trained agent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
run_dir=$(.venv/bin/recurrent-rl train configs/tmaze.yaml "$@" | tail -n 1)
echo "run folder: $run_dir"
.venv/bin/recurrent-rl evaluate "$run_dir" --episodes 200
