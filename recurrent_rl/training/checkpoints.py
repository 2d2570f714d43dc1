"""Resumable checkpoints: written between rollouts (weights and timestep count agree), the oldest pruned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from recurrent_rl.artifacts import model_file, run_folder, saved_run
from recurrent_rl.artifacts.statistics_file import statistics_bytes
from recurrent_rl.vecenv.normalization import find_vec_normalize


def save_with_statistics(model: Any, path: Path, statistics_file: Path | None) -> None:
    """Write ``model`` and, when it has a VecNormalize env, its statistics: inside the zip (one rename makes
    both visible) and, for readers of the separate file, in ``statistics_file`` first."""
    vec_normalize = find_vec_normalize(model.get_env())
    statistics = statistics_bytes(vec_normalize) if vec_normalize is not None else None
    if statistics is not None and statistics_file is not None:
        from recurrent_rl.artifacts.atomic import atomic_write_bytes

        atomic_write_bytes(statistics_file, statistics)
    model_file.save_model(model, path, statistics)


def save_checkpoint(model: Any, run_dir: Path) -> Path:
    """Write a checkpoint at the model's timestep count (optimizer state included) under checkpoints/."""
    name = saved_run.checkpoint_name(model.num_timesteps)
    path = run_dir / run_folder.CHECKPOINTS / f"{name}.zip"
    save_with_statistics(model, path, saved_run.statistics_path(path))
    return path


def prune_checkpoints(run_dir: Path, keep: int | None, best_timesteps: int | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints and the one the best evaluation was trained from.

    The best evaluation's checkpoint is the newest one at or before its timestep count. Returns what was
    deleted. ``keep=None`` keeps everything.
    """
    found = saved_run.checkpoints(run_dir)
    if keep is None or len(found) <= keep:
        return []
    kept = set(found[-keep:])
    if best_timesteps is not None:
        before_best = [path for path in found if saved_run.checkpoint_timesteps(path) <= best_timesteps]
        kept.update(before_best[-1:])
    deleted = [path for path in found if path not in kept]
    for path in deleted:
        saved_run.statistics_path(path).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    return deleted


class PeriodicCheckpoints(BaseCallback):
    """Save a resumable checkpoint at the first rollout start ``checkpoint_freq`` steps after the last.

    At a rollout start the weights, optimizer state and timestep count agree: every counted step has been
    trained on, so a resumed run ends at the same count as an uninterrupted one. An interrupt handler asks
    :meth:`consistent_timesteps` which count matches the weights. ``best_timesteps`` tells pruning which
    checkpoint the best evaluation came from.
    """

    def __init__(self, run_dir: Path, checkpoint_freq: int, keep: int | None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.checkpoint_freq = checkpoint_freq
        self.keep = keep
        self.best_timesteps: int | None = None
        self.last_save = 0
        self.rollout_start = 0
        self.collecting = False

    def _on_training_start(self) -> None:
        self.last_save = self.rollout_start = self.num_timesteps

    def _on_rollout_start(self) -> None:
        self.rollout_start = self.num_timesteps
        self.collecting = True
        if self.checkpoint_freq > 0 and self.num_timesteps - self.last_save >= self.checkpoint_freq:
            self.last_save = self.num_timesteps
            self.save()

    def save(self) -> Path:
        path = save_checkpoint(self.model, self.run_dir)
        prune_checkpoints(self.run_dir, self.keep, self.best_timesteps)
        return path

    def _on_rollout_end(self) -> None:
        self.collecting = False

    def _on_step(self) -> bool:
        return True

    def consistent_timesteps(self) -> int:
        """The timestep count that matches the current weights: a partly collected rollout is not counted."""
        return self.rollout_start if self.collecting else self.num_timesteps
