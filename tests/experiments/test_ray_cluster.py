"""Sweeps and studies on a real two-node Ray cluster (``ray start`` on loopback, token authentication), given
by address: a study trains a trial's two seeds side by side; then a sweep loses its worker node, killed
outright mid-run as a lost machine: the sweep resubmits the lost run, which resumes from its checkpoint on
the head, and every run finishes in the same command, once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from tests.helpers import ray_cluster
from tests.helpers.cli import wait_for
from tests.helpers.sweeps import read_index, run_folders, summary, write_configs, write_sweep
from tests.helpers.tuning import TUNE, load, write_tiny

REASON = ray_cluster.why_not()
BUDGET = 640
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def cluster() -> Iterator[ray_cluster.Cluster]:
    with ray_cluster.ray_cluster() as started:
        yield started


def _command(cluster: ray_cluster.Cluster, *args: str, cwd: Path) -> subprocess.Popen[str]:
    """``recurrent-rl ARGS`` as a driver of ``cluster`` (its token in the environment)."""
    return subprocess.Popen(
        [sys.executable, "-m", "recurrent_rl", *args],
        cwd=cwd,
        env={**cluster.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_a_study_on_the_cluster_trains_a_trials_seeds_as_tasks(
    cluster: ray_cluster.Cluster, tmp_path: Path
) -> None:
    write_tiny(tmp_path)
    ray_cluster.wait_until_up(cluster.worker, cluster.worker_log)
    args = (*TUNE, "--trials", "1", "--seeds", "2", "--ray", cluster.address)
    out, err = _command(cluster, *args, cwd=tmp_path).communicate(timeout=300)
    assert "trial 0000 COMPLETE" in err, err
    (trial,) = load(tmp_path / "runs" / "studies" / "tiny").get_trials()
    assert trial.state == optuna.trial.TrialState.COMPLETE
    for run_dir in trial.user_attrs["run_dirs"]:
        assert json.loads((Path(run_dir) / "summary.json").read_text())["status"] == "completed"


def _training_on(node: subprocess.Popen[bytes], sweep_dir: Path) -> Path | None:
    """The run folder of a training running under ``node`` once it has a checkpoint."""
    for pid in ray_cluster.descendants(node.pid):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "recurrent_rl" in args and "train" in args and "--run-name" in args:
            run_dir = sweep_dir / "tiny" / args[args.index("--run-name") + 1]
            if any((run_dir / "checkpoints").glob("*.zip")):
                return run_dir
    return None


def test_a_sweep_survives_the_loss_of_a_node(cluster: ray_cluster.Cluster, tmp_path: Path) -> None:
    write_configs(tmp_path, total_timesteps=BUDGET, checkpoint_freq=64)
    write_sweep(tmp_path, "cluster", "name: cluster\nconfigs: [../tiny.yaml]\nseeds: [0, 1]\n")
    sweep_dir = tmp_path / "runs" / "sweeps" / "cluster"
    args = ("sweep", "configs/sweeps/cluster.yaml", "--jobs", "2", "--ray", cluster.address)
    sweep = _command(cluster, *args, cwd=tmp_path)  # while the worker node joins: one run waits for it
    lost: list[Path] = []

    def checkpointed_on_the_worker_node() -> bool:
        run_dir = _training_on(cluster.worker, sweep_dir)
        lost.extend([run_dir] if run_dir is not None else [])
        return run_dir is not None

    try:
        ray_cluster.wait_until_up(cluster.worker, cluster.worker_log)
        wait_for(checkpointed_on_the_worker_node, sweep, timeout=180)
        ray_cluster.kill_node(cluster.worker)  # raylet, Ray workers, the training: all SIGKILLed
        out, err = sweep.communicate(timeout=300)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, err
    (lost_run,) = lost
    assert f"{lost_run.relative_to(sweep_dir)} lost: NodeDiedError" in err, err
    index = {entry["folder"]: entry for entry in read_index(sweep_dir)}
    assert {folder: entry["status"] for folder, entry in index.items()} == {
        "tiny/seed0": "completed",
        "tiny/seed1": "completed",
    }
    assert index[str(lost_run.relative_to(sweep_dir))]["retries"] == 1
    assert run_folders(sweep_dir) == ["tiny/seed0", "tiny/seed1"] and not (sweep_dir / ".discarded").exists()
    for folder in index:
        assert summary(sweep_dir / folder)["total_timesteps"] == BUDGET
    assert "--resume" in (lost_run / "command.txt").read_text().splitlines()[-1]
