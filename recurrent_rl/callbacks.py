"""Small training callbacks: periodic evaluation, checkpoints, a finiteness guard, TensorBoard metadata."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam, TensorBoardOutputFormat
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl import run_folder
from recurrent_rl.config import StopAt
from recurrent_rl.environment import find_vec_normalize, sync_normalization
from recurrent_rl.evaluation import EvalResult, evaluate
from recurrent_rl.normalization import save_normalization


class NonFiniteError(RuntimeError):
    """Parameters or loss became NaN or infinite."""


def find_nonfinite(model: Any) -> str | None:
    """What is NaN or infinite: the last loss, a parameter, or the observation to act on; None if nothing."""
    logger = getattr(model, "_logger", None)
    loss = logger.name_to_value.get("train/loss") if logger is not None else None
    if loss is not None and not math.isfinite(loss):
        return f"the training loss became {loss} at timestep {model.num_timesteps}"
    for name, parameter in model.policy.named_parameters():
        if not torch.isfinite(parameter).all():
            return f"parameter {name} became NaN or infinite at timestep {model.num_timesteps}"
    observation = getattr(model, "_last_obs", None)
    is_float = isinstance(observation, np.ndarray) and observation.dtype.kind == "f"
    if is_float and not np.isfinite(np.asarray(observation)).all():
        return f"the environment returned a NaN or infinite observation at timestep {model.num_timesteps}"
    return None


def save_checkpoint(model: Any, run_dir: Path, name: str) -> Path:
    """Write the model (optimizer state and timestep count included) and its statistics under checkpoints/."""
    folder = run_dir / run_folder.CHECKPOINTS
    path = folder / f"{name}.zip"
    vec_normalize = find_vec_normalize(model.get_env())
    if vec_normalize is not None:
        save_normalization(vec_normalize, folder / f"{name}.npz")
    run_folder.save_model(model, path)
    return path


def _rank(entry: dict[str, Any]) -> tuple[float, float]:
    success = entry.get("success_rate")
    return (-math.inf if success is None else success, entry["mean_return"])


def best_entry(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The best evaluation (success rate first, then mean return), or None."""
    return max(history, key=_rank) if history else None


class EvalCallback(BaseCallback):
    """Every ``eval_freq`` steps: evaluate, log ``eval/*``, keep history and best model, maybe stop early."""

    def __init__(
        self,
        eval_env: VecEnv,
        run_dir: Path,
        eval_freq: int,
        n_eval_episodes: int,
        deterministic: bool,
        stop_at: StopAt | None,
        history: list[dict[str, Any]] | None = None,
        report: Callable[[str], None] | None = None,
        best: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.eval_env = eval_env
        self.run_dir = run_dir
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.deterministic = deterministic
        self.stop_at = stop_at
        self.history: list[dict[str, Any]] = list(history or [])
        self.best = best if best is not None else best_entry(self.history)
        self.last_eval = self.history[-1]["timesteps"] if self.history else 0
        self.report = report or (lambda line: print(line, file=sys.stderr))
        self.stopped_early = False

    def _on_step(self) -> bool:
        if self.eval_freq <= 0 or self.num_timesteps - self.last_eval < self.eval_freq:
            return True
        self.last_eval = self.num_timesteps
        result = self.run_evaluation()
        entry = self.record(result)
        if self.stop_at is not None and reached(self.stop_at, entry):
            self.stopped_early = True
            self.report(f"stop_at reached at {self.num_timesteps} timesteps")
            return False
        return True

    def run_evaluation(self) -> EvalResult:
        sync_normalization(self.training_env, self.eval_env)
        return evaluate(self.model, self.eval_env, self.n_eval_episodes, self.deterministic)

    def record(self, result: EvalResult) -> dict[str, Any]:
        """Log one evaluation, append it to evaluations.json and save the best model so far."""
        entry = {"timesteps": self.num_timesteps, **result.summary(), "mean_length": result.mean_length}
        self.logger.record("eval/mean_return", result.mean_return)
        self.logger.record("eval/std_return", result.std_return)
        self.logger.record("eval/mean_ep_length", result.mean_length)
        if result.success_rate is not None:
            self.logger.record("eval/success_rate", result.success_rate)
        self.logger.dump(self.num_timesteps)
        self.history.append(entry)
        run_folder.atomic_write_json(self.run_dir / run_folder.EVALUATIONS, self.history)
        if self.best is None or _rank(entry) > _rank(self.best):
            self.best = entry
            vec_normalize = find_vec_normalize(self.training_env)
            if vec_normalize is not None:
                save_normalization(vec_normalize, self.run_dir / "best_vecnormalize.npz")
            run_folder.save_model(self.model, self.run_dir / run_folder.BEST_MODEL)
        success = "" if result.success_rate is None else f", success {result.success_rate:.2f}"
        spread = f"{result.mean_return:.3f} ± {result.std_return:.3f}"
        self.report(f"eval @ {self.num_timesteps} steps: return {spread}{success}")
        return entry


def reached(stop_at: StopAt, entry: dict[str, Any]) -> bool:
    """Either configured target suffices."""
    success = entry.get("success_rate")
    by_success = stop_at.success_rate is not None and success is not None and success >= stop_at.success_rate
    by_return = stop_at.mean_return is not None and entry["mean_return"] >= stop_at.mean_return
    return by_success or by_return


class CheckpointCallback(BaseCallback):
    """Save a resumable checkpoint at the first rollout start ``checkpoint_freq`` steps after the last.

    At a rollout start the weights, optimizer state and timestep count agree: every counted step has been
    trained on, so a resumed run ends at the same count as an uninterrupted one. An interrupt handler asks
    :meth:`consistent_timesteps` which count matches the weights.
    """

    def __init__(self, run_dir: Path, checkpoint_freq: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.checkpoint_freq = checkpoint_freq
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
            save_checkpoint(self.model, self.run_dir, run_folder.checkpoint_name(self.num_timesteps))

    def _on_rollout_end(self) -> None:
        self.collecting = False

    def _on_step(self) -> bool:
        return True

    def consistent_timesteps(self) -> int:
        """The timestep count that matches the current weights: a partly collected rollout is not counted."""
        return self.rollout_start if self.collecting else self.num_timesteps


class FiniteGuard(BaseCallback):
    """At each rollout start, stop if the loss or a parameter is NaN or infinite.

    Must come before :class:`CheckpointCallback` in the callback list, so no checkpoint holds such weights.
    """

    def _on_rollout_start(self) -> None:
        problem = find_nonfinite(self.model)
        if problem is not None:
            raise NonFiniteError(problem)

    def _on_step(self) -> bool:
        return True


class RunMetadataCallback(BaseCallback):
    """Write the resolved config as text and the hyperparameters (HParams plugin) to TensorBoard."""

    def __init__(
        self, config_yaml: str, hparams: dict[str, float | int | str | bool], metrics: list[str]
    ) -> None:
        super().__init__()
        self.config_yaml = config_yaml
        self.hparams = hparams
        self.metrics = metrics

    def _on_training_start(self) -> None:
        for output in self.logger.output_formats:
            if isinstance(output, TensorBoardOutputFormat):
                text = "    " + self.config_yaml.replace("\n", "\n    ")
                output.writer.add_text("config", text, self.num_timesteps)
        metric_dict: dict[str, float] = {name: 0.0 for name in self.metrics}
        self.logger.record(
            "hparams", HParam(self.hparams, metric_dict), exclude=("stdout", "log", "json", "csv")
        )

    def _on_step(self) -> bool:
        return True
