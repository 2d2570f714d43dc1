"""SIGKILL at random instants never leaves a half-written artifact: every file there loads.

One run is killed while training, then resumed and killed again at random delays (during start-up, loading,
training, checkpointing or evaluation), and finally resumed to the end. After each kill every model,
checkpoint, statistics, JSON and config file in the run folder must load; temporary files may be left only
as dot-files, and ``--resume`` and ``evaluate`` ignore them.
"""

from __future__ import annotations

import json
import random
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from recurrent_rl.algo.build import build_policy, load_policy_weights
from recurrent_rl.config.loader import load_config
from recurrent_rl.vecenv.build import check_env_config
from tests.helpers.cli import files_under, run_cli, start_cli, tiny_config

BUDGET = 2048
KILLS = 4  # the second one during start-up, the others while training


def _check_every_artifact(run: Path) -> list[str]:
    """Load everything in ``run``; return the names of leftover temporary files."""
    cfg = load_config(run / "config.yaml").config
    observation_space, action_space = check_env_config(cfg.env)
    policy = build_policy(cfg, observation_space, action_space)
    leftovers = []
    for path in files_under(run):
        if path.suffix == ".tmp":
            assert path.name.startswith("."), f"a temporary file that is not a dot-file: {path}"
            leftovers.append(path.name)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                assert archive.testzip() is None, path
            load_policy_weights(policy, path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                assert {"obs/mean", "obs/var", "ret/mean"} <= set(data.files), path
    return leftovers


def _newest_checkpoint(run: Path) -> str:
    found = sorted(path.name for path in (run / "checkpoints").glob("model_*_steps.zip"))
    return found[-1] if found else ""


@pytest.mark.slow  # over 20 s: run with -m slow
def test_random_kills_leave_only_whole_files(tmp_path: Path) -> None:
    rng = random.Random(20240521)
    config = tiny_config(
        total_timesteps=BUDGET,
        eval_freq=64,
        checkpoint_freq=32,
        n_eval_episodes=2,
        extra_env="  normalize: true\n",
    )
    (tmp_path / "kill.yaml").write_text(config.replace("n_epochs: 2", "n_epochs: 1"))
    run = tmp_path / "runs" / "kill" / "r"
    leftovers: list[str] = []
    for attempt in range(KILLS):
        newest = _newest_checkpoint(run)
        if attempt == 0:
            process = start_cli("train", "kill.yaml", "--run-name", "r", cwd=tmp_path)
        else:
            process = start_cli("train", "--resume", run, cwd=tmp_path)
        if attempt == 1:  # during start-up and checkpoint loading
            time.sleep(rng.uniform(0.2, 3.0))
        else:  # while training: checkpoints, statistics, evaluations and summaries are being written
            deadline = time.monotonic() + 180
            while _newest_checkpoint(run) <= newest and process.poll() is None:
                assert time.monotonic() < deadline, "no checkpoint was written"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        leftovers += _check_every_artifact(run)
        if attempt == 0:  # what a kill during a write leaves: resume and evaluate must not pick these up
            (run / "checkpoints" / ".model_000099999999_steps.zip.x1y2z3.tmp").write_bytes(b"PK\x03\x04 half")
            (run / ".model.zip.a1b2c3.tmp").write_bytes(b"PK\x03\x04 half")
        summary = run / "summary.json"
        if summary.is_file() and json.loads(summary.read_text())["status"] == "completed":
            break  # finished before the kill: nothing left to resume

    summary_path = run / "summary.json"
    if json.loads(summary_path.read_text())["status"] != "completed":
        done = run_cli("train", "--resume", run, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "completed" and summary["total_timesteps"] == BUDGET
    history = [entry["timesteps"] for entry in json.loads((run / "evaluations.json").read_text())]
    assert history == list(range(64, BUDGET + 1, 64))
    _check_every_artifact(run)
    evaluated = run_cli("evaluate", run, "--episodes", "2", "--json", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    print(f"temporary files left: {sorted(set(leftovers))}")
