"""Tiny sweeps for the tests: TMaze configs that train in seconds, written into a temporary folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.helpers.cli import tiny_config

BROKEN = """\
env:
  id: RecurrentRLTest/Broken-v0
  import: tests.helpers.broken_env
  n_envs: 2
algo: {n_steps: 16, batch_size: 16, n_epochs: 2}
policy: {lstm_hidden_size: 8}
train: {total_timesteps: 64, eval_freq: 32, n_eval_episodes: 2, checkpoint_freq: 32}
"""


def write_configs(folder: Path, total_timesteps: int = 256, checkpoint_freq: int = 64) -> Path:
    """``configs/tiny.yaml`` (LSTM), ``tiny_ppo.yaml`` (memoryless twin), ``broken.yaml``; the folder."""
    configs = folder / "configs"
    (configs / "sweeps").mkdir(parents=True, exist_ok=True)
    tiny = tiny_config(total_timesteps=total_timesteps, eval_freq=64, checkpoint_freq=checkpoint_freq)
    (configs / "tiny.yaml").write_text(tiny)
    (configs / "tiny_ppo.yaml").write_text("base: tiny.yaml\nalgo: {name: ppo}\npolicy: {type: MlpPolicy}\n")
    (configs / "broken.yaml").write_text(BROKEN)
    return configs


def write_sweep(folder: Path, name: str, body: str) -> Path:
    """``configs/sweeps/<name>.yaml`` holding ``body``."""
    path = folder / "configs" / "sweeps" / f"{name}.yaml"
    path.write_text(body)
    return path


def read_index(sweep_dir: Path) -> list[dict[str, Any]]:
    return json.loads((sweep_dir / "index.json").read_text())["runs"]


def run_folders(sweep_dir: Path) -> list[str]:
    """Every run folder in the sweep (moved-aside folders in .discarded/ excluded)."""
    return sorted(str(p.parent.relative_to(sweep_dir)) for p in sweep_dir.glob("*/*/config.yaml"))


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def trainings_of(sweep_dir: Path) -> list[int]:
    """Pids of live training processes working in ``sweep_dir`` (found by their command lines)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "-m recurrent_rl train" in text and str(sweep_dir) in text and state != "Z":
            pids.append(int(cmdline.parent.name))
    return pids


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until_gone(pids: list[int], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
