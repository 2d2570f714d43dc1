"""Faults: a worker killed mid-trial (its trial fails by heartbeat, a rerun completes the study), and Ctrl-C
(the running trial ends interrupted, exit 130, a rerun completes the study)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import optuna

from tests.helpers.cli import run_cli, start_cli, wait_for
from tests.helpers.tuning import finished, load, write_tiny

ARGS = ("tune", "tiny.yaml", "--space", "space.yaml", "--trials", "1", "--jobs", "1", "--pruner", "none")


def _evaluated(run_dir: Path) -> bool:
    return (run_dir / "evaluations.json").is_file()


def _running_worker(study_dir: Path) -> int:
    (trial,) = [t for t in load(study_dir).get_trials() if t.state == optuna.trial.TrialState.RUNNING]
    return int(trial.user_attrs["worker"].rsplit(":", 1)[1])


def test_sigkill_of_a_worker_fails_its_trial_and_a_rerun_completes(tmp_path: Path) -> None:
    write_tiny(tmp_path, total_timesteps=2048, eval_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    parent = start_cli(*ARGS, cwd=tmp_path)
    wait_for(lambda: _evaluated(study_dir / "trial_0000"), parent)
    os.kill(_running_worker(study_dir), signal.SIGKILL)  # a lost machine: no cleanup at all
    out, err = parent.communicate(timeout=120)
    assert parent.returncode == 1, err
    assert "killed by signal 9" in err and "the same command continues the study" in err
    (trial,) = load(study_dir).get_trials()
    assert trial.state == optuna.trial.TrialState.RUNNING  # until its heartbeat is stale

    done = run_cli(*ARGS, cwd=tmp_path)  # waits for the heartbeat to go stale, then retries the trial
    assert done.returncode == 0, done.stderr
    trials = load(study_dir).get_trials()
    assert trials[0].state == optuna.trial.TrialState.FAIL
    assert len(finished(load(study_dir))) == 1
    (retry,) = [trial for trial in trials if trial.system_attrs.get("failed_trial") == 0]
    assert retry.state == optuna.trial.TrialState.COMPLETE and retry.params == trials[0].params
    numbers = [trial.number for trial in trials]
    assert len(numbers) == len(set(numbers))


def test_ctrl_c_interrupts_the_trial_and_a_rerun_completes(tmp_path: Path) -> None:
    write_tiny(tmp_path, total_timesteps=2048, eval_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    parent = start_cli(*ARGS, cwd=tmp_path)
    wait_for(lambda: _evaluated(study_dir / "trial_0000"), parent)
    os.killpg(parent.pid, signal.SIGINT)  # Ctrl-C in the terminal: the tune command's process group
    out, err = parent.communicate(timeout=120)
    assert parent.returncode == 130, err
    assert "interrupted; the same command continues the study" in err
    (trial,) = load(study_dir).get_trials()
    assert trial.state == optuna.trial.TrialState.FAIL  # never COMPLETE
    assert trial.user_attrs["status"] == "interrupted"
    summary = json.loads((study_dir / "trial_0000" / "summary.json").read_text())
    assert summary["status"] == "interrupted"

    done = run_cli(*ARGS, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(finished(load(study_dir))) == 1
