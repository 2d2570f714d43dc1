"""Learning is tested by learning: with training sequences shorter than an episode's span in the rollout
and states refreshed between epochs, the LSTM agent still solves a short T-maze."""

from __future__ import annotations

import json
from pathlib import Path

from recurrent_rl.config.loader import load_config
from recurrent_rl.training.train import train

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_short_sequences_with_refreshed_states_solve_a_short_tmaze(tmp_path: Path) -> None:
    """Corridor 5 (7-step episodes) cut every 8 steps of each env: most episodes are split across two
    sequences, the second starting from a stored (refreshed) state."""
    overrides = [
        "env.kwargs.corridor_length=5",
        "algo.sequence_length=8",
        "algo.refresh_states=true",
        "train.seed=0",
        "train.eval_freq=5000",
        "train.total_timesteps=80000",
        f"logging.runs_dir={tmp_path}",
    ]
    outcome = train(load_config(CONFIGS / "tmaze.yaml", overrides), command="pytest")
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["final_eval"]["success_rate"] >= 0.9, summary
