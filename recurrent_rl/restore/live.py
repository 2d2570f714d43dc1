"""Rebuild a saved run into a live model: the env from the run's config (statistics loaded), the policy
(or the whole algorithm, to resume) with its weights, all without unpickling anything.

What a run folder is (locate, checkpoints, which statistics go with which model) lives in
:mod:`recurrent_rl.artifacts.saved_run`, which imports no SB3; this layer sits above ``algo`` and ``vecenv``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.algo.build import build_model, build_policy, load_policy_weights
from recurrent_rl.artifacts import model_file
from recurrent_rl.artifacts.saved_run import SavedRun, read_model_statistics
from recurrent_rl.artifacts.statistics_file import apply_statistics
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.build import build_vec_env, check_env_config
from recurrent_rl.vecenv.closing import close_vec_env
from recurrent_rl.vecenv.normalization import find_vec_normalize


@dataclass
class Restored:
    """The env built from a run's config (statistics loaded), the policy (or algorithm) with its weights."""

    env: VecEnv
    policy: BasePolicy
    model: OnPolicyAlgorithm | None = None
    weights_error: str | None = None


@contextmanager
def restore(
    saved: SavedRun,
    *,
    n_envs: int = 1,
    seed: int = 0,
    training: bool = False,
    vec_env: str = "dummy",
    render_mode: str | None = None,
    resume: bool = False,
    statistics: bool = True,
    strict: bool = True,
) -> Iterator[Restored]:
    """Build env and policy from ``saved`` and load its weights; the env is closed when the block ends.

    ``resume``: build the whole algorithm and load the optimizer state and timestep count too.
    ``strict=False``: weights that do not fit are reported in ``weights_error`` instead of raised.
    """
    cfg = saved.require_config()
    check_env_config(cfg.env)
    kind = vec_env if not training else cfg.env.vec_env
    env = build_vec_env(
        cfg.env, cfg.algo, n_envs=n_envs, seed=seed, training=training, vec_env=kind, render_mode=render_mode
    )
    try:
        vec_normalize = find_vec_normalize(env)
        if vec_normalize is not None and statistics:
            apply_statistics(vec_normalize, *read_model_statistics(saved.model))
        model = build_model(cfg, env) if resume else None
        policy = (
            model.policy if model is not None else build_policy(cfg, env.observation_space, env.action_space)
        )
        weights_error = None
        try:
            load_policy_weights(policy, saved.model)
        except UserError as error:
            if strict:
                raise
            weights_error = str(error)
        if model is not None:
            _restore_training_state(model, saved.model, cfg.train.seed)
        yield Restored(env, policy, model, weights_error)
    finally:
        close_vec_env(env)


def _restore_training_state(model: Any, checkpoint: Path, seed: int) -> None:
    """Optimizer state, timestep and update counts of ``checkpoint``; fresh, reproducible sampling."""
    data = model_file.read_plain_data(checkpoint)
    timesteps = model_file.timesteps(data)
    if timesteps is None:
        raise UserError(f"{checkpoint}: no timestep count (num_timesteps) in the checkpoint")
    optimizer_state = model_file.read_tensors(checkpoint, "policy.optimizer.pth", model.device)
    try:
        model.policy.optimizer.load_state_dict(optimizer_state)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise UserError(f"{checkpoint}: the optimizer state does not fit the policy ({error})") from None
    model.num_timesteps = timesteps
    n_updates = data.get("_n_updates")
    if isinstance(n_updates, int):
        model._n_updates = n_updates
    # Fresh episodes and sampling noise for the continued part, reproducible from the checkpoint.
    model.set_random_seed((seed + timesteps) % 2**31)
