"""Learning is tested by learning: LSTM and GRU agents solve a short T-maze, memoryless baselines cannot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recurrent_rl.artifacts.saved_run import locate
from recurrent_rl.config.loader import load_config
from recurrent_rl.evaluation.saved import evaluate_saved
from recurrent_rl.training.train import train

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHORT_TMAZE = ["env.kwargs.corridor_length=5", "train.seed=0", "train.eval_freq=5000"]


def _train(config: str, tmp_path: Path, *overrides: str) -> tuple[Path, dict[str, Any]]:
    loaded = load_config(CONFIGS / config, [*overrides, f"logging.runs_dir={tmp_path}"])
    outcome = train(loaded, command="pytest")
    assert outcome.status in ("completed", "stopped_early"), outcome.message
    return outcome.run_dir, json.loads((outcome.run_dir / "summary.json").read_text())


@pytest.mark.parametrize("config", ["tmaze.yaml", "tmaze_gru.yaml"])
def test_recurrent_agent_solves_a_short_tmaze(tmp_path: Path, config: str) -> None:
    """The LSTM agent and its GRU twin (same sizes and settings) both learn a 5-step memory."""
    run_dir, summary = _train(config, tmp_path, *SHORT_TMAZE, "train.total_timesteps=80000")
    assert summary["final_eval"]["success_rate"] >= 0.9, summary
    # Evaluated again from the saved files, with the hidden state reset between 200 fresh episodes.
    assert evaluate_saved(locate(run_dir), episodes=200).success_rate >= 0.9


@pytest.mark.parametrize("config", ["tmaze_ppo.yaml", "tmaze_framestack.yaml"])
def test_memoryless_baselines_stay_at_chance(tmp_path: Path, config: str) -> None:
    run_dir, summary = _train(config, tmp_path, *SHORT_TMAZE, "train.total_timesteps=30000")
    assert summary["final_eval"]["success_rate"] <= 0.6, summary
    assert evaluate_saved(locate(run_dir), episodes=200).success_rate <= 0.6


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_config_solves_tmaze(tmp_path: Path, seed: int) -> None:
    """What the README's first command does: configs/tmaze.yaml as shipped reaches >= 95% success."""
    run_dir, summary = _train("tmaze.yaml", tmp_path, f"train.seed={seed}")
    assert summary["status"] == "stopped_early", summary
    assert evaluate_saved(locate(run_dir), episodes=200).success_rate >= 0.95


@pytest.mark.slow
def test_long_memory_config_solves_corridor_100(tmp_path: Path) -> None:
    """configs/tmaze_long.yaml (forget_bias 5, 256-step sequences) remembers a cue for 100 steps."""
    run_dir, summary = _train("tmaze_long.yaml", tmp_path, "train.seed=0")
    assert summary["status"] == "stopped_early", summary
    assert evaluate_saved(locate(run_dir), episodes=200).success_rate >= 0.95
