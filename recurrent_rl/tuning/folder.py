"""A study folder belongs to one study: ``study.json`` names it, and no command writes into a folder that
holds another study's outputs.

Before the storage is opened, a SQLite file that is not an Optuna database is refused (:func:`check_sqlite`);
before a study is created, a folder that already holds a study's outputs is refused when the storage has no
such study (an empty, new or other database: the new trials would be written over the old ones,
:func:`check_new_study`); once the study is open, a folder whose ``study.json`` names another study of the
same name is refused (:func:`check_marker`), before the command writes anything; then the folder is marked
as the study's (:func:`claim_folder`).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import optuna

from recurrent_rl.artifacts import records
from recurrent_rl.artifacts.atomic import atomic_write_json
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.study import without_password

MARKER = "study.json"
UID = "uid"  # the study's user attribute, and the marker's key
OUTPUTS = ("trials.csv", "best.yaml", "history.png", "importance.png", MARKER)
TRIAL_PREFIX = "trial_"


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def check_sqlite(url: str) -> None:
    """A UserError when ``url`` is a SQLite file that holds something other than Optuna's tables."""
    path = sqlite_path(url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return  # no file yet, or an empty one: a new database
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise UserError(f"--storage {url}: {path} is not an Optuna study database ({error})") from None
    tables = {row[0] for row in rows}
    if tables and not {"studies", "trials"} <= tables:
        shown = ", ".join(sorted(tables)[:5])
        raise UserError(f"--storage {url}: {path} is not an Optuna study database (it has tables {shown})")


def outputs_in(study_dir: Path) -> list[str]:
    """The outputs of a study in ``study_dir`` (trial folders and the files the tuner writes)."""
    if not study_dir.is_dir():
        return []
    trials = sorted(path.name + "/" for path in study_dir.glob(TRIAL_PREFIX + "*"))
    return [*trials, *(name for name in OUTPUTS if (study_dir / name).exists())]


def check_new_study(study_dir: Path, name: str, storage: str) -> None:
    """Before a study is created: a UserError when ``study_dir`` already holds a study's outputs."""
    found = outputs_in(study_dir)
    if not found:
        return
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    raise UserError(
        f"--study {name}: {study_dir} holds the outputs of a study ({shown}), but the storage "
        f"{without_password(storage)} has no study {name} (an empty or another database); nothing was "
        "written: point --storage at that study's database, or move the folder away, or give a new "
        "--study NAME"
    )


def check_marker(study_dir: Path, study: optuna.Study, storage: str) -> None:
    """Once the study is open: a UserError when ``study_dir`` is marked as another study's."""
    marker = _read_marker(study_dir)
    if marker is not None and marker.get(UID) != study.user_attrs.get(UID):
        raise UserError(
            f"--study {study.study_name}: {study_dir} holds the outputs of another study of that name "
            f"(storage {marker.get('storage')}, since {marker.get('since')}), not of the one in "
            f"{without_password(storage)}; nothing was written: move the folder away or give a new "
            "--study NAME"
        )


def claim_folder(study_dir: Path, study: optuna.Study, storage: str) -> None:
    """Mark ``study_dir`` as the study's (after :func:`check_marker`), giving the study its uid if new."""
    uid = study.user_attrs.get(UID)
    if not isinstance(uid, str):
        study.set_user_attr(UID, uuid.uuid4().hex)
        uid = optuna.load_study(study_name=study.study_name, storage=study._storage).user_attrs[UID]
    if _read_marker(study_dir) is None:
        study_dir.mkdir(parents=True, exist_ok=True)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        data = {"study": study.study_name, UID: uid, "storage": without_password(storage), "since": started}
        atomic_write_json(study_dir / MARKER, data)


def _read_marker(study_dir: Path) -> dict[str, Any] | None:
    if not (study_dir / MARKER).is_file():
        return None
    data = records.read_json(study_dir / MARKER)
    if not isinstance(data, dict):
        raise UserError(f"{study_dir / MARKER}: expected the study folder's marker (a JSON object)")
    return data
