"""Ctrl-C, SIGTERM and SIGKILL during training lose nothing, and ``train --resume`` finishes the run.

Every run is a ``recurrent-rl`` subprocess in its own session, signalled once training is under way.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import time
import zipfile
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.cli import assert_one_error, run_cli, start_cli, tiny_config, wait_for

ROLLOUT = 2 * 16  # n_envs * n_steps of tiny_config


def _checkpoints(run: Path) -> list[Path]:
    return sorted((run / "checkpoints").glob("model_*_steps.zip"))


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _scalar_steps(run: Path, tag: str) -> list[int]:
    events = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    return [event.step for event in events.Scalars(tag)] if tag in events.Tags()["scalars"] else []


def _live_group_members(pgid: int) -> list[int]:
    """Processes of the process group that are still running (zombies awaiting their reaper excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _group_is_gone(pgid: int, timeout: float = 10) -> bool:
    """No process (env worker, forkserver) is left in the command's process group."""
    deadline = time.monotonic() + timeout
    while _live_group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _assert_interrupted(run: Path, returncode: int, stderr: str) -> int:
    """Exit 130 with one line; summary, checkpoint (weights, optimizer, statistics, count) and TensorBoard."""
    assert_one_error(returncode, stderr, "interrupted at", status=130)
    summary = _summary(run)
    assert summary["status"] == "interrupted"
    steps = summary["total_timesteps"]
    assert steps % ROLLOUT == 0, "the checkpoint count must match the weights (whole rollouts)"
    checkpoint = run / "checkpoints" / f"model_{steps:012d}_steps.zip"
    assert summary["checkpoint"] == str(checkpoint.relative_to(run))
    with zipfile.ZipFile(checkpoint) as archive:
        assert {"policy.pth", "policy.optimizer.pth", "data"} <= set(archive.namelist())
        assert json.loads(archive.read("data"))["num_timesteps"] == steps
    assert not (run / "model.zip").exists()
    assert _scalar_steps(run, "eval/mean_return"), "TensorBoard events were not flushed"
    return steps


def test_ctrl_c_to_the_process_group_with_subprocess_workers(tmp_path: Path) -> None:
    config = tiny_config(
        total_timesteps=100_000,
        eval_freq=64,
        checkpoint_freq=64,
        n_eval_episodes=2,
        extra_env="  vec_env: subproc\n  normalize: true\n",
    )
    (tmp_path / "sub.yaml").write_text(config)
    process = start_cli("train", "sub.yaml", "--run-name", "r", cwd=tmp_path)
    run = tmp_path / "runs" / "sub" / "r"
    wait_for(lambda: bool(_checkpoints(run)), process)
    assert len(_live_group_members(process.pid)) >= 3  # the command and its two env workers
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process of the group
    _, stderr = process.communicate(timeout=120)
    steps = _assert_interrupted(run, process.returncode, stderr)
    assert (run / "checkpoints" / f"model_{steps:012d}_steps.npz").is_file()
    assert "KeyboardInterrupt" not in stderr and "Error" not in stderr  # no worker traceback
    assert _group_is_gone(process.pid), "env workers outlived the interrupted command"


def test_sigterm_then_resume_finishes_the_budget(tmp_path: Path) -> None:
    budget = 500  # not a whole number of rollouts: the run ends at the next rollout boundary (512)
    (tmp_path / "term.yaml").write_text(
        tiny_config(total_timesteps=budget, eval_freq=64, checkpoint_freq=64, n_eval_episodes=2)
    )
    process = start_cli("train", "term.yaml", "--run-name", "r", cwd=tmp_path)
    run = tmp_path / "runs" / "term" / "r"
    wait_for(lambda: bool(_checkpoints(run)), process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    _assert_interrupted(run, process.returncode, stderr)
    csv_rows = len((run / "tb" / "progress.csv").read_text().splitlines())
    checkpoint_steps = _summary(run)["total_timesteps"]

    done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = _summary(run)
    assert summary["status"] == "completed"
    assert summary["resumed_at"] == [checkpoint_steps]  # a resumed run says so (fresh random streams)
    assert summary["total_timesteps"] == math.ceil(budget / ROLLOUT) * ROLLOUT
    assert (run / "model.zip").is_file() and summary["final_eval"] is not None
    history = [entry["timesteps"] for entry in json.loads((run / "evaluations.json").read_text())]
    assert history == list(range(64, summary["total_timesteps"] + 1, 64)), history
    assert (run / "command.txt").read_text().splitlines()[1].startswith("recurrent-rl train --resume")
    assert len((run / "tb" / "progress.csv").read_text().splitlines()) > csv_rows  # appended, not restarted
    assert _scalar_steps(run, "eval/mean_return") == history  # TensorBoard hides what followed the checkpoint


LEARNS = """\
env:
  id: RecurrentRL/TMaze-v0
  kwargs: {corridor_length: 3}
  n_envs: 4
algo:
  n_steps: 32
  batch_size: 64
  n_epochs: 4
  learning_rate: 0.002
  ent_coef: 0.01
policy:
  lstm_hidden_size: 16
  net_arch: [32]
train:
  total_timesteps: 8000
  eval_freq: 512
  n_eval_episodes: 10
  checkpoint_freq: 512
logging:
  runs_dir: runs
"""


def test_sigkill_then_resume_continues_the_learning_curve(tmp_path: Path) -> None:
    """SIGKILL once TMaze is learnt: resumed from the newest periodic checkpoint, it is still solved."""
    (tmp_path / "learn.yaml").write_text(LEARNS)
    process = start_cli("train", "learn.yaml", "--run-name", "r", cwd=tmp_path)
    run = tmp_path / "runs" / "learn" / "r"

    def learnt_and_saved() -> bool:
        try:
            history = json.loads((run / "evaluations.json").read_text())
        except (FileNotFoundError, ValueError):
            return False
        solved = [entry["timesteps"] for entry in history if entry["success_rate"] >= 0.9]
        return bool(solved) and any(int(path.name[6:18]) >= solved[0] for path in _checkpoints(run))

    wait_for(learnt_and_saved, process, timeout=240)
    process.kill()
    process.communicate()
    checkpoint = int(_checkpoints(run)[-1].name[6:18])
    before = json.loads((run / "evaluations.json").read_text())
    assert not (run / "model.zip").exists()

    done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = _summary(run)
    assert summary["status"] == "completed" and summary["total_timesteps"] == 8064  # 8000 rounded up to 128
    history = json.loads((run / "evaluations.json").read_text())
    steps = [entry["timesteps"] for entry in history]
    assert steps == list(range(512, 8064 + 1, 512)), steps  # one eval per 512 steps: no restart, no repeat
    assert history[: len([e for e in before if e["timesteps"] <= checkpoint])] == [
        e for e in before if e["timesteps"] <= checkpoint
    ]
    first_after = next(entry for entry in history if entry["timesteps"] > checkpoint)
    assert first_after["success_rate"] >= 0.8, f"resumed at the untrained level: {first_after}"
    saved = [int(path.name[6:18]) for path in _checkpoints(run)]
    assert saved == sorted(set(saved)) and all(step % 512 == 0 for step in saved)
    assert min(_scalar_steps(run, "eval/mean_return")) == 512
    with open(run / "tb" / "progress.csv", newline="") as handle:  # no rows from after the checkpoint
        logged = [float(row["time/total_timesteps"] or "nan") for row in csv.DictReader(handle)]
    assert not any(math.isnan(step) for step in logged), "every row names its timestep"
    assert logged == sorted(logged) and logged[-1] == 8064 and len(logged) > 16, logged
