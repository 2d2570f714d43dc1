"""The VecNormalize layer of a vector env: find it, copy its statistics to an evaluation env."""

from __future__ import annotations

import copy

from stable_baselines3.common.vec_env import VecEnv, VecNormalize


def find_vec_normalize(venv: VecEnv) -> VecNormalize | None:
    """The VecNormalize layer inside ``venv``, if any."""
    layer: object = venv
    while layer is not None:
        if isinstance(layer, VecNormalize):
            return layer
        layer = getattr(layer, "venv", None)
    return None


def sync_normalization(source: VecEnv, target: VecEnv) -> None:
    """Copy observation statistics from the training env to an evaluation env.

    Unlike SB3's ``sync_envs_normalization`` this does not require both stacks to have the same layers
    (SB3 adds VecTransposeImage to image training envs only).
    """
    source_norm, target_norm = find_vec_normalize(source), find_vec_normalize(target)
    if source_norm is not None and target_norm is not None:
        target_norm.obs_rms = copy.deepcopy(source_norm.obs_rms)
        target_norm.ret_rms = copy.deepcopy(source_norm.ret_rms)
