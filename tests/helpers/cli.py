"""Run the ``recurrent-rl`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
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


def tiny_config(
    *,
    total_timesteps: int = 256,
    eval_freq: int = 128,
    checkpoint_freq: int = 128,
    n_eval_episodes: int = 4,
    extra_env: str = "",
    extra_algo: str = "",
    runs_dir: str = "runs",
) -> str:
    """A TMaze (corridor 3) config that trains in seconds, with the default (fast) implementation."""
    return f"""\
env:
  id: RecurrentRL/TMaze-v0
  kwargs: {{corridor_length: 3}}
  n_envs: 2
{extra_env}algo:
  n_steps: 16
  batch_size: 16
  n_epochs: 2
{extra_algo}policy:
  lstm_hidden_size: 8
train:
  total_timesteps: {total_timesteps}
  eval_freq: {eval_freq}
  n_eval_episodes: {n_eval_episodes}
  checkpoint_freq: {checkpoint_freq}
logging:
  runs_dir: {runs_dir}
"""


def _cli_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env.pop("RECURRENT_RL_DEBUG", None)
    return env


def start_cli(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    """Start the command in its own session (process group), as a terminal would, without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", "recurrent_rl", *map(str, args)],
        cwd=cwd,
        env=_cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Poll ``condition`` until true; fail if ``process`` exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the command ended (status {process.returncode}) too early:\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for the training to get under way")
        time.sleep(0.02)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in files_under(folder)}


def assert_one_error(returncode: int, stderr: str, fragment: str, status: int = 2) -> None:
    """Exit ``status``, no traceback, one ``recurrent-rl:`` line on stderr, and it contains ``fragment``."""
    assert returncode == status, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("recurrent-rl:")]
    assert len(lines) == 1, stderr
    assert fragment in lines[0], lines[0]
