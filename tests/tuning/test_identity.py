"""A study's identity: machine-local settings are not part of it; a changed search is refused naming each
key that differs with both values; studies recorded before identities are read."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.identity import check_same_study, study_identity
from recurrent_rl.tuning.space import default_space
from tests.helpers.tuning import write_tiny

LOCAL = [
    "logging.runs_dir=/somewhere/else",
    "logging.experiment=other",
    "env.search_path=[/checkout/on/machine/b]",
    "train.device=auto",
    "train.torch_threads=4",
    "train.progress_bar=true",
]


def _identity(config: Path, *sets: str, seeds: int = 1) -> dict[str, object]:
    return study_identity(load_config(config, list(sets)), default_space(), "final", "auto", seeds)


def test_machine_local_settings_are_not_part_of_the_identity(tmp_path: Path) -> None:
    config = write_tiny(tmp_path)
    copy = tmp_path / "checkout_b" / "tiny.yaml"  # another checkout path: another env.search_path
    copy.parent.mkdir()
    copy.write_text(config.read_text())
    assert _identity(config) == _identity(copy, *LOCAL)
    assert not any(key.startswith(("config.logging.", "config.env.search_path")) for key in _identity(config))


def test_a_changed_search_is_refused_with_each_key_and_both_values(tmp_path: Path) -> None:
    config = write_tiny(tmp_path)
    study = optuna.create_study(study_name="s")
    check_same_study(study, _identity(config))
    check_same_study(study, _identity(config, "train.device=auto"))  # the same search
    with pytest.raises(UserError) as caught:
        check_same_study(study, _identity(config, "algo.gamma=0.9", "env.n_envs=4", seeds=3))
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("--study s: this command searches something else than the study")
    assert lines[1:] == [
        "  config.algo.gamma: 0.99 in the study, 0.9 here",
        "  config.env.n_envs: 2 in the study, 4 here",
        "  seeds: 1 in the study, 3 here",
    ]


def test_a_study_recorded_before_identities_is_compared_the_same_way(tmp_path: Path) -> None:
    config = write_tiny(tmp_path)
    loaded = load_config(config, ["logging.runs_dir=/old/machine"])
    study = optuna.create_study(study_name="old")
    study.set_user_attr("config", loaded.resolved_yaml())  # as studies recorded it until now
    study.set_user_attr("space", default_space().as_data())
    study.set_user_attr("objective", "final")
    study.set_user_attr("metric", "auto")
    check_same_study(study, _identity(config))  # only a machine-local setting differs
    with pytest.raises(UserError, match="config.algo.n_epochs: 2 in the study, 3 here"):
        check_same_study(study, _identity(config, "algo.n_epochs=3"))
