"""``python -m recurrent_rl`` runs the command line (also the training processes of sweeps and tuning)."""

import sys

from recurrent_rl.cli import main
from recurrent_rl.experiments.launch import prepare_child, started_by_sweep

if started_by_sweep():
    prepare_child()
sys.exit(main())
