"""Run the ``recurrent-rl`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TINY_TMAZE = """\
env:
  id: RecurrentRL/TMaze-v0
  kwargs: {corridor_length: 3}
  n_envs: 2
algo:
  n_steps: 16
  batch_size: 16
  n_epochs: 2
  implementation: sb3
policy:
  lstm_hidden_size: 8
train:
  total_timesteps: 256
  eval_freq: 128
  n_eval_episodes: 4
  checkpoint_freq: 128
"""


def run_cli(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env.pop("RECURRENT_RL_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "recurrent_rl", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
