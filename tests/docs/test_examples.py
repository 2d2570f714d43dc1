"""The config examples of docs/configuration.md are what they say: a complete config that loads, builds its
env and is configs/tmaze.yaml with two wrappers, and configs/tmaze_ppo.yaml quoted as it is."""

from __future__ import annotations

from pathlib import Path

import yaml

from recurrent_rl.config.loader import load_config
from recurrent_rl.config.schema import WrapperSpec
from recurrent_rl.vecenv.build import check_env_config
from tests.helpers.docs import ROOT, Block, parse

CONFIGURATION = ROOT / "docs" / "configuration.md"


def _yaml_blocks() -> list[Block]:
    blocks, _ = parse(CONFIGURATION.read_text(encoding="utf-8"))
    return [block for block in blocks if block.language == "yaml"]


def test_the_complete_config_loads_builds_and_is_tmaze_yaml_with_two_wrappers(tmp_path: Path) -> None:
    complete = _yaml_blocks()[0]
    path = tmp_path / "tmaze.yaml"  # the same file name, hence the same default experiment name
    path.write_text("\n".join(complete.lines), encoding="utf-8")
    example = load_config(path).config
    check_env_config(example.env)  # the env and its wrappers are built
    assert example.env.wrappers == [
        WrapperSpec(name="mask_observation", kwargs={"indices": [1, 3]}),
        WrapperSpec(name="flicker", kwargs={"p": 0.2}),
    ]
    without_wrappers = example.model_copy(update={"env": example.env.model_copy(update={"wrappers": []})})
    assert without_wrappers == load_config(ROOT / "configs" / "tmaze.yaml").config


def test_the_base_example_is_tmaze_ppo_yaml() -> None:
    quoted = next(block for block in _yaml_blocks() if block.lines[0].startswith("base:"))
    shipped = (ROOT / "configs" / "tmaze_ppo.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load("\n".join(quoted.lines)) == yaml.safe_load(shipped)
