"""The SB3 logger of a run: TensorBoard events and ``progress.csv`` in ``tb/``; a resumed run continues both.

SB3's own ``configure`` would truncate ``progress.csv`` and let TensorBoard show the steps logged after the
checkpoint twice. Here a resumed run appends to the CSV and opens its event file with ``purge_step``, so
TensorBoard hides what the killed process logged after the checkpoint and the curve continues from there.
"""

from __future__ import annotations

from pathlib import Path

from stable_baselines3.common.logger import CSVOutputFormat, KVWriter, Logger, TensorBoardOutputFormat
from torch.utils.tensorboard import SummaryWriter

PROGRESS = "progress.csv"


class ResumedTensorBoardOutputFormat(TensorBoardOutputFormat):
    """SB3's TensorBoard writer opened with ``purge_step``: older events at or after it are hidden."""

    def __init__(self, folder: str, purge_step: int) -> None:
        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False


class ContinuedCSVOutputFormat(CSVOutputFormat):
    """SB3's CSV writer on an existing ``progress.csv``: keeps its rows and columns and appends.

    A partial last line (the process was killed while writing it) is dropped.
    """

    def __init__(self, filename: str) -> None:
        path = Path(filename)
        if not path.is_file() or path.stat().st_size == 0:
            super().__init__(filename)
            return
        data = path.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        header = keep.split(b"\n", 1)[0].decode("utf-8", errors="replace")
        self.file = open(filename, "r+")  # noqa: SIM115 (closed by close(), as in SB3)
        self.file.seek(len(keep))
        self.file.truncate()
        self.keys = header.split(",") if header else []
        self.separator = ","
        self.quotechar = '"'


def run_logger(folder: Path, resume_step: int | None = None) -> Logger:
    """A logger to TensorBoard and ``progress.csv`` in ``folder``, continuing them after ``resume_step``."""
    folder.mkdir(parents=True, exist_ok=True)
    formats: list[KVWriter]
    if resume_step is None:
        formats = [TensorBoardOutputFormat(str(folder)), CSVOutputFormat(str(folder / PROGRESS))]
    else:
        formats = [
            ResumedTensorBoardOutputFormat(str(folder), purge_step=resume_step + 1),
            ContinuedCSVOutputFormat(str(folder / PROGRESS)),
        ]
    return Logger(folder=str(folder), output_formats=formats)
