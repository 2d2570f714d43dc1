"""Studies end to end: parallel trainings, the study folder's outputs, best.yaml, pruning, objectives."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import optuna
import pytest
import yaml

from recurrent_rl.config.loader import load_config
from recurrent_rl.experiments.executors import LocalExecutor
from recurrent_rl.tuning.identity import study_identity
from recurrent_rl.tuning.objective import objective_value, step_mean
from recurrent_rl.tuning.runner import run_study
from recurrent_rl.tuning.space import SearchSpace, default_space, load_space
from recurrent_rl.tuning.study import TuneSettings, default_storage
from tests.helpers.cli import run_cli
from tests.helpers.tuning import finished, load, write_tiny


@pytest.mark.slow  # over 20 s: run with -m slow
def test_two_trainings_at_once_finish_the_study_and_write_its_folder(tmp_path: Path) -> None:
    write_tiny(tmp_path)
    args = ("tune", "tiny.yaml", "--space", "space.yaml", "--trials", "2", "--jobs", "2")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    assert tmp_path / done.stdout.strip().splitlines()[-1] == study_dir / "best.yaml"
    for name in ("study.db", "study.json", "trials.csv", "best.yaml", "history.png", "importance.png"):
        assert (study_dir / name).is_file(), name

    study = load(study_dir)
    numbers = [trial.number for trial in finished(study)]
    assert sorted(numbers) == [0, 1] and len(study.get_trials()) == 2
    trials = sorted(study.get_trials(), key=lambda trial: trial.datetime_start)
    assert trials[1].datetime_start < trials[0].datetime_complete  # two trials ran side by side
    with (study_dir / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(row["number"]) for row in rows) == [0, 1]
    for trial in study.get_trials():
        (run_dir,) = map(Path, trial.user_attrs["run_dirs"])
        assert run_dir == study_dir.absolute() / f"trial_{trial.number:04d}"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "completed"
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert config["algo"]["batch_size"] <= config["algo"]["n_steps"] * 2  # clamped where needed
        if trial.params["algo.batch_size"] > config["algo"]["n_steps"] * 2:
            assert "algo.batch_size 64 ->" in trial.user_attrs["constrained"]

    best = (study_dir / "best.yaml").read_text()
    assert f"trial {study.best_trial.number}" in best.splitlines()[0]
    assert "recurrent-rl tune tiny.yaml --space space.yaml --trials 2 --jobs 2" in best
    trained = run_cli("train", study_dir / "best.yaml", "--runs-dir", "again", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    run_dir = Path(trained.stdout.strip().splitlines()[-1])
    assert run_dir.parent.name == "best"
    again = yaml.safe_load((tmp_path / run_dir / "config.yaml").read_text())
    for key, value in study.best_trial.params.items():
        section, name = key.split(".")
        if name in again[section] and key != "algo.batch_size":
            assert again[section][name] == pytest.approx(value), key

    rerun = run_cli(*args, cwd=tmp_path)  # the study is complete: nothing to do
    assert rerun.returncode == 0, rerun.stderr
    assert "2 of 2 trials finished" in rerun.stderr
    assert len(load(study_dir).get_trials()) == 2

    changed = run_cli("tune", "tiny.yaml", "--trials", "3", cwd=tmp_path)  # the default space
    assert changed.returncode == 2, changed.stderr
    assert "space.algo.gamma: not set in the study, {choice: [0.9, 0.95, 0.98, 0.99, 0.995]} here" in (
        changed.stderr
    )


def _study(tmp_path: Path, name: str, space: SearchSpace, pruner: optuna.pruners.BasePruner | None) -> int:
    """One trial of a tiny study run in this process, as ``tune`` would run it."""
    config = tmp_path / "tiny.yaml"
    loaded = load_config(config)
    settings = TuneSettings(
        config=config,
        sets=(),
        space=None,
        trials=1,
        storage=default_storage(tmp_path / "runs" / "studies" / name),
        study=name,
        study_dir=tmp_path / "runs" / "studies" / name,
        command="test",
    )
    identity = study_identity(loaded, space, "final", "auto", 1)
    return run_study(settings, lambda: LocalExecutor(1), identity, loaded, space, pruner=pruner)


def test_a_pruned_trial_stops_training_and_is_recorded_as_pruned(tmp_path: Path) -> None:
    # A budget the training cannot finish before the stop request reaches it (it stops a few evaluations on).
    config = write_tiny(tmp_path, total_timesteps=100_000)
    space = load_space(tmp_path / "space.yaml", load_config(config).data)
    always = optuna.pruners.ThresholdPruner(lower=1e9)  # every evaluation is below: prune at the first
    assert _study(tmp_path, "pruned", space, always) == 0
    study_dir = tmp_path / "runs" / "studies" / "pruned"
    (trial,) = load(study_dir).get_trials()
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.intermediate_values[1] == 0.0
    assert trial.user_attrs["status"] == "stopped_early"
    assert trial.user_attrs["message"].startswith("pruned by the tuner at evaluation 1 (64 steps)")
    summary = json.loads((study_dir / "trial_0000" / "summary.json").read_text())
    assert summary["status"] == "stopped_early" and summary["message"] == trial.user_attrs["message"]
    assert summary["total_timesteps"] < 100_000  # stopped at an evaluation after the request
    assert not (study_dir / "trial_0000" / "stop_request.txt").exists()


def test_a_config_the_loader_rejects_is_pruned_with_its_reason(tmp_path: Path) -> None:
    config = write_tiny(tmp_path, total_timesteps=512)
    bad = tmp_path / "rejected.yaml"
    bad.write_text("env.n_envs: {choice: [1]}\nalgo.n_steps: {choice: [1]}\n")  # a rollout of 1 step
    space = load_space(bad, load_config(config).data)
    assert _study(tmp_path, "rejected", space, None) == 0
    study_dir = tmp_path / "runs" / "studies" / "rejected"
    (trial,) = load(study_dir).get_trials()
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert "n_steps * env.n_envs must be > 1" in trial.user_attrs["rejected"]
    assert not (study_dir / "trial_0000").exists()


def test_default_space_checks_against_the_shipped_configs() -> None:
    configs = Path(__file__).resolve().parents[2] / "configs"
    from recurrent_rl.tuning.space import check_space

    for name in ("cartpole_novel.yaml", "count_recall.yaml", "pendulum_novel.yaml"):
        check_space(default_space(), load_config(configs / name).data, {})


def test_objectives() -> None:
    curve = [(100, 0.0), (200, 0.5), (300, 1.0), (400, 1.0)]
    assert objective_value(curve, "final", 400) == pytest.approx((0.5 + 1.0 + 1.0) / 3)
    assert objective_value(curve, "auc", 400) == pytest.approx((0 + 50 + 100 + 100) / 400)
    early = [(100, 0.5), (200, 1.0)]  # stopped at its target: the last value holds to the budget
    assert objective_value(early, "auc", 400) == pytest.approx((50 + 100 + 200) / 400)


def test_step_means_hold_the_last_value_of_a_seed_that_stopped_early() -> None:
    curves = [[(64, 0.5), (128, 1.0)], [(64, 0.0)]]
    assert step_mean(curves, [False, False], 1) == pytest.approx(0.25)
    assert step_mean(curves, [False, False], 2) is None  # the second seed has not got there
    assert step_mean(curves, [False, True], 2) == pytest.approx(0.5)  # it stopped at its target: 0.0 holds


def test_a_trial_whose_run_folder_exists_fails_with_that_reason(tmp_path: Path) -> None:
    from recurrent_rl.tuning.asking import prepare

    config = write_tiny(tmp_path)
    study_dir = tmp_path / "runs" / "studies" / "tiny"
    (study_dir / "trial_0000").mkdir(parents=True)  # left there by hand, or by another study
    settings = TuneSettings(config, (), None, 1, "sqlite://", "tiny", study_dir)
    loaded = load_config(config)
    prepared = prepare(
        optuna.create_study().ask(), settings, load_space(tmp_path / "space.yaml", loaded.data), loaded
    )
    assert not isinstance(prepared, str)
    assert prepared.stopping and prepared.failed is not None
    assert f"its run folder {study_dir / 'trial_0000'} exists already" in prepared.failed
