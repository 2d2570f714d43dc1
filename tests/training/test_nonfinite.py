"""NaN or infinite losses, weights or observations stop training with one clear line; good files are kept."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import torch

from tests.helpers.cli import assert_one_error, run_cli, tiny_config

# An env module the config imports: after ``after`` steps of each env copy, a huge reward (the value loss
# overflows) or a NaN observation.
BLOWUP_ENV = """\
import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register


class BlowUpEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, after=100, what="reward"):
        self.after, self.what, self.steps, self.t = after, what, 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps += 1
        self.t += 1
        obs = np.array([self.t / 8, float(action)], np.float32)
        reward = float(action)
        if self.steps > self.after and self.what == "reward":
            reward = 1e30
        if self.steps > self.after and self.what == "obs":
            obs[:] = np.nan
        if self.steps > self.after and self.what == "raise":
            raise RuntimeError("the simulator crashed")
        return obs, reward, self.t >= 8, False, {}


if "BlowUp-v0" not in gym.registry:
    register("BlowUp-v0", entry_point=BlowUpEnv)
"""


def _blowup_config(what: str, total_timesteps: int) -> str:
    config = tiny_config(total_timesteps=total_timesteps, eval_freq=0, checkpoint_freq=32)
    env = f"  id: BlowUp-v0\n  import: blowup_env\n  kwargs: {{after: 100, what: {what}}}\n"
    config = config.replace("  id: RecurrentRL/TMaze-v0\n  kwargs: {corridor_length: 3}\n", env)
    return config.replace("policy:\n", "policy:\n  net_arch: [16]\n")


def _finite_weights(checkpoint: Path) -> bool:
    with zipfile.ZipFile(checkpoint) as archive:
        state = torch.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)
    return all(torch.isfinite(value).all() for value in state.values())


@pytest.mark.parametrize(
    ("what", "fragment"),
    [
        ("reward", r"(loss became (nan|inf)|parameter \S+ became NaN or infinite) at timestep (\d+)"),
        ("obs", r"the environment returned a NaN or infinite observation at timestep (\d+)"),
    ],
)
def test_blow_up_keeps_the_last_good_checkpoint(tmp_path: Path, what: str, fragment: str) -> None:
    # 100 steps of each of the 2 envs are fine; the 7th rollout (steps 193-224) holds the bad data and its
    # update is the last one of the budget, so the final model would be written right after it.
    (tmp_path / "blowup_env.py").write_text(BLOWUP_ENV)
    (tmp_path / "blow.yaml").write_text(_blowup_config(what, total_timesteps=224))
    done = run_cli("train", "blow.yaml", "--run-name", "r", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "training stopped: ", status=1)
    line = done.stderr.strip().splitlines()[-1]
    match = re.search(fragment, line)
    assert match is not None, line
    assert 193 <= int(match.groups()[-1]) <= 224, line

    run = tmp_path / "runs" / "blow" / "r"
    checkpoints = sorted((run / "checkpoints").glob("*.zip"))
    assert checkpoints, "the good checkpoints are gone"
    assert all(_finite_weights(path) for path in checkpoints)
    assert f"last good checkpoint: {Path('runs/blow/r/checkpoints') / checkpoints[-1].name}" in line
    assert not (run / "model.zip").exists() and not (run / "best_model.zip").exists()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["checkpoint"] == f"checkpoints/{checkpoints[-1].name}"
    assert summary["message"] in line


def test_huge_learning_rate_fails_at_the_first_update(tmp_path: Path) -> None:
    extra = "  learning_rate: 1.0e+30\n  max_grad_norm: 1.0e+30\n"
    config = tiny_config(total_timesteps=256, eval_freq=0, checkpoint_freq=32, extra_algo=extra)
    (tmp_path / "lr.yaml").write_text(config)
    done = run_cli("train", "lr.yaml", "--run-name", "r", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, " at timestep 32; no checkpoint was written", status=1)
    run = tmp_path / "runs" / "lr" / "r"
    assert not list((run / "checkpoints").iterdir()) and not (run / "model.zip").exists()
    assert json.loads((run / "summary.json").read_text())["status"] == "failed"


def test_a_crash_keeps_the_checkpoints_and_is_recorded(tmp_path: Path) -> None:
    """An exception inside the env: internal error (exit 1, traceback in a file), the run stays resumable."""
    (tmp_path / "blowup_env.py").write_text(BLOWUP_ENV)
    (tmp_path / "blow.yaml").write_text(_blowup_config("raise", total_timesteps=1024))
    done = run_cli("train", "blow.yaml", "--run-name", "r", cwd=tmp_path)
    expected = "internal error: RuntimeError('the simulator crashed')"
    assert_one_error(done.returncode, done.stderr, expected, status=1)
    run = tmp_path / "runs" / "blow" / "r"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["message"].startswith("crashed at timestep 200")
    assert summary["checkpoint"] == "checkpoints/model_000000000192_steps.zip"
    assert _finite_weights(run / summary["checkpoint"])
