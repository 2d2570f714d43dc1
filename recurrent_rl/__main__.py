"""``python -m recurrent_rl`` runs the command line."""

import sys

from recurrent_rl.cli import main

sys.exit(main())
