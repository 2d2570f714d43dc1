"""``algo.sequence_length`` and ``algo.refresh_states`` in configs: defaults, what is accepted, what is
ignored (memoryless PPO) and the round trip through a run's resolved config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recurrent_rl.algo.build import algorithm_kwargs
from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from tests.helpers.cli import tiny_config


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(tiny_config())  # n_steps 16, implementation fast
    return tmp_path / "tiny.yaml"


def test_defaults_keep_sb3_contrib_training(tiny: Path) -> None:
    config = load_config(tiny).config
    assert (config.algo.sequence_length, config.algo.refresh_states) == (None, False)
    kwargs = algorithm_kwargs(config)
    assert (kwargs["sequence_length"], kwargs["refresh_states"]) == (None, False)


def test_options_reach_fast_recurrent_ppo_and_survive_the_resolved_config(tiny: Path) -> None:
    loaded = load_config(tiny, ["algo.sequence_length=16", "algo.refresh_states=true"])
    kwargs = algorithm_kwargs(loaded.config)
    assert (kwargs["sequence_length"], kwargs["refresh_states"]) == (16, True)
    resolved = tiny.parent / "resolved.yaml"
    resolved.write_text(loaded.resolved_yaml())
    assert yaml.safe_load(resolved.read_text())["algo"]["sequence_length"] == 16
    assert load_config(resolved).config == loaded.config


def test_memoryless_ppo_ignores_them(tiny: Path) -> None:
    """Like the other LSTM keys, so a memoryless baseline can inherit its recurrent config."""
    overrides = ["algo.name=ppo", "policy.type=MlpPolicy", "algo.sequence_length=64"]
    overrides.append("algo.refresh_states=true")
    kwargs = algorithm_kwargs(load_config(tiny, overrides).config)
    assert "sequence_length" not in kwargs and "refresh_states" not in kwargs


def test_sb3_implementation_takes_only_its_own_sequences(tiny: Path) -> None:
    sb3 = ["algo.implementation=sb3"]
    config = load_config(tiny, [*sb3, "algo.sequence_length=16"]).config  # n_steps: what sb3-contrib does
    assert "sequence_length" not in algorithm_kwargs(config)
    with pytest.raises(UserError, match="algo.sequence_length: got 8, expected null or algo.n_steps = 16"):
        load_config(tiny, [*sb3, "algo.sequence_length=8"])
    with pytest.raises(UserError, match="algo.refresh_states: got True, expected false with algo.implem"):
        load_config(tiny, [*sb3, "algo.refresh_states=true"])
