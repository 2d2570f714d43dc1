"""Build the vector env a config's ``env`` section describes: id, kwargs, POMDP wrappers, normalisation,
frame stack. (The environments themselves are the top-level ``envs`` package.)"""

from __future__ import annotations

import difflib
import importlib
import signal
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecFrameStack, VecNormalize

import envs  # noqa: F401  (registers the RecurrentRL/ ids)
from recurrent_rl.config.schema import AlgoConfig, EnvConfig
from recurrent_rl.errors import UserError


def import_env_module(cfg: EnvConfig) -> None:
    """Import ``env.import`` (a third-party package that registers its environments)."""
    if not cfg.import_:
        return
    try:
        importlib.import_module(cfg.import_)
    except ModuleNotFoundError as error:
        raise UserError(f"env.import: cannot import {cfg.import_!r} ({error})") from None
    except Exception as error:  # a broken third-party module is the user's input, not our crash
        raise UserError(
            f"env.import: importing {cfg.import_!r} failed: {type(error).__name__}: {error}"
        ) from None


def check_env_id(env_id: str) -> None:
    """Raise a UserError naming the closest registered ids when ``env_id`` is unknown."""
    if env_id in gym.registry:
        return
    known = list(gym.registry)
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
    if not close:
        close = [k for k in known if k.lower().startswith(env_id.split("/")[-1][:4].lower())][:3]
    hint = f"closest registered ids: {', '.join(close)}" if close else "see `recurrent-rl envs`"
    raise UserError(f"env.id: unknown environment {env_id!r} ({hint})")


def make_env(cfg: EnvConfig, render_mode: str | None = None, in_subprocess: bool = False) -> gym.Env:
    """One environment with the config's kwargs and wrappers, inside a Monitor (episode return and length)."""
    if in_subprocess:
        # Ctrl-C goes to the whole process group: let the main process handle it and close the workers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import_env_module(cfg)
    return Monitor(_wrap(cfg, _make_base(cfg, render_mode)))


def _make_base(cfg: EnvConfig, render_mode: str | None) -> gym.Env:
    """``gym.make`` with the config's id, kwargs and time limit."""
    kwargs = dict(cfg.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    return gym.make(cfg.id, **kwargs)


def _wrap(cfg: EnvConfig, env: gym.Env) -> gym.Env:
    """The config's POMDP wrappers around ``env``, innermost first."""
    if not cfg.wrappers:
        return env
    from envs.wrappers import apply_wrappers

    return apply_wrappers(env, [(spec.name, dict(spec.kwargs)) for spec in cfg.wrappers])


def check_env_config(cfg: EnvConfig) -> tuple[gym.Space, gym.Space]:
    """Build one env to check id, kwargs and wrappers before anything is written; return its spaces."""
    import_env_module(cfg)
    check_env_id(cfg.id)
    errors = (TypeError, ValueError, gym.error.Error)
    try:
        env = _make_base(cfg, render_mode=None)
    except errors as error:
        raise UserError(f"env.kwargs: {cfg.id}: {error}") from None
    try:
        env = _wrap(cfg, env)
    except errors as error:
        env.close()
        raise UserError(f"env.wrappers: {cfg.id}: {error}") from None
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


@dataclass(frozen=True)
class _EnvFactory:
    """Picklable env constructor for (Subproc|Dummy)VecEnv."""

    cfg: EnvConfig
    render_mode: str | None
    in_subprocess: bool

    def __call__(self) -> gym.Env:
        return make_env(self.cfg, self.render_mode, self.in_subprocess)


def build_vec_env(
    cfg: EnvConfig,
    algo: AlgoConfig,
    *,
    n_envs: int,
    seed: int,
    training: bool,
    vec_env: str | None = None,
    render_mode: str | None = None,
) -> VecEnv:
    """The vectorised env: ``n_envs`` seeded copies, then VecNormalize and VecFrameStack when configured.

    For evaluation (``training=False``) the normalisation statistics are frozen and rewards are left raw;
    the caller copies the statistics in from the training env or a saved file.
    """
    kind = vec_env or cfg.vec_env
    subprocess = kind == "subproc" and n_envs > 1
    factories: list[Callable[[], gym.Env]] = [
        _EnvFactory(cfg, render_mode, subprocess) for _ in range(n_envs)
    ]
    venv: VecEnv = SubprocVecEnv(factories) if subprocess else DummyVecEnv(factories)
    venv.seed(seed)
    if cfg.normalize is not None:
        venv = VecNormalize(
            venv,
            training=training,
            norm_obs=cfg.normalize.obs,
            norm_reward=cfg.normalize.reward and training,
            clip_obs=cfg.normalize.clip_obs,
            clip_reward=cfg.normalize.clip_reward,
            gamma=algo.gamma,
        )
    if cfg.frame_stack is not None:
        venv = VecFrameStack(venv, n_stack=cfg.frame_stack)
    return venv
