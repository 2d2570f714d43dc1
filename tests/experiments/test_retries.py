"""Lost work is redone without a human: a training killed by a signal that was not the sweep's is resumed
from its checkpoint in the same command, up to ``--retries`` times; a run that fails on its own is not."""

from __future__ import annotations

from itertools import count
from pathlib import Path

from recurrent_rl.experiments import plan
from recurrent_rl.experiments.executors import Ended, Executor, Job
from recurrent_rl.experiments.plan import Run
from recurrent_rl.experiments.scheduler import Scheduler
from tests.helpers.cli import start_cli, wait_for
from tests.helpers.sweeps import (
    kill_all,
    read_index,
    run_folders,
    summary,
    trainings_of,
    write_configs,
    write_sweep,
)


def _checkpointed(run_dir: Path) -> bool:
    return (run_dir / "summary.json").is_file() and any((run_dir / "checkpoints").glob("*.zip"))


def test_a_killed_training_is_resumed_in_the_same_sweep(tmp_path: Path) -> None:
    write_configs(tmp_path, total_timesteps=384, checkpoint_freq=64)
    write_sweep(tmp_path, "killed", "name: killed\nconfigs: [../tiny.yaml]\nseeds: [0]\n")
    sweep_dir = tmp_path / "runs" / "sweeps" / "killed"
    process = start_cli("sweep", "configs/sweeps/killed.yaml", "--jobs", "1", cwd=tmp_path)
    wait_for(lambda: _checkpointed(sweep_dir / "tiny" / "seed0"), process)
    kill_all(trainings_of(sweep_dir))  # the OOM killer, or a SIGKILL by hand
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "tiny/seed0 lost: killed by signal 9 (SIGKILL); retry 1 of 2" in err
    (entry,) = read_index(sweep_dir)
    assert entry["status"] == "completed" and entry["retries"] == 1
    assert entry["message"] == "finished after 1 retry (its job was lost)"
    assert run_folders(sweep_dir) == ["tiny/seed0"] and not (sweep_dir / ".discarded").exists()
    run_dir = sweep_dir / "tiny" / "seed0"
    assert summary(run_dir)["total_timesteps"] == 384
    assert "--resume" in (run_dir / "command.txt").read_text().splitlines()[-1]


class _Losing(Executor):
    """Every job is lost, or (``lost=False``) fails on its own."""

    def __init__(self, lost: bool) -> None:
        self.slots, self.lost, self.submitted = 1, lost, 0
        self._handles = count()

    def submit(self, job: Job) -> int:
        self.submitted += 1
        return next(self._handles)

    def poll(self, handle: int) -> Ended:
        return Ended(-9, lost=True, reason="killed by signal 9 (SIGKILL)") if self.lost else Ended(1)

    def cancel(self, handle: int) -> None:
        raise AssertionError("nothing is cancelled here")


def _run(tmp_path: Path, executor: _Losing, retries: int) -> dict[str, tuple[str, str]]:
    run = Run("tiny", tmp_path / "tiny.yaml", {}, 0, "tiny/seed0", (), 64)
    states = {run.folder: ("pending", "")}
    assert not Scheduler(executor, tmp_path, [run], states, retries).run([run])
    return states


def test_a_run_lost_more_often_than_its_retries_is_left_failed(tmp_path: Path) -> None:
    executor = _Losing(lost=True)
    states = _run(tmp_path, executor, retries=1)
    assert executor.submitted == 2
    assert states["tiny/seed0"] == (
        "failed",
        "killed by signal 9 (SIGKILL); its job was lost 2 times, no retry left (--retries 1); "
        "the same command resumes it",
    )
    assert plan.read_index(tmp_path)[0]["retries"] == 1


def test_a_run_that_fails_on_its_own_is_not_retried(tmp_path: Path) -> None:
    executor = _Losing(lost=False)
    states = _run(tmp_path, executor, retries=2)
    assert executor.submitted == 1 and states["tiny/seed0"] == ("failed", "exit status 1")
