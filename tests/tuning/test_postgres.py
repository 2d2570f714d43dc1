"""Two tune commands on one study through a real PostgreSQL server (as two machines would share one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import postgres
from tests.helpers.cli import start_cli
from tests.helpers.tuning import finished, load, write_tiny

REASON = postgres.why_not()


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_two_commands_share_one_study_on_postgresql(tmp_path: Path) -> None:
    write_tiny(tmp_path)
    with postgres.postgres_server() as url:
        args = ("tune", "tiny.yaml", "--space", "space.yaml", "--trials", "4", "--jobs", "1")
        commands = [start_cli(*args, "--storage", url, "--study", "shared", cwd=tmp_path) for _ in range(2)]
        outputs = [command.communicate(timeout=240) for command in commands]
        for command, (_, err) in zip(commands, outputs, strict=True):
            assert command.returncode == 0, err
        study = load(tmp_path / "runs" / "studies" / "shared", name="shared", url=url)
        trials = study.get_trials()
        assert sorted(trial.number for trial in finished(study)) == [0, 1, 2, 3]
        assert len(trials) == 4
        assert len({trial.user_attrs["worker"] for trial in trials}) == 2  # both commands ran trials
        assert "postgresql://postgres@127.0.0.1" in (tmp_path / "runs/studies/shared/best.yaml").read_text()
    assert not (tmp_path / "runs/studies/shared/study.db").exists()
