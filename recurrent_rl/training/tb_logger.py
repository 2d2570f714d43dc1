"""The SB3 logger of a run: TensorBoard events and ``progress.csv`` in ``tb/``; a resumed run continues both.

SB3's own ``configure`` would truncate ``progress.csv`` and let TensorBoard show the steps logged after the
checkpoint twice. Here a resumed run keeps the CSV rows up to the checkpoint and appends, and opens its
event file with ``purge_step``, so TensorBoard hides what the killed process logged after the checkpoint:
both curves continue from there.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from stable_baselines3.common.logger import CSVOutputFormat, KVWriter, Logger, TensorBoardOutputFormat
from torch.utils.tensorboard import SummaryWriter

from recurrent_rl.artifacts.atomic import atomic_write_text

PROGRESS = "progress.csv"
STEP_KEY = "time/total_timesteps"


class ResumedTensorBoardOutputFormat(TensorBoardOutputFormat):
    """SB3's TensorBoard writer opened with ``purge_step``: older events at or after it are hidden."""

    def __init__(self, folder: str, purge_step: int) -> None:
        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False


class ContinuedCSVOutputFormat(CSVOutputFormat):
    """SB3's CSV writer on an existing ``progress.csv``: keeps its columns and the rows logged at or before
    ``last_step`` (column ``time/total_timesteps``), and appends.

    A partial last line (the process was killed while writing it) is dropped.
    """

    def __init__(self, filename: str, last_step: int) -> None:
        path = Path(filename)
        if not path.is_file() or path.stat().st_size == 0:
            super().__init__(filename)
            return
        data = path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1].decode("utf-8", errors="replace")
        rows = list(csv.reader(io.StringIO(complete)))
        header = rows[0] if rows else []
        step_column = header.index(STEP_KEY) if STEP_KEY in header else None
        kept = [header] if header else []
        for row in rows[1:]:
            step = row[step_column] if step_column is not None and step_column < len(row) else ""
            if not _after(step, last_step):
                kept.append(row)
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(kept)
        atomic_write_text(path, text.getvalue())  # a kill now leaves the old rows or the kept ones
        self.file = open(filename, "r+")  # noqa: SIM115 (closed by close(), as in SB3)
        self.file.seek(0, io.SEEK_END)
        self.keys = header
        self.separator = ","
        self.quotechar = '"'


def _after(step: str, last_step: int) -> bool:
    try:
        return float(step) > last_step
    except ValueError:  # no step recorded in that row
        return False


def run_logger(folder: Path, resume_step: int | None = None) -> Logger:
    """A logger to TensorBoard and ``progress.csv`` in ``folder``, continuing them after ``resume_step``."""
    folder.mkdir(parents=True, exist_ok=True)
    formats: list[KVWriter]
    if resume_step is None:
        formats = [TensorBoardOutputFormat(str(folder)), CSVOutputFormat(str(folder / PROGRESS))]
    else:
        formats = [
            ResumedTensorBoardOutputFormat(str(folder), purge_step=resume_step + 1),
            ContinuedCSVOutputFormat(str(folder / PROGRESS), last_step=resume_step),
        ]
    return Logger(folder=str(folder), output_formats=formats)
