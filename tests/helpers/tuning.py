"""Tiny studies for the tuning tests: a TMaze config that trains in a second, and reading a study back."""

from __future__ import annotations

from pathlib import Path

import optuna

from recurrent_rl.tuning.study import with_driver
from tests.helpers.cli import tiny_config

TUNE = ("tune", "tiny.yaml", "--space", "space.yaml")  # the tiny study, as write_tiny writes it

SPACE = """\
algo.learning_rate: {log_uniform: [1.0e-4, 3.0e-3]}
algo.n_steps: {choice: [8, 16]}
algo.batch_size: {choice: [16, 64]}
policy.lstm_hidden_size: {choice: [8, 16]}
policy.critic: {choice: [separate, shared, none]}
"""


def write_tiny(
    folder: Path, total_timesteps: int = 256, eval_freq: int = 64, checkpoint_freq: int = 0
) -> Path:
    """``tiny.yaml`` (TMaze corridor 3, 2 envs) and ``space.yaml`` in ``folder``."""
    config = tiny_config(
        total_timesteps=total_timesteps, eval_freq=eval_freq, checkpoint_freq=checkpoint_freq
    )
    (folder / "tiny.yaml").write_text(config)
    (folder / "space.yaml").write_text(SPACE)
    return folder / "tiny.yaml"


def load(study_dir: Path, name: str | None = None, url: str | None = None) -> optuna.Study:
    storage = with_driver(url) if url else f"sqlite:///{study_dir / 'study.db'}"
    return optuna.load_study(study_name=name or study_dir.name, storage=storage)


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return [trial for trial in study.get_trials() if trial.state in states]
