"""``policy.features_extractor`` / ``policy.features_dim``: the table of CNN extractors and its checks."""

from __future__ import annotations

import typing
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import NatureCNN
from stable_baselines3.common.vec_env import DummyVecEnv

from recurrent_rl.algo.build import build_model, build_policy, check_spaces, policy_kwargs
from recurrent_rl.algo.extractors import FEATURE_EXTRACTORS, MiniGridCNN, SmallCNN
from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.config.loader import load_config
from recurrent_rl.config.schema import FeatureExtractorName
from recurrent_rl.errors import UserError

PIXEL_MAZE = """\
env:
  id: RecurrentRL/PixelMemoryMaze-v0
  n_envs: 2
algo:
  n_steps: 16
  batch_size: 16
  n_epochs: 1
policy:
  type: CnnLstmPolicy
  lstm_hidden_size: 8
  features_extractor: small_cnn
  features_dim: 16
train:
  total_timesteps: 64
  eval_freq: 0
"""


def _load(tmp_path: Path, text: str, *overrides: str):
    (tmp_path / "pixel.yaml").write_text(text)
    return load_config(tmp_path / "pixel.yaml", list(overrides)).config


def test_config_names_match_the_table() -> None:
    assert set(typing.get_args(FeatureExtractorName)) == set(FEATURE_EXTRACTORS)


def test_small_cnn_shapes_and_scaling() -> None:
    space = spaces.Box(0, 255, (3, 40, 40), np.uint8)
    extractor = SmallCNN(space, features_dim=16)
    out = extractor(th.rand(5, 3, 40, 40))
    assert out.shape == (5, 16)
    assert sum(p.numel() for p in extractor.parameters()) < 20_000
    with pytest.raises(ValueError, match="at least 8x8"):
        SmallCNN(spaces.Box(0, 255, (3, 5, 5), np.uint8))


def test_minigrid_cnn_shapes_and_position_invariance() -> None:
    space = spaces.Box(0, 255, (3, 7, 7), np.uint8)
    extractor = MiniGridCNN(space, features_dim=16)
    assert extractor(th.rand(5, 3, 7, 7)).shape == (5, 16)
    assert sum(p.numel() for p in extractor.cnn.parameters()) < 11_000
    # The same 2x2 pattern one cell further gives the same first-layer response, shifted by one cell.
    grid = th.zeros(1, 3, 7, 7)
    grid[0, 0, 1, 1] = 5.0
    shifted = th.roll(grid, shifts=1, dims=3)
    conv = extractor.cnn[0]
    assert th.allclose(conv(grid)[..., :, :-1], conv(shifted)[..., :, 1:])
    assert MiniGridCNN(spaces.Box(0, 255, (20, 9, 9), np.uint8)).features_dim == 64
    with pytest.raises(ValueError, match="at least 7x7"):
        MiniGridCNN(spaces.Box(0, 255, (3, 6, 6), np.uint8))
    with pytest.raises(ValueError, match="needs an image observation space"):
        MiniGridCNN(spaces.Box(-1, 1, (3, 7, 7), np.float32))


@pytest.mark.parametrize("normalize", [True, False])
def test_normalize_images_false_feeds_raw_values(tmp_path: Path, normalize: bool) -> None:
    """MiniGrid's grid holds indices 0-10: with ``normalize_images: false`` the CNN sees them as they are."""
    overrides = (
        "policy.features_extractor=minigrid_cnn",
        f"policy.normalize_images={str(normalize).lower()}",
    )
    cfg = _load(tmp_path, PIXEL_MAZE, *overrides)
    assert policy_kwargs(cfg)["normalize_images"] is normalize
    policy = build_policy(cfg, spaces.Box(0, 255, (7, 7, 3), np.uint8), spaces.Discrete(3))
    assert isinstance(policy.features_extractor, MiniGridCNN)
    grid = th.randint(0, 11, (4, 3, 7, 7), dtype=th.uint8)
    seen = grid.float() / 255 if normalize else grid.float()
    features = policy.extract_features(grid, policy.pi_features_extractor)
    assert th.allclose(features, policy.features_extractor(seen))


@pytest.mark.parametrize("implementation", ["fast", "sb3"])
def test_small_cnn_builds_and_trains(tmp_path: Path, implementation: str) -> None:
    cfg = _load(tmp_path, PIXEL_MAZE, f"algo.implementation={implementation}")
    env = DummyVecEnv([lambda: gym.make(cfg.env.id) for _ in range(cfg.env.n_envs)])
    model = build_model(cfg, env)
    assert isinstance(model.policy.features_extractor, SmallCNN)
    assert model.policy.features_extractor.features_dim == 16
    assert isinstance(model, FastRecurrentPPO) == (implementation == "fast")
    model.learn(64)
    # Evaluation rebuilds the same architecture from the config (saved weights must fit it).
    policy = build_policy(cfg, env.observation_space, env.action_space)
    policy.load_state_dict(model.policy.state_dict(), strict=True)
    env.close()


def test_default_is_sb3_nature_cnn(tmp_path: Path) -> None:
    text = PIXEL_MAZE.replace("  features_extractor: small_cnn\n  features_dim: 16\n", "")
    cfg = _load(tmp_path, text)
    assert cfg.policy.features_extractor == "nature_cnn"
    kwargs = policy_kwargs(cfg)
    assert kwargs["features_extractor_class"] is NatureCNN
    assert "features_extractor_kwargs" not in kwargs
    assert "features_extractor_class" not in policy_kwargs(
        _load(tmp_path, "env: {id: RecurrentRL/TMaze-v0}\n")
    )


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        (
            "policy.features_extractor=resnet",
            "policy.features_extractor: got 'resnet', expected 'nature_cnn', 'small_cnn' or 'minigrid_cnn'",
        ),
        ("policy.features_dim=0", "policy.features_dim: got 0"),
        (
            "policy.type=MlpLstmPolicy",
            "policy.features_extractor: got 'small_cnn', expected nature_cnn (the default) unless",
        ),
        (
            "policy.features_extractor=nature_cnn policy.features_dim=null policy.type=MlpLstmPolicy "
            "policy.normalize_images=false",
            "policy.normalize_images: got False, expected true (the default) unless policy.type is a Cnn",
        ),
    ],
)
def test_bad_values_are_config_errors(tmp_path: Path, override: str, fragment: str) -> None:
    with pytest.raises(UserError) as error:
        _load(tmp_path, PIXEL_MAZE, *override.split())
    assert fragment in str(error.value)


def test_image_too_small_for_nature_cnn(tmp_path: Path) -> None:
    cfg = _load(tmp_path, PIXEL_MAZE, "policy.features_extractor=nature_cnn", "policy.features_dim=null")
    with pytest.raises(UserError, match="nature_cnn needs images of at least 36x36"):
        check_spaces(cfg, spaces.Box(0, 255, (20, 20, 3), np.uint8), spaces.Discrete(4))
    check_spaces(cfg, spaces.Box(0, 255, (40, 40, 3), np.uint8), spaces.Discrete(4))
