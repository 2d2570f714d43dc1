"""Build the vector env a config's ``env`` section describes: id, kwargs, POMDP wrappers, normalisation,
frame stack. (The environments themselves are the top-level ``envs`` package.)"""

from __future__ import annotations

import difflib
import signal
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecFrameStack, VecNormalize

import envs  # noqa: F401  (registers the RecurrentRL/ ids)
from recurrent_rl.config.schema import AlgoConfig, EnvConfig
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.batched import batched_vec_env, check_batchable
from recurrent_rl.vecenv.modules import describe_error, import_user_module, resolve_attribute, user_frame
from recurrent_rl.vecenv.spaces import check_observation_space
from recurrent_rl.vecenv.wrappers import apply_config_wrappers


def import_env_modules(cfg: EnvConfig) -> None:
    """Import the modules the env section names (``env.import``, ``module:EnvId``, ``module:attr``)."""
    for name in cfg.modules():
        key = "env.import" if name == cfg.import_ else "env.id" if cfg.id is not None else "env.entry_point"
        import_user_module(name, cfg.search_path, key)


def env_target(cfg: EnvConfig) -> str | EnvSpec:
    """What ``gym.make`` makes: the registered id (without its ``module:``) or a spec of the entry point."""
    if cfg.id is not None:
        return cfg.id.split(":", 1)[1] if ":" in cfg.id else cfg.id
    assert cfg.entry_point is not None
    module_name, attribute = cfg.entry_point.split(":", 1)
    module = import_user_module(module_name, cfg.search_path, "env.entry_point")
    creator = resolve_attribute(module, attribute, "env.entry_point", cfg.entry_point)
    # The string when gymnasium can load it: a SubprocVecEnv worker sends the env's spec back pickled.
    return EnvSpec(id=cfg.entry_point, entry_point=creator if "." in attribute else cfg.entry_point)


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
    import_env_modules(cfg)
    return Monitor(_wrap(cfg, _make_base(cfg, render_mode)))


def _make_base(cfg: EnvConfig, render_mode: str | None) -> gym.Env:
    """``gym.make`` with the config's id or entry point, kwargs and time limit."""
    kwargs = dict(cfg.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    return gym.make(env_target(cfg), **kwargs)


def _wrap(cfg: EnvConfig, env: gym.Env) -> gym.Env:
    """The config's wrappers around ``env``, innermost first."""
    return apply_config_wrappers(cfg, env) if cfg.wrappers else env


def check_env_config(cfg: EnvConfig) -> tuple[gym.Space, gym.Space]:
    """Build one env to check id, kwargs, wrappers, the observation space and ``vec_env: batched``
    before anything is written; return its spaces."""
    import_env_modules(cfg)
    target = env_target(cfg)
    if isinstance(target, str):
        check_env_id(target)
    errors = (TypeError, ValueError, gym.error.Error)
    try:
        env = _make_base(cfg, render_mode=None)
    except errors as error:
        where = user_frame(error.__traceback__)
        key = "env.entry_point" if cfg.entry_point and "gymnasium.Env class" in str(error) else "env.kwargs"
        raise UserError(f"{key}: {cfg.name}: {_one_line(error)}{f' ({where})' if where else ''}") from None
    except UserError:
        raise
    except Exception as error:
        if user_frame(error.__traceback__) is None:
            raise
        # the constructor in the user's module failed: their error, at their line
        raise UserError(f"env: making {cfg.name} failed: {describe_error(error)}") from None
    env = _wrap(cfg, env)  # closes the env when a wrapper fails
    try:
        check_observation_space(cfg.name, env.observation_space)
        if cfg.vec_env == "batched":
            check_batchable(env)
        return env.observation_space, env.action_space
    finally:
        env.close()


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


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

    ``auto`` (the default) steps our envs batched (:mod:`recurrent_rl.vecenv.batched`, exactly
    DummyVecEnv's results) when every part has a batched version, else as ``dummy``.

    For evaluation (``training=False``) the normalisation statistics are frozen and rewards are left raw;
    the caller copies the statistics in from the training env or a saved file.
    """
    kind = vec_env or cfg.vec_env
    subprocess = kind == "subproc" and n_envs > 1
    factories: list[Callable[[], gym.Env]] = [
        _EnvFactory(cfg, render_mode, subprocess) for _ in range(n_envs)
    ]
    venv: VecEnv | None = batched_vec_env(kind, factories) if kind in ("auto", "batched") else None
    if venv is None:
        venv = SubprocVecEnv(factories) if subprocess else DummyVecEnv(factories)
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
