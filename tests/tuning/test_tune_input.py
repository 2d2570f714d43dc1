"""Bad ``tune`` input and foreign storage: one ``recurrent-rl: error:`` line, exit 2, and nothing in the
study folder changed (an empty or foreign study.db never replaces a study's outputs)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from recurrent_rl.cli import main
from tests.helpers.cli import assert_one_error, snapshot
from tests.helpers.tuning import write_tiny

ARGS = ["tune", "tiny.yaml", "--space", "space.yaml", "--trials", "1"]
STUDY = Path("runs/studies/tiny")

BAD_FLAGS = [
    (["--timeout", "nan"], "--timeout nan: expected a finite number of seconds > 0"),
    (["--timeout", "inf"], "--timeout inf: expected a finite number"),
    (["--timeout", "-1"], "--timeout -1.0: expected a finite number"),
    (["--seeds", "0"], "--seeds 0: expected an integer from 1 to 100"),
    (["--retries", "-1"], "argument --retries: got -1, expected an integer in [0, 100]"),
    (["--trials", "0"], "--trials 0: expected an integer >= 1"),
]


@pytest.mark.parametrize(("flags", "fragment"), BAD_FLAGS)
def test_bad_flags(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    fragment: str,
) -> None:
    write_tiny(tmp_path)
    monkeypatch.chdir(tmp_path)
    status = main([*ARGS, *flags])
    assert_one_error(status, capsys.readouterr().err, fragment)
    assert not (tmp_path / "runs").exists()


def _old_outputs(study_dir: Path) -> None:
    """What an earlier study left: a trial's run folder and the study's files."""
    (study_dir / "trial_0000").mkdir(parents=True)
    (study_dir / "trial_0000" / "summary.json").write_text('{"status": "completed"}')
    (study_dir / "trials.csv").write_text("number,state,value\n0,COMPLETE,0.5\n")
    (study_dir / "best.yaml").write_text("# Best trial of study tiny\n")


def _empty_db(study_dir: Path) -> None:
    _old_outputs(study_dir)
    (study_dir / "study.db").write_bytes(b"")


def _no_db(study_dir: Path) -> None:
    _old_outputs(study_dir)


def _foreign_db(study_dir: Path) -> None:
    _old_outputs(study_dir)
    connection = sqlite3.connect(study_dir / "study.db")
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()


def _garbage_db(study_dir: Path) -> None:
    _old_outputs(study_dir)
    (study_dir / "study.db").write_bytes(b"not a database at all" * 100)


def _other_study_of_that_name(study_dir: Path) -> None:
    """The storage has a study 'tiny', but the folder's marker names another one."""
    _old_outputs(study_dir)
    study = optuna.create_study(study_name="tiny", storage=f"sqlite:///{study_dir / 'study.db'}")
    study.set_user_attr("uid", "the-one-in-the-database")
    (study_dir / "study.json").write_text('{"study": "tiny", "uid": "another", "storage": "x", "since": "y"}')


STORAGES: list[tuple[Callable[[Path], None], str]] = [
    (_empty_db, "holds the outputs of a study (trial_0000/, trials.csv, best.yaml), but the storage"),
    (_no_db, "has no study tiny (an empty or another database); nothing was written"),
    (_foreign_db, "is not an Optuna study database (it has tables users)"),
    (_garbage_db, "is not an Optuna study database (file is not a database)"),
    (_other_study_of_that_name, "holds the outputs of another study of that name (storage x, since y)"),
]


@pytest.mark.parametrize(("make", "fragment"), STORAGES, ids=[make.__name__ for make, _ in STORAGES])
def test_a_folder_of_another_study_is_never_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], None],
    fragment: str,
) -> None:
    write_tiny(tmp_path)
    make(tmp_path / STUDY)
    before = snapshot(tmp_path / STUDY)
    monkeypatch.chdir(tmp_path)
    status = main(ARGS)
    assert_one_error(status, capsys.readouterr().err, fragment)
    assert snapshot(tmp_path / STUDY) == before
