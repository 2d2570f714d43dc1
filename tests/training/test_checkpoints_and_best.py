"""Checkpoint pruning, and best_model.zip never paired with statistics from another step."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from recurrent_rl.artifacts import model_file
from recurrent_rl.artifacts.saved_run import checkpoints, locate, read_model_statistics
from recurrent_rl.restore import restore
from recurrent_rl.training.checkpoints import prune_checkpoints, save_with_statistics
from tests.helpers.cli import run_cli, start_cli, tiny_config

N_ENVS = 2  # tiny_config's


def _fake_checkpoints(run: Path, steps: list[int]) -> None:
    (run / "checkpoints").mkdir(parents=True)
    for step in steps:
        (run / "checkpoints" / f"model_{step:012d}_steps.zip").write_bytes(b"zip")
        (run / "checkpoints" / f"model_{step:012d}_steps.npz").write_bytes(b"npz")


def test_pruning_keeps_the_newest_and_the_best(tmp_path: Path) -> None:
    _fake_checkpoints(tmp_path, [100, 200, 300, 400, 500, 600, 700])
    deleted = prune_checkpoints(tmp_path, keep=3, best_timesteps=450)
    kept = [int(path.name[6:18]) for path in checkpoints(tmp_path)]
    assert kept == [400, 500, 600, 700]  # 400: the newest checkpoint the best evaluation (450) trained from
    assert [int(path.name[6:18]) for path in deleted] == [100, 200, 300]
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.npz")) == [
        f"model_{step:012d}_steps.npz" for step in (400, 500, 600, 700)
    ]
    assert prune_checkpoints(tmp_path, keep=None) == [] and len(checkpoints(tmp_path)) == 4


def test_training_prunes_old_checkpoints(tmp_path: Path) -> None:
    config = tiny_config(total_timesteps=512, eval_freq=64, checkpoint_freq=32)
    (tmp_path / "prune.yaml").write_text(config.replace("train:\n", "train:\n  keep_checkpoints: 2\n"))
    done = run_cli("train", "prune.yaml", "--run-name", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    steps = [int(path.name[6:18]) for path in checkpoints(tmp_path / "runs" / "prune" / "r")]
    assert 2 <= len(steps) <= 3 and steps[-2:] == [448, 480], steps  # 15 were written


@pytest.fixture(scope="module")
def normalized_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("best")
    (folder / "best.yaml").write_text(tiny_config(extra_env="  normalize: true\n"))
    done = run_cli("train", "best.yaml", "--run-name", "r", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "runs" / "best" / "r"


def _consistent(model: Path) -> bool:
    """The statistics read for ``model`` were taken at the model's own step.

    The training VecNormalize counts one observation per env per step plus the first reset, so its count
    is ``num_timesteps + n_envs`` (+ 1e-4) at every step.
    """
    arrays, _ = read_model_statistics(model)
    timesteps = model_file.timesteps(model_file.read_plain_data(model))
    assert timesteps is not None
    return bool(np.isclose(float(arrays["obs/count"]), timesteps + N_ENVS, atol=1e-3))


def test_a_kill_between_the_two_writes_keeps_the_pair(
    normalized_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statistics file is written, then the kill: best_model.zip and its statistics still agree."""
    best = normalized_run / "best_model.zip"
    assert _consistent(best)
    before = best.read_bytes()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    saved = locate(normalized_run, model=normalized_run / "checkpoints" / "model_000000000128_steps.zip")
    with restore(saved, n_envs=N_ENVS, training=True, resume=True) as restored:
        monkeypatch.setattr(model_file, "atomic_write_bytes", killed)
        with pytest.raises(KeyboardInterrupt):
            save_with_statistics(restored.model, best, normalized_run / "best_vecnormalize.npz")
    assert best.read_bytes() == before and _consistent(best)


@pytest.mark.slow  # over 20 s: run with -m slow
def test_random_kills_never_mismatch_best_model_and_statistics(tmp_path: Path) -> None:
    rng = random.Random(7)
    config = tiny_config(total_timesteps=100_000, eval_freq=32, checkpoint_freq=0, n_eval_episodes=2)
    (tmp_path / "kill.yaml").write_text(config.replace("n_epochs: 2", "n_epochs: 1") + "")
    (tmp_path / "kill.yaml").write_text(
        (tmp_path / "kill.yaml").read_text().replace("env:\n", "env:\n  normalize: true\n", 1)
    )
    checked = 0
    for attempt in range(5):
        run = tmp_path / "runs" / "kill" / f"r{attempt}"
        process = start_cli("train", "kill.yaml", "--run-name", f"r{attempt}", cwd=tmp_path)
        deadline = time.monotonic() + 120
        while not (run / "best_model.zip").is_file():
            assert process.poll() is None and time.monotonic() < deadline, "no best model was written"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 2.0))  # evaluations every 32 steps: best models are being written
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert _consistent(run / "best_model.zip")
        checked += 1
    assert checked == 5
