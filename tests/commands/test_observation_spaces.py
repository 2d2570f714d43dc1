"""Every observation space Stable-Baselines3 takes trains (fast path), evaluates, exports and explains:
Box, Discrete, MultiDiscrete (whose LSTM input size SB3 computes as a numpy integer, which torch refuses),
MultiBinary and Dict. Run in-process through the CLI's ``main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recurrent_rl.cli import main

KINDS_ENV = '''\
import gymnasium as gym
import numpy as np

SPACES = {
    "box": gym.spaces.Box(0.0, 1.0, (3,), np.float32),
    "discrete": gym.spaces.Discrete(3),
    "multidiscrete": gym.spaces.MultiDiscrete([3, 2]),
    "multibinary": gym.spaces.MultiBinary(3),
    "dict": gym.spaces.Dict({"cue": gym.spaces.MultiDiscrete([3, 2]), "time": gym.spaces.Box(0, 1, (1,))}),
}


class Kinds(gym.Env):
    """A cue (0 or 1) at the first step, then 4 blank steps; the last action must repeat it."""

    def __init__(self, kind="box"):
        self.kind = kind
        self.observation_space = SPACES[kind]
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        code = 1 + self.cue if self.t == 0 else 0  # 0: blank, 1 or 2: the cue
        if self.kind == "box":
            return np.eye(3, dtype=np.float32)[code]
        if self.kind == "discrete":
            return code
        if self.kind == "multidiscrete":
            return np.array([code, int(self.t == 4)])
        if self.kind == "multibinary":
            return np.eye(3, dtype=np.int8)[code]
        time = np.array([self.t / 4], dtype=np.float32)
        return {"cue": np.array([code, int(self.t == 4)]), "time": time}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.t = int(self.np_random.integers(2)), 0
        return self._obs(), {}

    def step(self, action):
        if self.t == 4:
            right = int(action) == self.cue
            return self._obs(), 1.0 if right else -1.0, True, False, {"is_success": right}
        self.t += 1
        return self._obs(), 0.0, False, False, {}
'''

CONFIG = """\
env:
  entry_point: kinds_env:Kinds
  kwargs: {{kind: {kind}}}
  n_envs: 2
algo: {{n_steps: 16, batch_size: 32, n_epochs: 2}}
policy: {{type: {policy}, lstm_hidden_size: 8}}
train: {{total_timesteps: 320, eval_freq: 160, n_eval_episodes: 4, checkpoint_freq: 0}}
logging: {{runs_dir: runs}}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kinds")
    (path / "kinds_env.py").write_text(KINDS_ENV)
    return path


@pytest.mark.parametrize("kind", ["box", "discrete", "multidiscrete", "multibinary", "dict"])
def test_space_trains_evaluates_exports_and_explains(
    kind: str, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    policy = "MultiInputLstmPolicy" if kind == "dict" else "MlpLstmPolicy"
    (folder / f"{kind}.yaml").write_text(CONFIG.format(kind=kind, policy=policy))
    assert main(["train", f"{kind}.yaml"]) == 0, capsys.readouterr().err
    run_dir = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["evaluate", run_dir, "--episodes", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_episodes"] == 4
    assert main(["export", run_dir, "--out", f"{kind}.onnx", "--episodes", "2"]) == 0, capsys.readouterr().err
    assert "0 action mismatches" in capsys.readouterr().out
    assert main(["explain", run_dir, "--episodes", "10", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)
