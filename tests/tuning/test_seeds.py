"""``tune --seeds 2``: two run folders per trial, side by side, the trial's value their mean, the pruner told
the mean of both seeds' evaluations at each step, trials.csv listing each seed's value."""

from __future__ import annotations

import csv
from pathlib import Path

import optuna
import pytest
import yaml

from recurrent_rl.cli import main
from recurrent_rl.tuning.objective import objective_value, read_curve
from recurrent_rl.tuning.trial import SeedRun, TrialRuns, conclude
from tests.helpers.cli import run_cli
from tests.helpers.tuning import load, write_tiny


def test_two_seeds_per_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny(tmp_path, total_timesteps=256, eval_freq=64)
    args = ["tune", "tiny.yaml", "--space", "space.yaml", "--trials", "1", "--seeds", "2", "--jobs", "2"]
    done = run_cli(*args, "--runs-dir", "elsewhere", "--pruner", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study_dir = tmp_path / "elsewhere" / "studies" / "tiny"
    (trial,) = load(study_dir).get_trials()
    runs = [study_dir / f"trial_0000-seed{seed}" for seed in (0, 1)]
    assert sorted(path.name for path in study_dir.glob("trial_*")) == [run.name for run in runs]
    assert trial.user_attrs["run_dirs"] == [str(run) for run in runs]
    for seed, run in enumerate(runs):
        assert yaml.safe_load((run / "config.yaml").read_text())["train"]["seed"] == seed

    curves = [read_curve(run, "auto") for run in runs]
    values = [objective_value(curve, "final", 256) for curve in curves]
    assert trial.value == pytest.approx(sum(values) / 2)
    assert [trial.user_attrs[f"value_seed{seed}"] for seed in (0, 1)] == pytest.approx(values)
    steps = {step + 1: (a[1] + b[1]) / 2 for step, (a, b) in enumerate(zip(*curves, strict=True))}
    assert trial.intermediate_values == pytest.approx(steps)  # the pruner saw the seeds' mean
    events = done.stderr.splitlines()
    ended = next(i for i, line in enumerate(events) if "trial 0000 COMPLETE" in line)
    started = [i for i, line in enumerate(events) if "started trial_0000-seed" in line]
    assert len(started) == 2 and max(started) < ended  # both seeds ran side by side

    with (study_dir / "trials.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["user_attrs_value_seed0"]) == pytest.approx(values[0])
    assert float(row["user_attrs_value_seed1"]) == pytest.approx(values[1])
    assert "# the mean over seeds 0" in (study_dir / "best.yaml").read_text()

    monkeypatch.chdir(tmp_path)  # the same study with one seed per trial is another search
    assert main([*args[:-4], "--seeds", "1", "--runs-dir", "elsewhere"]) == 2
    assert "  seeds: 2 in the study, 1 here" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("statuses", "status", "late"),
    [
        (["stopped_early", "stopped_early"], "stopped_early", False),
        (["completed", "completed"], "completed", True),
        (["stopped_early", "completed"], "mixed: stopped_early, completed", True),
    ],
)
def test_a_pruned_trial_records_what_its_trainings_did(statuses: list[str], status: str, late: bool) -> None:
    """A prune that reached the trainings after they had ended says so, instead of claiming they stopped."""
    study = optuna.create_study()
    runs = [
        SeedRun(seed, Path(f"t-seed{seed}"), state="ended", status=run_status)
        for seed, run_status in enumerate(statuses)
    ]
    trial = TrialRuns(study.ask(), runs, [], pruned="pruned by the tuner at evaluation 1 (64 steps): 0")
    conclusion = conclude(trial, None, 512)  # type: ignore[arg-type]  # settings are not read when pruned
    assert conclusion.state == optuna.trial.TrialState.PRUNED
    assert conclusion.attrs["status"] == status
    assert conclusion.attrs["message"].startswith("pruned by the tuner at evaluation 1 (64 steps): 0")
    assert ("its trainings had already ended" in conclusion.attrs["message"]) is late
