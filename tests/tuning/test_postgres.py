"""Two tune commands on one study through a real PostgreSQL server, as two machines would share one: other
runs folders, other checkout paths (a copied config folder), one study; a changed search is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import postgres
from tests.helpers.cli import assert_one_error, run_cli, start_cli
from tests.helpers.tuning import TUNE, finished, load, write_tiny

REASON = postgres.why_not()


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_two_machines_share_one_study_on_postgresql(tmp_path: Path) -> None:
    machine_a, machine_b = tmp_path / "checkout_a", tmp_path / "checkout_b"
    machine_a.mkdir()
    write_tiny(machine_a)
    shutil.copytree(machine_a, machine_b)  # the same files at another path: another env.search_path
    with postgres.postgres_server() as url:
        args = (*TUNE, "--trials", "3", "--storage", url, "--study", "shared")
        commands = [
            start_cli(*args, "--runs-dir", str(folder / "runs"), cwd=folder)
            for folder in (machine_a, machine_b)
        ]
        outputs = [command.communicate(timeout=300) for command in commands]
        for command, (_, err) in zip(commands, outputs, strict=True):
            assert command.returncode == 0, err
        study = load(machine_a / "runs/studies/shared", name="shared", url=url)
        trials = study.get_trials()
        assert sorted(trial.number for trial in finished(study)) == [0, 1, 2] and len(trials) == 3
        by = {
            folder: [t for t in trials if str(folder) in t.user_attrs["run_dirs"][0]]
            for folder in (machine_a, machine_b)
        }
        assert by[machine_a] and by[machine_b]  # both commands ran trials of the one study
        for folder, ran in by.items():
            study_dir = folder / "runs/studies/shared"
            assert sorted(p.name for p in study_dir.glob("trial_*")) == [f"trial_{t.number:04d}" for t in ran]
            assert "postgresql://postgres@127.0.0.1" in (study_dir / "best.yaml").read_text()
            assert not (study_dir / "study.db").exists()

        changed = run_cli(*args, "--set", "algo.gamma=0.9", cwd=machine_b)
        assert_one_error(
            changed.returncode, changed.stderr, "--study shared: this command searches something else"
        )
        assert "\n  config.algo.gamma: 0.99 in the study, 0.9 here" in changed.stderr
