"""A sweep on a real two-node Ray cluster (``ray start`` on loopback, token authentication), given by
address; the worker node is killed outright mid-run, as a lost machine: the sweep resubmits the lost run,
which resumes from its checkpoint on the head, and every run finishes in the same command, once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.cli_helpers import wait_for
from tests.experiments import ray_helpers
from tests.experiments.sweep_helpers import read_index, run_folders, summary, write_configs, write_sweep

REASON = ray_helpers.why_not()
BUDGET = 640


def _training_on(node: subprocess.Popen[bytes], sweep_dir: Path) -> Path | None:
    """The run folder of a training running under ``node`` once it has a checkpoint."""
    for pid in ray_helpers.descendants(node.pid):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "recurrent_rl" in args and "train" in args and "--run-name" in args:
            run_dir = sweep_dir / "tiny" / args[args.index("--run-name") + 1]
            if any((run_dir / "checkpoints").glob("*.zip")):
                return run_dir
    return None


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_a_sweep_survives_the_loss_of_a_node(tmp_path: Path) -> None:
    write_configs(tmp_path, total_timesteps=BUDGET, checkpoint_freq=64)
    write_sweep(tmp_path, "cluster", "name: cluster\nconfigs: [../tiny.yaml]\nseeds: [0, 1]\n")
    sweep_dir = tmp_path / "runs" / "sweeps" / "cluster"
    with ray_helpers.ray_cluster() as cluster:
        sweep = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "recurrent_rl",
                "sweep",
                "configs/sweeps/cluster.yaml",
                "--jobs",
                "2",
                "--ray",
                cluster.address,
            ],
            cwd=tmp_path,
            env={**cluster.env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:  # the sweep starts while the worker node joins: one run waits for its CPU
            ray_helpers.wait_until_up(cluster.worker, cluster.worker_log)
            lost: list[Path] = []

            def checkpointed_on_the_worker_node() -> bool:
                run_dir = _training_on(cluster.worker, sweep_dir)
                lost.extend([run_dir] if run_dir is not None else [])
                return run_dir is not None

            wait_for(checkpointed_on_the_worker_node, sweep, timeout=180)
            ray_helpers.kill_node(cluster.worker)  # raylet, Ray workers, the training: all SIGKILLed
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
