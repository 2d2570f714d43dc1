"""Runs of one config started at the same time each get their own folder, and all of them complete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import run_cli, start_cli, tiny_config


def test_three_runs_at_once(tmp_path: Path) -> None:
    (tmp_path / "same.yaml").write_text(tiny_config(total_timesteps=128, eval_freq=64, checkpoint_freq=64))
    processes = [start_cli("train", "same.yaml", cwd=tmp_path) for _ in range(3)]
    results = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr
    runs = {tmp_path / stdout.strip().splitlines()[-1] for stdout, _ in results}
    assert len(runs) == 3 and {run.parent for run in runs} == {tmp_path / "runs" / "same"}
    assert set((tmp_path / "runs" / "same").iterdir()) == runs
    for run in runs:
        assert json.loads((run / "summary.json").read_text())["status"] == "completed"
        assert (run / "model.zip").is_file()
        history = json.loads((run / "evaluations.json").read_text())
        assert [entry["timesteps"] for entry in history] == [64, 128]  # each run wrote only its own files
        assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 1


def test_a_run_being_trained_cannot_be_resumed_twice(tmp_path: Path) -> None:
    """``--resume`` of a run that a live process is training is refused (the run folder is locked)."""
    import fcntl

    run = tmp_path / "runs" / "x" / "r"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(tiny_config())
    (run / "checkpoints" / "model_000000000032_steps.zip").write_bytes(b"")
    with (run / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a training process holds
        done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "another process is training this run right now" in done.stderr
