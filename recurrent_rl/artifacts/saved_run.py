"""What a run folder is, for evaluate, inspect, export, explain and ``train --resume``; no SB3 here.

:func:`locate` resolves ``RUN_DIR``, ``MODEL_ZIP`` or an experiment folder (its newest finished run) to a
:class:`SavedRun` (its model file, run folder and config); :func:`check_files` checks what can be checked
before torch and SB3 are imported. Rebuilding a run into a live model is :func:`recurrent_rl.restore.restore`.

The model <-> statistics rule lives here alone: a model zip carries its statistics as an entry (written in
the same rename as the model); runs saved before that pair ``model.zip`` with ``vecnormalize.npz``,
``best_model.zip`` with ``best_vecnormalize.npz`` and ``checkpoints/X.zip`` with ``checkpoints/X.npz``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recurrent_rl.artifacts import model_file, records, run_folder
from recurrent_rl.artifacts.statistics_file import parse_statistics, read_statistics
from recurrent_rl.config.loader import load_config
from recurrent_rl.config.schema import Config
from recurrent_rl.errors import UserError

CHECKPOINT_NAME = re.compile(r"^model_(\d{12})_steps\.zip$")


def checkpoint_name(timesteps: int) -> str:
    """``model_<12-digit timesteps>_steps``: names sort by timesteps."""
    return f"model_{timesteps:012d}_steps"


def checkpoint_timesteps(path: Path) -> int:
    match = CHECKPOINT_NAME.match(path.name)
    if match is None:
        raise ValueError(f"{path} is not a checkpoint name")
    return int(match[1])


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoint zips, oldest first (temporary files of an interrupted write are not listed)."""
    folder = run_dir / run_folder.CHECKPOINTS
    found = [path for path in folder.glob("model_*_steps.zip") if CHECKPOINT_NAME.match(path.name)]
    return sorted(found, key=lambda path: path.name)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the most timesteps, or None."""
    found = checkpoints(run_dir)
    return found[-1] if found else None


def statistics_path(model: Path) -> Path:
    """The statistics file saved next to ``model`` (also inside it since the statistics entry exists)."""
    if model.name == run_folder.MODEL:
        return model.parent / run_folder.NORMALIZATION
    if model.name == run_folder.BEST_MODEL:
        return model.parent / run_folder.BEST_NORMALIZATION
    return model.with_suffix(".npz")


def read_model_statistics(model: Path) -> tuple[dict[str, np.ndarray], str]:
    """The statistics saved with ``model`` and where they came from (its own entry first, else the file)."""
    if model_file.has_entry(model, model_file.STATISTICS_ENTRY):
        source = f"{model}:{model_file.STATISTICS_ENTRY}"
        return parse_statistics(model_file.read_entry(model, model_file.STATISTICS_ENTRY), source), source
    path = statistics_path(model)
    return read_statistics(path), str(path)


@dataclass(frozen=True)
class SavedRun:
    """A model file, the run folder it belongs to, and that run's config (None for a bare model file).
    ``experiment``: the experiment folder the run was picked from (its newest finished run), if any."""

    run_dir: Path
    model: Path
    config: Config | None
    experiment: Path | None = None

    def require_config(self) -> Config:
        if self.config is None:
            raise UserError(
                f"{self.model}: no {run_folder.CONFIG} in {self.run_dir}; this needs the model's run folder"
            )
        return self.config

    @property
    def config_path(self) -> Path:
        return self.run_dir / run_folder.CONFIG


def locate(target: Path, need_config: bool = True, model: Path | None = None) -> SavedRun:
    """``RUN_DIR`` (its model.zip, else best_model.zip, else newest checkpoint), ``MODEL_ZIP``, or an
    experiment folder ``RUNS_DIR/<experiment>`` (its newest finished run)."""
    experiment = None
    if model is None and is_experiment_folder(target):
        experiment, target = target, newest_finished_run(target)
    if model is not None:
        run_dir = target
    elif target.is_dir():
        candidates = [target / run_folder.MODEL, target / run_folder.BEST_MODEL]
        model = next((path for path in candidates if path.is_file()), newest_checkpoint(target))
        if model is None:
            raise UserError(f"{target}: no model in this run folder (model.zip, best_model.zip, checkpoint)")
        run_dir = target
    elif target.is_file():
        model = target
        in_checkpoints = target.parent.name == run_folder.CHECKPOINTS
        run_dir = target.parent.parent if in_checkpoints else target.parent
    else:
        raise UserError(f"{target}: no such run folder or model file")
    config_path = run_dir / run_folder.CONFIG
    config = load_config(config_path).config if config_path.is_file() else None
    saved = SavedRun(run_dir, model, config, experiment)
    if need_config:
        saved.require_config()
    return saved


def is_experiment_folder(folder: Path) -> bool:
    """A folder of run folders (not itself a run folder)."""
    if not folder.is_dir() or (folder / run_folder.CONFIG).is_file():
        return False
    return any((child / run_folder.CONFIG).is_file() for child in folder.iterdir() if child.is_dir())


def newest_finished_run(experiment: Path) -> Path:
    """The run of ``experiment`` that finished last (completed or stopped early); a UserError if none."""
    runs = sorted(child for child in experiment.iterdir() if (child / run_folder.CONFIG).is_file())
    finished: list[Path] = []
    statuses: dict[str, int] = {}
    for run in runs:
        try:
            summary = records.read_summary(run)
        except UserError:
            summary = None
        status = summary.status if summary is not None else "no summary"
        statuses[status] = statuses.get(status, 0) + 1
        if status in records.FINISHED:
            finished.append(run)
    if not finished:
        counts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        raise UserError(
            f"{experiment}: no finished run in this experiment folder ({counts}); give a run folder"
        )
    return max(finished, key=lambda run: ((run / run_folder.SUMMARY).stat().st_mtime, run.name))


def resumable(run_dir: Path) -> SavedRun:
    """The run ``train --resume run_dir`` continues, at its newest checkpoint; a UserError if none."""
    if not run_dir.is_dir():
        raise UserError(f"--resume {run_dir}: no such run folder")
    if not (run_dir / run_folder.CONFIG).is_file():
        raise UserError(f"--resume {run_dir}: not a run folder (no {run_folder.CONFIG})")
    if run_folder.is_locked(run_dir):
        raise UserError(run_folder.BUSY.format(run_dir=run_dir))
    check_unfinished(run_dir)
    checkpoint = newest_checkpoint(run_dir)
    if checkpoint is None:
        folder = run_dir / run_folder.CHECKPOINTS
        raise UserError(f"--resume {run_dir}: no checkpoint in {folder} to resume from")
    return locate(run_dir, model=checkpoint)


def check_unfinished(run_dir: Path) -> None:
    """A UserError if the run already finished (a finished run is never resumed)."""
    summary = records.read_summary(run_dir)
    if summary is not None and summary.status in records.FINISHED:
        raise UserError(f"--resume {run_dir}: the run already finished ({summary.status}); nothing to resume")


def check_files(saved: SavedRun, resume: bool = False, statistics: bool = True) -> None:
    """The model zip is intact and its tensors load safely; the statistics read. Imports torch, not SB3."""
    model_file.check_model_zip(saved.model)
    for entry in ("policy.pth", "policy.optimizer.pth") if resume else ("policy.pth",):
        model_file.read_tensors(saved.model, entry)
    if statistics and saved.config is not None and saved.config.env.normalize is not None:
        read_model_statistics(saved.model)
