"""Play a saved run back: the env and policy restored from its folder, N episodes, optional frames or video.

Nothing from the run folder is unpickled (see :func:`recurrent_rl.restore.restore`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from recurrent_rl.artifacts.saved_run import SavedRun
from recurrent_rl.errors import UserError
from recurrent_rl.evaluation.episodes import EvalResult, evaluate
from recurrent_rl.evaluation.video import check_video_path, write_video
from recurrent_rl.restore import restore

MAX_EVAL_ENVS = 8


def evaluate_saved(
    saved: SavedRun,
    episodes: int,
    deterministic: bool = True,
    seed: int = 1_000_000,
    render: str | None = None,
    video: Path | None = None,
) -> EvalResult:
    """Play ``episodes`` episodes of the saved policy; print ansi frames or record a video if asked."""
    if video is not None:
        check_video_path(video)
    cfg = saved.require_config()
    torch.set_num_threads(cfg.train.torch_threads)
    render_mode = "rgb_array" if video is not None else render
    n_envs = 1 if render_mode is not None else min(episodes, MAX_EVAL_ENVS)
    frames: list[np.ndarray] = []
    with restore(saved, n_envs=n_envs, seed=seed, render_mode=render_mode) as restored:
        env = restored.env

        def on_step() -> None:
            image = env.env_method("render")[0]
            if render == "ansi" and video is None:
                print(image, file=sys.stdout)
            elif image is not None:
                frames.append(image)

        try:
            result = evaluate(restored.policy, env, episodes, deterministic, on_step if render_mode else None)
        except gym.error.DependencyNotInstalled as error:
            raise UserError(f"{cfg.env.name} cannot render {render_mode!r} here: {error}") from None
    if video is not None:
        write_video(frames, video)
    return result
