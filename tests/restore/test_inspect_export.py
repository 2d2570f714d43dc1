"""``inspect`` describes a saved model; ``export`` writes a TorchScript policy that acts exactly as SB3's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.cli import run_cli, start_cli, tiny_config


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two trained runs, started together: plain observations, and normalised ones."""
    workdir = tmp_path_factory.mktemp("runs")
    configs = {"plain": "", "normalized": "  normalize: true\n"}
    processes = {}
    for name, extra in configs.items():
        (workdir / f"{name}.yaml").write_text(tiny_config(eval_freq=0, checkpoint_freq=128, extra_env=extra))
        processes[name] = start_cli("train", f"{name}.yaml", "--run-name", "r", cwd=workdir)
    for process in processes.values():
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    return {name: workdir / "runs" / name / "r" for name in configs}


def test_inspect_run_folder(runs: dict[str, Path]) -> None:
    run = runs["normalized"]
    done = run_cli("inspect", run, "--json", cwd=run)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["env"]["id"] == "RecurrentRL/TMaze-v0" and report["env"]["kwargs"] == {"corridor_length": 3}
    assert report["algorithm"] == "FastRecurrentPPO" and report["policy"]["type"] == "MlpLstmPolicy"
    assert report["observation_space"] == "Box(-1.0, 1.0, (4,), float32)"
    assert report["action_space"] == "Discrete(3)"
    weights = report["weights"]
    assert weights["lstm_actor"] == {"kind": "lstm", "input_size": 4, "hidden_size": 8, "num_layers": 1}
    assert weights["policy_net"] == [64, 64] and weights["action_net"] == [64, 3]
    lstm = 2 * (4 * 8 * (4 + 8) + 2 * 4 * 8)  # actor and critic LSTMs
    mlp = 2 * ((8 * 64 + 64) + (64 * 64 + 64))  # pi and vf
    assert weights["parameters"] == lstm + mlp + (64 * 3 + 3) + (64 + 1)
    assert report["weights_fit_config"] is True
    assert report["timesteps"] == 256 and report["training"]["n_steps"] == 16
    assert report["normalization"].endswith("vecnormalize.npz")
    assert report["run"]["status"] == "completed" and report["run"]["total_timesteps"] == 256


def test_inspect_a_lone_model_file(runs: dict[str, Path], tmp_path: Path) -> None:
    """Without its run folder: what the file itself says (weights, plain fields, declared spaces)."""
    lone = Path(shutil.copy(runs["plain"] / "model.zip", tmp_path / "someones_model.zip"))
    done = run_cli("inspect", lone, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["env"] is None and report["run"] is None
    assert report["timesteps"] == 256 and report["weights"]["lstm_actor"]["hidden_size"] == 8
    assert report["observation_space"].startswith("Box") and report["action_space"].startswith("Discrete")

    table = run_cli("inspect", lone, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "LSTM(4->8)" in table.stdout and "10,628" in table.stdout and "timesteps" in table.stdout


def _episodes_agree(run: Path, module_path: Path, n_envs: int = 3, steps: int = 60) -> int:
    """Play with SB3's policy.predict and the exported module side by side; return the steps compared."""
    from recurrent_rl.artifacts.saved_run import locate
    from recurrent_rl.restore import restore

    with restore(locate(run), n_envs=n_envs, seed=123) as restored:
        return _compare(restored.env, restored.policy, module_path, n_envs, steps)


def _compare(env, policy, module_path: Path, n_envs: int, steps: int) -> int:
    from recurrent_rl.vecenv.normalization import find_vec_normalize

    vec_normalize = find_vec_normalize(env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript loading
        module = torch.jit.load(str(module_path))

    obs = env.reset()
    state = None
    h = c = torch.zeros(1, n_envs, 8)
    starts = np.ones(n_envs, dtype=bool)
    episodes = 0
    for _ in range(steps):
        expected, state = policy.predict(obs, state=state, episode_start=starts, deterministic=True)
        raw = vec_normalize.get_original_obs() if vec_normalize is not None else obs
        with torch.no_grad():
            action, h, c = module(torch.as_tensor(raw), h, c, torch.as_tensor(starts, dtype=torch.float32))
        np.testing.assert_array_equal(action.numpy(), expected)
        np.testing.assert_allclose(h.numpy(), state[0], atol=1e-5)
        np.testing.assert_allclose(c.numpy(), state[1], atol=1e-5)
        obs, _, dones, _ = env.step(expected)
        starts = dones.astype(bool)
        episodes += int(dones.sum())
    assert episodes >= n_envs, "the comparison should span episode boundaries (state resets)"
    return steps


@pytest.fixture(scope="module")
def exported(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exported")
    for name, run in runs.items():
        done = run_cli("export", run, "--out", folder / f"{name}.pt", cwd=folder)
        assert done.returncode == 0, done.stderr
        assert "input episode_start" in done.stdout
    return {name: folder / f"{name}.pt" for name in runs}


@pytest.mark.parametrize("name", ["plain", "normalized"])
def test_export_acts_like_predict(runs: dict[str, Path], exported: dict[str, Path], name: str) -> None:
    sidecar = json.loads(exported[name].with_suffix(".json").read_text())
    assert sidecar["recurrent"] is True and sidecar["memory"] == {
        "kind": "lstm",
        "num_layers": 1,
        "hidden_size": 8,
        "state": ["h", "c"],
    }
    assert [spec["name"] for spec in sidecar["inputs"]] == ["obs", "h", "c", "episode_start"]
    assert sidecar["source"]["timesteps"] == 256
    if name == "normalized":
        statistics = sidecar["normalization"]["obs"]
        assert len(statistics["mean"]) == 4 and statistics["clip"] == 10.0 and statistics["applied_in_model"]
    else:
        assert sidecar["normalization"] is None
    _episodes_agree(runs[name], exported[name])


TORCH_ONLY = """\
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"stable_baselines3", "sb3_contrib", "gymnasium", "recurrent_rl", "envs"}:
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, Block())
import torch
policy = torch.jit.load(sys.argv[1])
h = c = torch.zeros(1, 2, 8)
action, h, c = policy(torch.zeros(2, 4), h, c, torch.ones(2))
print(action.tolist(), tuple(h.shape))
"""


def test_exported_policy_needs_only_torch(exported: dict[str, Path]) -> None:
    command = [sys.executable, "-c", TORCH_ONLY, str(exported["normalized"])]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    actions, shape = ran.stdout.strip().rsplit("] ", 1)
    assert shape == "(1, 2, 8)" and all(a in "012" for a in actions.strip("[").split(", "))
