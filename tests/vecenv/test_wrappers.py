"""``env.wrappers`` built from a config: ours and any Gymnasium wrapper by import path, in order; vector envs
with third-party wrappers; observation spaces SB3 cannot take; where modules are found.

The CLI's handling of bad wrappers (one line, exit 2, nothing written) is in tests/commands/test_wrappers.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import get_args

import gymnasium as gym
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

import envs.wrappers
from recurrent_rl.config.loader import load_config
from recurrent_rl.config.schema import AlgoConfig, WrapperName
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.batched import BatchedVecEnv
from recurrent_rl.vecenv.build import build_vec_env, check_env_config, make_env

SCALE_WRAPPER = '''\
import gymnasium as gym
import numpy as np


def scaled(env, factor):
    """A function returning an env: observations times ``factor``."""
    space = env.observation_space
    box = gym.spaces.Box(space.low * factor, space.high * factor, dtype=space.dtype)
    return gym.wrappers.TransformObservation(env, lambda obs: (obs * factor).astype(space.dtype), box)
'''


def write_config(folder: Path, env_section: str, name: str = "cfg.yaml") -> Path:
    path = folder / name
    path.write_text("env:\n" + env_section)
    return path


def module_name() -> str:
    """A fresh module name: modules imported by one test stay imported for the others."""
    return f"user_wrappers_{uuid.uuid4().hex[:8]}"


def chain(env: gym.Env) -> list[str]:
    """Class names from the outermost wrapper in."""
    names = []
    while isinstance(env, gym.Wrapper):
        names.append(type(env).__name__)
        env = env.env
    return [*names, type(env).__name__]


def test_ours_and_import_paths_mix_in_order(tmp_path: Path) -> None:
    module = module_name()
    (tmp_path / f"{module}.py").write_text(SCALE_WRAPPER)
    path = write_config(
        tmp_path,
        f"""\
  id: CartPole-v1
  wrappers:
    - mask_observation: {{indices: [1, 3]}}
    - {module}:scaled: {{factor: 2.0}}
    - gymnasium.wrappers:TimeAwareObservation: {{flatten: true}}
    - [previous_action_reward, {{reward_bound: 1.0}}]
""",
    )
    cfg = load_config(path).config
    assert [w.where for w in cfg.env.wrappers] == [f"{path}:{line}:7" for line in (4, 5, 6, 7)]
    env = make_env(cfg.env)
    names = chain(env)
    assert names[:5] == [
        "Monitor",
        "PreviousActionReward",
        "TimeAwareObservation",
        "TransformObservation",
        "MaskObservation",
    ]
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4 + 1 + 2 + 1,) and obs[1] == obs[3] == 0.0  # masked, scaled, time, action, reward
    raw, _ = gym.make("CartPole-v1").reset(seed=0)
    assert obs[0] == pytest.approx(2 * raw[0])
    env.close()


def test_auto_falls_back_to_dummy_and_batched_names_the_wrapper(tmp_path: Path) -> None:
    section = "  id: RecurrentRL/TMaze-v0\n  wrappers: [gymnasium.wrappers:ClipReward: {min_reward: 0}]\n"
    cfg = load_config(write_config(tmp_path, section)).config
    venv = build_vec_env(cfg.env, AlgoConfig(), n_envs=2, seed=0, training=True)
    assert isinstance(venv, DummyVecEnv) and not isinstance(venv, BatchedVecEnv)
    venv.close()
    batched = load_config(write_config(tmp_path, section + "  vec_env: batched\n")).config
    with pytest.raises(
        UserError, match="env.vec_env: batched is not available here: wrapper ClipReward has no"
    ):
        check_env_config(batched.env)  # before any run folder: the env check of train and check-env


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "  id: popgym-AutoencodeEasy-v0\n  import: popgym\n",
            "env: popgym-AutoencodeEasy-v0 observes a Tuple, which Stable-Baselines3 does not take: add "
            "`- gymnasium.wrappers:FlattenObservation` in env.wrappers",
        ),
        (
            "  id: MiniGrid-MemoryS7-v0\n  import: minigrid\n",
            "whose key 'mission' is a MissionSpace, which Stable-Baselines3 does not take: keep the others "
            "with `- gymnasium.wrappers:FilterObservation: {filter_keys: ['direction', 'image']}`",
        ),
    ],
)
def test_observation_spaces_sb3_cannot_take_name_the_cure(tmp_path: Path, section: str, message: str) -> None:
    cfg = load_config(write_config(tmp_path, section)).config
    with pytest.raises(UserError) as raised:
        check_env_config(cfg.env)
    assert message in str(raised.value)


def test_the_cures_work(tmp_path: Path) -> None:
    flatten = "  wrappers: [gymnasium.wrappers:FlattenObservation]\n"
    autoencode = "  id: popgym-AutoencodeEasy-v0\n  import: popgym\n" + flatten
    space, _ = check_env_config(load_config(write_config(tmp_path, autoencode)).config.env)
    assert isinstance(space, gym.spaces.Box) and space.shape == (
        2 + 4,
    )  # one-hot of Discrete(2), Discrete(4)
    filtered = (
        "  id: MiniGrid-MemoryS7-v0\n  import: minigrid\n"
        "  wrappers: [gymnasium.wrappers:FilterObservation: {filter_keys: [image, direction]}]\n"
    )
    space, _ = check_env_config(load_config(write_config(tmp_path, filtered)).config.env)
    assert isinstance(space, gym.spaces.Dict) and set(space.spaces) == {"image", "direction"}


def test_a_base_configs_folder_is_searched_for_modules(tmp_path: Path) -> None:
    """The wrapper's file sits next to the base config, in another folder than the config that names it."""
    module = module_name()
    shared, mine = tmp_path / "shared", tmp_path / "mine"
    shared.mkdir()
    mine.mkdir()
    (shared / f"{module}.py").write_text(SCALE_WRAPPER)
    write_config(shared, f"  id: CartPole-v1\n  wrappers: [{module}:scaled: {{factor: 3.0}}]\n", "base.yaml")
    (mine / "child.yaml").write_text("base: ../shared/base.yaml\nenv:\n  n_envs: 2\n")
    cfg = load_config(mine / "child.yaml").config
    assert cfg.env.search_path is not None and str(shared.resolve()) in cfg.env.search_path
    space, _ = check_env_config(cfg.env)
    assert space.high[0] == pytest.approx(3 * 4.8)


def test_a_set_override_is_located_at_the_option(tmp_path: Path) -> None:
    path = write_config(tmp_path, "  id: CartPole-v1\n  wrappers: [flicker: {p: 0.1}]\n")
    cfg = load_config(path, ["env.wrappers=[observation_noise: {std: -1}]"]).config
    with pytest.raises(UserError, match=r"^--set env.wrappers: env.wrappers.0: observation_noise: std=-1"):
        check_env_config(cfg.env)


def test_wrapper_names_are_envs_wrappers() -> None:
    assert set(get_args(WrapperName)) == set(envs.wrappers.WRAPPERS)
