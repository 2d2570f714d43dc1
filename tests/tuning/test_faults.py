"""Faults: a training killed mid-trial (resumed in the same command), the tune command killed (its trial
fails by heartbeat and is retried by the rerun), Ctrl-C, SIGTERM at any moment, and a trial that fails on
its own (its real cause, and that a rerun would not help)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from tests.helpers.cli import run_cli, start_cli, wait_for
from tests.helpers.sweeps import kill_all, trainings_of, wait_until_gone
from tests.helpers.tuning import finished, load, write_tiny

ARGS = ("tune", "tiny.yaml", "--space", "space.yaml", "--trials", "1", "--jobs", "1", "--pruner", "none")
State = optuna.trial.TrialState


def _checkpointed(run_dir: Path) -> bool:
    return (run_dir / "evaluations.json").is_file() and any((run_dir / "checkpoints").glob("*.zip"))


def test_a_killed_training_resumes_in_the_same_command(tmp_path: Path) -> None:
    write_tiny(tmp_path, total_timesteps=512, eval_freq=128, checkpoint_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    parent = start_cli(*ARGS, cwd=tmp_path)
    wait_for(lambda: _checkpointed(study_dir / "trial_0000"), parent)
    kill_all(trainings_of(study_dir))  # the OOM killer, or a SIGKILL by hand: not the tuner's signal
    out, err = parent.communicate(timeout=300)
    assert parent.returncode == 0, err
    assert "trial_0000 lost: killed by signal 9 (SIGKILL); retry 1 of 2" in err
    (trial,) = load(study_dir).get_trials()
    assert trial.state == State.COMPLETE and trial.user_attrs["retries"] == 1
    commands = (study_dir / "trial_0000" / "command.txt").read_text().splitlines()
    assert len(commands) == 2 and "--resume" in commands[1]
    summary = json.loads((study_dir / "trial_0000" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["total_timesteps"] == 512


@pytest.mark.slow  # over 20 s: run with -m slow
def test_sigkill_of_the_tune_command_fails_its_trial_and_a_rerun_retries_it(tmp_path: Path) -> None:
    write_tiny(tmp_path, total_timesteps=512, eval_freq=128, checkpoint_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    parent = start_cli(*ARGS, cwd=tmp_path)
    wait_for(lambda: (study_dir / "trial_0000" / "evaluations.json").is_file(), parent)
    trainings = trainings_of(study_dir)
    parent.kill()  # a lost machine: no cleanup by the command at all
    parent.communicate()
    try:  # the kernel tells the training its parent died: it checkpoints and stops
        assert wait_until_gone(trainings, timeout=60), "the training outlived the killed command"
    finally:
        kill_all(trainings_of(study_dir))
    (trial,) = load(study_dir).get_trials()
    assert trial.state == State.RUNNING  # until its heartbeat is stale

    done = run_cli(*ARGS, cwd=tmp_path)  # waits for the heartbeat to go stale, then retries the trial
    assert done.returncode == 0, done.stderr
    assert "stopped sending heartbeats" in done.stderr
    trials = load(study_dir).get_trials()
    assert trials[0].state == State.FAIL
    (retry,) = [trial for trial in trials if trial.system_attrs.get("failed_trial") == 0]
    assert retry.state == State.COMPLETE and retry.params == trials[0].params
    assert len(finished(load(study_dir))) == 1


@pytest.mark.slow  # over 20 s: run with -m slow
def test_ctrl_c_interrupts_the_trial_and_a_rerun_runs_its_parameters_again(tmp_path: Path) -> None:
    write_tiny(tmp_path, total_timesteps=512, eval_freq=128, checkpoint_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    parent = start_cli(*ARGS, cwd=tmp_path)
    wait_for(lambda: (study_dir / "trial_0000" / "evaluations.json").is_file(), parent)
    os.killpg(parent.pid, signal.SIGINT)  # Ctrl-C in the terminal: the tune command's process group
    out, err = parent.communicate(timeout=120)
    assert parent.returncode == 130, err
    assert "interrupted; the same command continues the study" in err
    (trial,) = load(study_dir).get_trials(states=(State.FAIL,))
    assert trial.user_attrs["status"] == "interrupted" and "a rerun can help" in trial.user_attrs["rerun"]
    summary = json.loads((study_dir / "trial_0000" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert not trainings_of(study_dir)

    done = run_cli(*ARGS, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (retry,) = finished(load(study_dir))
    assert retry.params == trial.params and retry.system_attrs["failed_trial"] == 0


def _moment(study_dir: Path, when: str) -> Callable[[], bool]:
    """A condition that holds ``when`` seconds after the start, or once a training starts or trains."""
    if when == "a training starting":  # its process is importing: the signal may strike any line
        return lambda: any((study_dir / "logs").glob("*.log"))
    if when == "trainings training":
        return lambda: any(study_dir.glob("trial_*/evaluations.json"))
    deadline = time.monotonic() + float(when.removesuffix(" s"))
    return lambda: time.monotonic() >= deadline


@pytest.mark.parametrize("when", ["0.5 s", "1.5 s", "3 s", "a training starting", "trainings training"])
def test_sigterm_at_any_moment_stops_the_study(tmp_path: Path, when: str) -> None:
    write_tiny(tmp_path, total_timesteps=4096, eval_freq=128, checkpoint_freq=128)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    args = ("tune", "tiny.yaml", "--space", "space.yaml", "--trials", "2", "--jobs", "2")
    parent = start_cli(*args, cwd=tmp_path)
    wait_for(_moment(study_dir, when), parent)
    parent.send_signal(signal.SIGTERM)  # `kill`, `docker stop`, a cluster's time limit
    sent = time.monotonic()
    out, err = parent.communicate(timeout=120)
    # 130, or death by the signal: -15 before Python installed a handler; -2 after a KeyboardInterrupt
    # that struck C code running Python (PyRun_*) during an import: CPython then exits by SIGINT itself.
    assert parent.returncode in (130, -signal.SIGTERM, -signal.SIGINT), err
    assert time.monotonic() - sent < 60, "the command did not stop promptly"
    assert "Traceback" not in err, err
    assert not trainings_of(study_dir), "a training outlived the command"
    if (study_dir / "study.db").is_file():
        states = [trial.state for trial in load(study_dir).get_trials()]
        assert State.COMPLETE not in states and State.RUNNING not in states, err
    for summary in study_dir.glob("trial_*/summary.json"):
        assert json.loads(summary.read_text())["status"] == "interrupted", err


def test_a_trial_that_fails_on_its_own_says_why_and_that_a_rerun_would_not_help(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "env:\n  id: RecurrentRLTest/Broken-v0\n  import: tests.helpers.broken_env\n  n_envs: 2\n"
        "algo: {n_steps: 16, batch_size: 16, n_epochs: 2}\npolicy: {lstm_hidden_size: 8}\n"
        "train: {total_timesteps: 64, eval_freq: 32, n_eval_episodes: 2, checkpoint_freq: 0}\n"
    )
    (tmp_path / "space.yaml").write_text("algo.learning_rate: {log_uniform: [1.0e-4, 1.0e-3]}\n")
    done = run_cli("tune", "broken.yaml", "--space", "space.yaml", "--trials", "1", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "3 trials in a row failed on their own" in done.stderr
    assert "its worker stopped" not in done.stderr and "Traceback" not in done.stderr
    trials = load(tmp_path / "runs" / "studies" / "broken").get_trials()
    assert [trial.state for trial in trials] == [State.FAIL] * 3  # one after another: then it stops
    for trial in trials:
        assert "the broken env failed on purpose" in trial.user_attrs["message"]
        assert "a rerun would fail the same way" in trial.user_attrs["rerun"]
