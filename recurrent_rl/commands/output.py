"""Terminal output shared by the commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recurrent_rl.artifacts.saved_run import SavedRun

TARGET_HELP = "a run folder, a model zip, or an experiment folder such as runs/NAME (its newest finished run)"


def print_rows(rows: list[tuple[str, str]]) -> None:
    """``name  value`` rows, names padded to one width."""
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def announce_run(saved: SavedRun) -> None:
    """Say which run an experiment folder stood for (on stderr: stdout stays the command's output)."""
    if saved.experiment is not None:
        print(f"using run {saved.run_dir}", file=sys.stderr)
