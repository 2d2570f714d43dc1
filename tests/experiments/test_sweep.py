"""``recurrent-rl sweep`` end to end: run folders and index, Ctrl-C and SIGKILL then a rerun that finishes
without duplicates, a failing run, the same sweep on Ray, and the report of a real sweep.

Every sweep is a ``recurrent-rl`` subprocess in its own session, as a user would start it.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from recurrent_rl.cli import main
from tests.helpers.cli import run_cli, start_cli, wait_for
from tests.helpers.sweeps import (
    kill_all,
    read_index,
    run_folders,
    summary,
    trainings_of,
    wait_until_gone,
    write_configs,
    write_sweep,
)

TINY_SWEEP = """\
name: tiny
configs: [../tiny.yaml, ../tiny_ppo.yaml]
grid: {env.kwargs.corridor_length: [2, 3]}
seeds: [0, 1]
"""


def _checkpointed_and_running(sweep_dir: Path, count: int = 1) -> bool:
    """At least ``count`` runs are training and have written a checkpoint."""
    found = 0
    for run_dir in sweep_dir.glob("*/*seed*"):
        try:
            running = summary(run_dir)["status"] == "running"
        except (OSError, ValueError):
            continue
        found += running and any((run_dir / "checkpoints").glob("*.zip"))
    return found >= count


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tiny sweep interrupted by Ctrl-C once a training has a checkpoint, then run again to the end."""
    folder = tmp_path_factory.mktemp("sweep")
    write_configs(folder)
    write_sweep(folder, "tiny", TINY_SWEEP)
    sweep_dir = folder / "runs" / "sweeps" / "tiny"
    process = start_cli("sweep", "configs/sweeps/tiny.yaml", "--jobs", "2", cwd=folder)
    wait_for(lambda: _checkpointed_and_running(sweep_dir), process, timeout=120)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert not trainings_of(sweep_dir), "the sweep returned before its trainings ended"
    interrupted = [entry for entry in read_index(sweep_dir) if entry["status"] == "interrupted"]
    resumable = [e for e in interrupted if any((sweep_dir / e["folder"] / "checkpoints").glob("*.zip"))]
    assert resumable, err  # at least the training that had a checkpoint when Ctrl-C came
    rerun = run_cli("sweep", "configs/sweeps/tiny.yaml", "--jobs", "2", cwd=folder)
    assert rerun.returncode == 0, rerun.stderr
    return {"folder": folder, "sweep_dir": sweep_dir, "resumable": resumable, "rerun": rerun}


def test_index_and_run_folders(tiny_sweep: dict[str, Any]) -> None:
    sweep_dir = tiny_sweep["sweep_dir"]
    index = read_index(sweep_dir)
    expected = {
        (config, length, seed) for config in ("tiny", "tiny_ppo") for length in (2, 3) for seed in (0, 1)
    }
    assert {(e["config"], e["grid"]["env.kwargs.corridor_length"], e["seed"]) for e in index} == expected
    assert all(entry["status"] == "completed" for entry in index), index
    assert run_folders(sweep_dir) == sorted(entry["folder"] for entry in index)  # nothing twice
    for entry in index:
        run_dir = sweep_dir / entry["folder"]
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert config["train"]["seed"] == entry["seed"]
        assert config["env"]["kwargs"]["corridor_length"] == entry["grid"]["env.kwargs.corridor_length"]
        assert (run_dir / "model.zip").is_file() and summary(run_dir)["total_timesteps"] == 256
    assert entry["folder"] == "tiny_ppo/corridor_length=3-seed1"
    resolved = yaml.safe_load((sweep_dir / "sweep.yaml").read_text())
    assert resolved["seeds"] == [0, 1] and resolved["grid"] == {"env.kwargs.corridor_length": [2, 3]}
    table = tiny_sweep["rerun"].stdout
    assert "tiny/corridor_length=2-seed0" in table and "completed" in table


def test_interrupted_runs_were_resumed_not_repeated(tiny_sweep: dict[str, Any]) -> None:
    sweep_dir = tiny_sweep["sweep_dir"]
    for entry in tiny_sweep["resumable"]:
        run_dir = sweep_dir / entry["folder"]
        commands = (run_dir / "command.txt").read_text().splitlines()
        assert len(commands) == 2 and "--resume" in commands[1], commands
        history = json.loads((run_dir / "evaluations.json").read_text())
        steps = [record["timesteps"] for record in history]
        assert steps == sorted(set(steps)), steps
    assert "resumed" in tiny_sweep["rerun"].stderr


def test_rerun_of_a_finished_sweep_trains_nothing(tiny_sweep: dict[str, Any]) -> None:
    done = run_cli("sweep", "configs/sweeps/tiny.yaml", cwd=tiny_sweep["folder"])
    assert done.returncode == 0, done.stderr
    assert "8 of 8 runs already finished, 0 to run" in done.stderr and "started" not in done.stderr


def test_report_of_the_sweep(tiny_sweep: dict[str, Any]) -> None:
    folder, out = tiny_sweep["folder"], tiny_sweep["folder"] / "report"
    done = run_cli("report", tiny_sweep["sweep_dir"], "--out", out, "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    groups = {(g["config"], g["grid"]["env.kwargs.corridor_length"]): g["seeds"] for g in report["groups"]}
    assert groups == {(c, length): [0, 1] for c in ("tiny", "tiny_ppo") for length in (2, 3)}
    pairs = {
        (p["config"], p["baseline"], p["grid"]["env.kwargs.corridor_length"]) for p in report["improvements"]
    }
    assert pairs == {("tiny", "tiny_ppo", 2), ("tiny", "tiny_ppo", 3)}
    assert report["metric"] == "success_rate"
    rows = [line for line in (out / "report.md").read_text().splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[:3] for row in rows[:4]] == [
        ["| `tiny`", "2", "2"],
        ["| `tiny`", "3", "2"],
        ["| `tiny_ppo`", "2", "2"],
        ["| `tiny_ppo`", "3", "2"],
    ]
    assert [row.split(" | ")[:3] for row in rows[4:]] == [
        ["| `tiny`", "`tiny_ppo`", "2"],
        ["| `tiny`", "`tiny_ppo`", "3"],
    ]
    assert json.loads((out / "report.json").read_text()) == report
    for name in ("curves.png", "final.png", "horizon.png"):
        with Image.open(out / name) as image:
            assert image.width > 400 and image.height > 200


@pytest.mark.slow  # over 20 s: run with -m slow
def test_the_same_sweep_on_ray_gives_the_same_index(tiny_sweep: dict[str, Any]) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'ray[default]')")
    folder = tiny_sweep["folder"]
    done = run_cli(
        "sweep", "configs/sweeps/tiny.yaml", "--ray", "--jobs", "2", "--runs-dir", "ray", cwd=folder
    )
    if done.returncode == 2 and "cannot start or reach Ray" in done.stderr:
        pytest.skip(f"a local Ray instance cannot start here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert read_index(folder / "ray" / "sweeps" / "tiny") == read_index(tiny_sweep["sweep_dir"])


@pytest.mark.slow  # over 20 s: run with -m slow
def test_sigkill_of_the_sweep_stops_its_trainings_and_a_rerun_finishes(tmp_path: Path) -> None:
    write_configs(tmp_path, total_timesteps=640, checkpoint_freq=64)
    write_sweep(tmp_path, "killed", "name: killed\nconfigs: [../tiny.yaml]\nseeds: [0, 1]\n")
    sweep_dir = tmp_path / "runs" / "sweeps" / "killed"
    process = start_cli("sweep", "configs/sweeps/killed.yaml", "--jobs", "2", cwd=tmp_path)
    wait_for(lambda: _checkpointed_and_running(sweep_dir, count=2), process, timeout=120)
    trainings = trainings_of(sweep_dir)
    process.kill()
    process.communicate()
    try:  # each training is told by the kernel that its parent died: it checkpoints and stops
        assert wait_until_gone(trainings, timeout=60), "trainings outlived the killed sweep"
    finally:
        kill_all(trainings_of(sweep_dir))
    assert {summary(sweep_dir / "tiny" / f"seed{k}")["status"] for k in (0, 1)} == {"interrupted"}

    done = run_cli("sweep", "configs/sweeps/killed.yaml", "--jobs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run_folders(sweep_dir) == ["tiny/seed0", "tiny/seed1"]
    for seed in (0, 1):
        run_dir = sweep_dir / "tiny" / f"seed{seed}"
        assert summary(run_dir)["status"] == "completed"
        assert "--resume" in (run_dir / "command.txt").read_text().splitlines()[-1]


def test_a_failing_run_leaves_the_others_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_configs(tmp_path, total_timesteps=64, checkpoint_freq=32)
    sweep_file = write_sweep(
        tmp_path, "mixed", "name: mixed\nconfigs: [../tiny.yaml, ../broken.yaml]\nseeds: [0]\n"
    )
    done = run_cli("sweep", sweep_file, "--jobs", "2", "--runs-dir", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith("recurrent-rl:")]) == 1
    assert "1 of 2 runs did not finish" in done.stderr
    statuses = {
        entry["folder"]: entry["status"] for entry in read_index(tmp_path / "runs" / "sweeps" / "mixed")
    }
    assert statuses == {"tiny/seed0": "completed", "broken/seed0": "failed"}
    failed_row = next(line for line in done.stdout.splitlines() if line.startswith("broken/seed0"))
    assert "failed" in failed_row and "the broken env failed on purpose" in failed_row

    # The folder now holds this sweep: a changed file is refused, naming the change; added seeds and
    # configs are not.
    monkeypatch.chdir(tmp_path)
    original = sweep_file.read_text()
    for changed, fragment in (
        (original.replace("seeds: [0]", "seeds: [1]"), "mixed.yaml:3:1: seeds: [0] removed since the sweep"),
        (original + "set: {train.total_timesteps: 128}\n", "set.train.total_timesteps: was 'not set'"),
        (original + "grid: {algo.gamma: [0.9]}\n", "grid.algo.gamma: key added"),
        (original.replace("../broken.yaml", "../tiny_ppo.yaml"), "broken.yaml'] removed since the sweep"),
    ):
        sweep_file.write_text(changed)
        assert main(["sweep", str(sweep_file)]) == 2
        assert fragment in capsys.readouterr().err
    grown = original.replace("seeds: [0]", "seeds: [0, 1]").replace(
        "broken.yaml]", "broken.yaml, ../tiny_ppo.yaml]"
    )
    sweep_file.write_text(grown)
    assert main(["sweep", str(sweep_file), "--dry-run"]) == 0
    plan = {line.split()[1]: line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert plan == {
        "tiny/seed0": "skip",
        "tiny/seed1": "start",
        "broken/seed0": "restart",
        "broken/seed1": "start",
        "tiny_ppo/seed0": "start",
        "tiny_ppo/seed1": "start",
    }
