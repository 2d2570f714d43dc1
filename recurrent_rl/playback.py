"""Evaluate a saved run: rebuild env and policy from the run's config, load weights safely, play N episodes.

Nothing from the run folder is unpickled: the config is YAML (safe loader), the weights are read with
``torch.load(weights_only=True)`` and normalisation statistics are ``.npz`` with ``allow_pickle=False``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from recurrent_rl import run_folder
from recurrent_rl.agent import build_policy, load_policy_weights
from recurrent_rl.config import Config
from recurrent_rl.config_loader import load_config
from recurrent_rl.environment import check_env_config, find_vec_normalize, make_vec_env
from recurrent_rl.errors import UserError
from recurrent_rl.evaluation import EvalResult, evaluate
from recurrent_rl.normalization import load_normalization
from recurrent_rl.video import check_video_path, write_video

MAX_EVAL_ENVS = 8


@dataclass(frozen=True)
class SavedModel:
    """A model file, the run folder it belongs to, its config, and its normalisation statistics file."""

    run_dir: Path
    model: Path
    config: Config
    normalization: Path


def locate(target: Path) -> SavedModel:
    """Resolve ``RUN_DIR`` or ``MODEL_ZIP`` to the model, its run's config and its statistics."""
    run_dir, model = run_folder.find_model(target)
    config_path = run_dir / run_folder.CONFIG
    if not config_path.is_file():
        raise UserError(f"{model}: no {run_folder.CONFIG} in {run_dir}; this needs the model's run folder")
    statistics = run_folder.statistics_path(run_dir, model)
    return SavedModel(run_dir, model, load_config(config_path).config, statistics)


def evaluate_saved(
    target: Path,
    episodes: int,
    deterministic: bool = True,
    seed: int = 1_000_000,
    render: str | None = None,
    video: Path | None = None,
) -> EvalResult:
    """Play ``episodes`` episodes of the saved policy; print ansi frames or record a video if asked."""
    if video is not None:
        check_video_path(video)
    saved = locate(target)
    cfg = saved.config
    check_env_config(cfg.env)
    torch.set_num_threads(cfg.train.torch_threads)
    render_mode = "rgb_array" if video is not None else render
    n_envs = 1 if render_mode is not None else min(episodes, MAX_EVAL_ENVS)
    env = make_vec_env(
        cfg.env, cfg.algo, n_envs=n_envs, seed=seed, training=False, vec_env="dummy", render_mode=render_mode
    )
    try:
        vec_normalize = find_vec_normalize(env)
        if vec_normalize is not None:
            load_normalization(vec_normalize, saved.normalization)
        policy = build_policy(cfg, env.observation_space, env.action_space)
        load_policy_weights(policy, saved.model)
        frames: list[np.ndarray] = []

        def on_step() -> None:
            image = env.env_method("render")[0]
            if render == "ansi" and video is None:
                print(image, file=sys.stdout)
            elif image is not None:
                frames.append(image)

        try:
            result = evaluate(policy, env, episodes, deterministic, on_step if render_mode else None)
        except gym.error.DependencyNotInstalled as error:
            raise UserError(f"{cfg.env.id} cannot render {render_mode!r} here: {error}") from None
    finally:
        env.close()
    if video is not None:
        write_video(frames, video)
    return result
