"""CNN feature extractors selectable with ``policy.features_extractor`` (see :data:`FEATURE_EXTRACTORS`).

A config names an extractor; the class comes from the table below, never from evaluating a string.
``nature_cnn`` is Stable-Baselines3's own (the default of its ``Cnn*`` policies). ``small_cnn`` is a
two-layer CNN for small, blocky images such as the grid views of ``RecurrentRL/PixelMemoryMaze-v0``:
on a 40x40 view 2.9k convolution weights (54k with a 64-wide output) against NatureCNN's 76k (109k).
``minigrid_cnn`` is the encoder of the MiniGrid reference agents (torch-ac / rl-starter-files) for symbolic
grids such as MiniGrid's 7x7 view of (object, colour, state) indices, one grid cell per pixel.

All receive what SB3 gives a ``Cnn*`` policy's extractor: channel-first images (``VecTransposeImage``
transposes channel-last envs), scaled from uint8 to [0, 1] by ``preprocess_obs`` unless
``policy.normalize_images`` is false (raw indices, as MiniGrid's reference agents see them).
"""

from __future__ import annotations

import gymnasium as gym
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
)
from torch import nn

from recurrent_rl.config.schema import FeatureExtractorName

__all__ = [
    "FEATURE_EXTRACTORS",
    "MIN_IMAGE_SIDE",
    "IntCombinedExtractor",
    "IntFlattenExtractor",
    "MiniGridCNN",
    "SmallCNN",
    "integer_features_kwargs",
]


def _check_image(
    observation_space: gym.Space, normalized_image: bool, name: str, min_side: int
) -> spaces.Box:
    """``observation_space`` if it is a channel-first image space of at least ``min_side`` x ``min_side``
    pixels, else ValueError."""
    if not isinstance(observation_space, spaces.Box) or not is_image_space(
        observation_space, check_channels=False, normalized_image=normalized_image
    ):
        raise ValueError(f"{name} needs an image observation space, not {observation_space}")
    height, width = observation_space.shape[1:]
    if min(height, width) < min_side:
        raise ValueError(
            f"{name} needs images of at least {min_side}x{min_side} pixels, not {height}x{width}"
        )
    return observation_space


class _ConvolutionsThenLinear(BaseFeaturesExtractor):
    """Convolutions (``self.cnn``, ending in a flatten), then ``Linear(-> features_dim)`` -> ReLU.

    :param observation_space: a channel-first image space (as SB3 passes it after ``VecTransposeImage``)
    :param features_dim: number of output features
    :param normalized_image: as for SB3's ``NatureCNN``: True skips the uint8 / [0, 255] check
    """

    #: the ``policy.features_extractor`` name (its smallest image side is in :data:`MIN_IMAGE_SIDE`)
    key: FeatureExtractorName

    def __init__(
        self,
        observation_space: gym.Space,
        features_dim: int = 64,
        normalized_image: bool = False,
    ) -> None:
        name = type(self).__name__
        image = _check_image(observation_space, normalized_image, name, MIN_IMAGE_SIDE[self.key])
        super().__init__(observation_space, features_dim)
        n_channels, height, width = image.shape
        self.cnn = self.convolutions(n_channels)
        with th.no_grad():
            n_flatten = self.cnn(th.zeros((1, n_channels, height, width))).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    @staticmethod
    def convolutions(n_channels: int) -> nn.Sequential:
        """The convolutions for ``n_channels`` input channels, flattened at the end."""
        raise NotImplementedError

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations))


class SmallCNN(_ConvolutionsThenLinear):
    """Two small convolutions and a linear layer: ``(C, H, W)`` image -> ``features_dim`` features.

    ``Conv2d(C, 16, 4, stride=4)`` -> ReLU -> ``Conv2d(16, 32, 2, stride=2)`` -> ReLU -> flatten ->
    ``Linear(-> features_dim)`` -> ReLU. The strides add up to 8 pixels, so with 8-pixel cells (the
    PixelMemoryMaze default) each output position of the second layer sees exactly one grid cell; other
    cell sizes work too, only less neatly aligned. Needs images of at least 8x8 pixels.
    """

    key = "small_cnn"

    @staticmethod
    def convolutions(n_channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(n_channels, 16, kernel_size=4, stride=4),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=2, stride=2),
            nn.ReLU(),
            nn.Flatten(),
        )


class MiniGridCNN(_ConvolutionsThenLinear):
    """The MiniGrid reference agents' encoder: ``(C, H, W)`` grid -> ``features_dim`` features.

    ``Conv2d(C, 16, 2)`` -> ReLU -> ``MaxPool2d(2)`` -> ``Conv2d(16, 32, 2)`` -> ReLU -> ``Conv2d(32, 64, 2)``
    -> ReLU -> flatten -> ``Linear(-> features_dim)`` -> ReLU. Every convolution sees 2x2 cells, so the
    same weights find an object wherever it is in view; on MiniGrid's 7x7 view the convolutions end at
    1x1x64 (10.6k weights). Needs grids of at least 7x7 cells.
    """

    key = "minigrid_cnn"

    @staticmethod
    def convolutions(n_channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(n_channels, 16, kernel_size=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=2),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=2),
            nn.ReLU(),
            nn.Flatten(),
        )


class IntFlattenExtractor(FlattenExtractor):
    """SB3's ``FlattenExtractor`` with a Python ``int`` as ``features_dim``.

    For a MultiDiscrete observation space SB3 computes the flattened size as a numpy integer, which
    torch's ``nn.LSTM`` refuses as its input size (``input_size should be of type int``).
    """

    def __init__(self, observation_space: gym.Space) -> None:
        super().__init__(observation_space)
        self._features_dim = int(self._features_dim)


class IntCombinedExtractor(CombinedExtractor):
    """SB3's ``CombinedExtractor`` (Dict observations) with a Python ``int`` as ``features_dim``."""

    def __init__(
        self, observation_space: spaces.Dict, cnn_output_dim: int = 256, normalized_image: bool = False
    ) -> None:
        super().__init__(observation_space, cnn_output_dim, normalized_image)
        self._features_dim = int(self._features_dim)


def integer_features_kwargs(observation_space: gym.Space) -> dict[str, type[BaseFeaturesExtractor]]:
    """The ``policy_kwargs`` that give an LSTM policy on ``observation_space`` an ``int`` input size
    (empty where SB3's own extractor already gives one)."""
    subspaces = observation_space.spaces.values() if isinstance(observation_space, spaces.Dict) else []
    if not any(isinstance(space, spaces.MultiDiscrete) for space in (observation_space, *subspaces)):
        return {}
    dict_space = isinstance(observation_space, spaces.Dict)
    return {"features_extractor_class": IntCombinedExtractor if dict_space else IntFlattenExtractor}


#: ``policy.features_extractor`` value -> extractor class.
FEATURE_EXTRACTORS: dict[FeatureExtractorName, type[BaseFeaturesExtractor]] = {
    "nature_cnn": NatureCNN,
    "small_cnn": SmallCNN,
    "minigrid_cnn": MiniGridCNN,
}

#: Smallest image side (pixels) each extractor accepts.
MIN_IMAGE_SIDE: dict[FeatureExtractorName, int] = {"nature_cnn": 36, "small_cnn": 8, "minigrid_cnn": 7}
