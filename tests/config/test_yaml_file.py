"""The bounded safe YAML reader and the strict value rule, on files and ``--set`` values (no subprocess).

Every case is a UserError naming the place; none builds the hostile structure first (an alias bomb would
take minutes and gigabytes if it did).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from recurrent_rl.config import yaml_file
from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from tests.helpers.cli import tiny_config
from tests.helpers.hostile import laughs

# name, YAML text, expected message fragment
HOSTILE = [
    ("alias inside itself", "train: &t {total_timesteps: 2048, x: *t}\n", "t.yaml:1:8: YAML alias inside"),
    ("list inside itself", "a: &l [1, *l]\n", "alias inside the node it refers to"),
    ("billion laughs", laughs(9), "too large once its aliases are expanded"),
    ("deep nesting", "a: " + "[" * 100 + "]" * 100 + "\n", "nested too deeply"),
    ("very deep nesting", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
    ("not UTF-8", "a: \udcff\n", "not UTF-8 text"),
    ("syntax", "a: [1\n", "t.yaml:2:1: YAML syntax error"),
]


@pytest.mark.parametrize(("text", "fragment"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_yaml_is_refused_before_anything_is_built(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    started = time.perf_counter()
    with pytest.raises(UserError) as caught:
        yaml_file.parse_yaml_file(path)
    assert fragment in str(caught.value)
    assert time.perf_counter() - started < 5, "the document was expanded before it was refused"


def test_aliases_within_the_bounds_load(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("base: &b {n_steps: 16}\nalgo: {<<: *b, n_epochs: 2}\n" + laughs(4))
    data, marks = yaml_file.parse_yaml_file(path)
    assert data["algo"] == {"n_steps": 16, "n_epochs": 2} and len(data["a3"]) == 9
    assert marks[("algo",)] == f"{path}:2:1"


@pytest.mark.parametrize("what", ["device", "fifo", "huge", "folder"])
def test_only_regular_files_of_reasonable_size_are_read(tmp_path: Path, what: str) -> None:
    if what == "device":
        path = Path("/dev/zero")
    elif what == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # opening it would block until a writer came: refused from its type
    elif what == "huge":
        path = tmp_path / "huge.yaml"
        path.write_text("# " + "x" * yaml_file.MAX_BYTES + "\n")
    else:
        path = tmp_path
    fragment = {"huge": "larger than 1,000,000 bytes", "folder": "is a directory"}.get(
        what, "not a regular file"
    )
    with pytest.raises(UserError, match=fragment):
        yaml_file.parse_yaml_file(path)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3e-4", 3e-4),
        ("1E6", 1e6),
        ("-2.5e+3", -2500.0),
        ("1.0e-3", 1e-3),
        ("64", 64),
        ("1e", "1e"),
        ("e5", "e5"),
    ],
)
def test_numbers_are_read_as_yaml_1_2_writes_them(text: str, value: object) -> None:
    parsed = yaml_file.parse_value(text, "")
    assert parsed == value and type(parsed) is type(value)


# --set item, expected message fragment: one rule (finite, of its type, no bool for a number) everywhere
STRICT = [
    ("algo.learning_rate=nan", "algo.learning_rate: got 'nan', expected a finite number > 0"),
    ("algo.learning_rate=.nan", "algo.learning_rate: got nan, expected a finite number > 0"),
    ("algo.learning_rate=.inf", "algo.learning_rate: got inf, expected a finite number > 0"),
    ("algo.learning_rate=true", "algo.learning_rate: got True, expected a finite number > 0"),
    (
        "algo.learning_rate={linear: [1.0e-3, .nan]}",
        "algo.learning_rate: got {'linear': [0.001, nan]}, expected a finite",
    ),
    (
        "algo.learning_rate={linear: [true, 0]}",
        "algo.learning_rate: got {'linear': [True, 0]}, expected a finite",
    ),
    ("algo.clip_range=.nan", "algo.clip_range: got nan, expected a finite number > 0"),
    ("algo.clip_range_vf=-.inf", "algo.clip_range_vf: got -inf, expected null, a finite number > 0"),
    ("algo.gamma=.inf", "algo.gamma: got inf, expected a finite number"),
    ("algo.gamma=true", "algo.gamma: got True, expected a valid number"),
    ("algo.ent_coef=.nan", "algo.ent_coef: got nan, expected a finite number"),
    ("algo.n_steps='16'", "algo.n_steps: got '16', expected a valid integer"),
    ("algo.n_steps=16.5", "algo.n_steps: got 16.5, expected a valid integer"),
    ("train.total_timesteps=true", "train.total_timesteps: got True, expected a valid integer"),
    ("train.seed=-1", "train.seed: got -1, expected greater than or equal to 0"),
    ("train.seed=2147483648", "train.seed: got 2147483648, expected less than or equal to 2147483647"),
    ("train.stop_at={mean_return: .inf}", "train.stop_at.mean_return: got inf, expected a finite number"),
    ("policy.net_arch=[64, true]", "policy.net_arch: got [64, True], expected a list of layer sizes"),
    ("policy.forget_bias=.nan", "policy.forget_bias: got nan, expected a finite number"),
    ("env.normalize={clip_obs: .inf}", "env.normalize.clip_obs: got inf, expected a finite number"),
    ("env.n_envs=false", "env.n_envs: got False, expected a valid integer"),
    ("algo.normalize_advantage=1", "algo.normalize_advantage: got 1, expected a valid boolean"),
]


@pytest.mark.parametrize(("item", "fragment"), STRICT, ids=[c[0] for c in STRICT])
def test_every_number_is_finite_and_of_its_type(tmp_path: Path, item: str, fragment: str) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    with pytest.raises(UserError) as caught:
        load_config(tmp_path / "c.yaml", [item])
    assert f"--set {item.split('=')[0]}: {fragment}" in str(caught.value)


def test_the_same_rule_in_a_file_names_its_line(tmp_path: Path) -> None:
    text = tiny_config().replace("  n_epochs: 2\n", "  n_epochs: 2\n  learning_rate: {linear: [.nan, 0.0]}\n")
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(UserError, match=r"c.yaml:9:3: algo.learning_rate: got \{'linear': \[nan, 0.0\]\}"):
        load_config(tmp_path / "c.yaml")


def test_valid_numbers_still_load(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    items = [
        "algo.learning_rate=3e-4",
        "algo.gamma=1",
        "algo.clip_range={linear: [0.2, 0]}",
        "train.seed=2147483647",
    ]
    cfg = load_config(tmp_path / "c.yaml", items).config
    assert cfg.algo.learning_rate == 3e-4 and cfg.algo.gamma == 1.0 and cfg.train.seed == 2**31 - 1
    assert cfg.algo.clip_range.linear == (0.2, 0.0)  # type: ignore[union-attr]
    again = tmp_path / "again.yaml"
    again.write_text(load_config(tmp_path / "c.yaml", items).resolved_yaml())
    assert load_config(again).config == cfg  # a run's config.yaml loads again as is
