"""The live display of a sweep or a study on stderr: a table that updates in place on a terminal, one plain
line per change of state otherwise (a log file, a CI job)."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

STEP_COLUMN = "time/total_timesteps"


@dataclass(frozen=True)
class Counts:
    total: int
    finished: int
    running: int
    failed: int
    interrupted: int

    def __str__(self) -> str:
        waiting = self.total - self.finished - self.running - self.failed - self.interrupted
        stopped = f", {self.interrupted} interrupted" if self.interrupted else ""
        return (
            f"{self.finished}/{self.total} finished, {self.running} running, {self.failed} failed{stopped}, "
            f"{waiting} waiting"
        )


@dataclass(frozen=True)
class Running:
    """A run being trained: its folder, timesteps so far (None before the first rollout), budget, and the
    times it was resubmitted after its job was lost."""

    folder: str
    timesteps: int | None
    total: int
    retries: int = 0


def current_timesteps(run_dir: Path) -> int | None:
    """The timesteps of the newest row of the run's ``tb/progress.csv`` (cheap: its first and last lines)."""
    path = run_dir / "tb" / "progress.csv"
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace")
            handle.seek(max(handle.seek(0, 2) - 4096, 0))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    columns = next(csv.reader([header]), [])
    if STEP_COLUMN not in columns or len(lines) < 2:
        return None
    for line in reversed(lines[1:]):
        row = next(csv.reader([line]), [])
        try:
            return int(float(row[columns.index(STEP_COLUMN)]))
        except (IndexError, ValueError):
            continue
    return None


class Progress:
    """Shows the counts and the running runs' timesteps; :meth:`event` reports a change of state."""

    def __init__(self, stream: TextIO | None = None, name: str = "sweep") -> None:
        self.stream = stream or sys.stderr
        self.name = name
        self.live: Live | None = None
        if self.stream.isatty():
            self.live = Live(console=Console(file=self.stream), refresh_per_second=2, transient=True)
            self.live.start()

    def event(self, line: str, counts: object) -> None:
        """``line`` said once; ``counts`` (anything printable) is the state after it."""
        if self.live is not None:
            self.live.console.print(line, highlight=False, markup=False)
        else:
            print(f"{self.name}: {line} [{counts}]", file=self.stream, flush=True)

    def update(self, counts: object, running: list[Running]) -> None:
        if self.live is None:
            return
        table = Table(box=None, header_style="bold")
        retried = any(item.retries for item in running)
        for column in ("run", "timesteps", "of", *(("retries",) if retried else ())):
            table.add_column(column, justify="left" if column == "run" else "right")
        for item in running:
            done = "starting" if item.timesteps is None else f"{item.timesteps:,}"
            cells = [item.folder, done, f"{item.total:,}"]
            table.add_row(*cells, *((str(item.retries),) if retried else ()))
        self.live.update(Group(Text(f"{self.name}: {counts}"), table))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
