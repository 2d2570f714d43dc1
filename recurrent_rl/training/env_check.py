"""``recurrent-rl check-env``: is the env a config describes usable for training, and how does it behave?

The env is built as training builds it (module imports, kwargs or factory, time limit, wrappers; frame
stack and normalisation in the vector env). That env (not its ``unwrapped`` core) goes through
Stable-Baselines3's and Gymnasium's env checkers (Gymnasium's one check at a time: only the checks that
training depends on are fatal, the others' failures are warnings, see :mod:`recurrent_rl.vecenv.checkers`)
and a seed check (``reset(seed=s)`` twice gives the same
episode), and the vector env is stepped with random actions (episode lengths and returns, ``is_success``,
steps/s, no NaN or infinity). A failed check is a UserError naming the check and quoting its message.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import data_equivalence
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.algo.build import check_spaces
from recurrent_rl.config.schema import Config
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.build import build_vec_env, check_env_config, make_env
from recurrent_rl.vecenv.checkers import GYMNASIUM_CHECKS
from recurrent_rl.vecenv.closing import close_vec_env
from recurrent_rl.vecenv.modules import describe_error

SB3_CHECKER = "Stable-Baselines3's env checker"
GYMNASIUM_CHECKER = "Gymnasium's env checker"
SEED_CHECK = "seed check"
N_SEEDS, SEED_STEPS = 16, 5
# Checker warnings that mean training cannot work (the rest are advice).
_FATAL = re.compile(r"found (nan|inf)\b|reward is a nan value|reward is an inf value", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class EnvReport:
    """What ``check-env`` prints: spaces as the policy sees them, random-action statistics, warnings."""

    name: str
    observation_space: gym.Space
    action_space: gym.Space
    policy_type: str
    time_limit: int | None
    n_envs: int
    steps: int = 0
    lengths: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    steps_per_second: float = 0.0
    warnings: list[str] = field(default_factory=list)


def check_environment(cfg: Config, steps: int, seed: int = 0) -> EnvReport:
    """Build, check and step the env of ``cfg``; a UserError when it is not usable."""
    observation_space, action_space = check_env_config(cfg.env)  # imports and builds: config errors
    check_spaces(cfg, observation_space, action_space)
    found: list[str] = []
    env = make_env(cfg.env)
    try:
        built = env.env  # type: ignore[attr-defined]  # the env as the config builds it (factory, wrappers), inside training's Monitor
        _run_check(cfg, SB3_CHECKER, partial(sb3_check_env, warn=True), built, found)
        for check in GYMNASIUM_CHECKS:
            _run_check(cfg, f"{GYMNASIUM_CHECKER} ({check.name})", check.run, built, found, check.fatal)
        _run_check(cfg, SEED_CHECK, check_seeding, env, found)
        time_limit = _time_limit(env)
    finally:
        env.close()
    venv = build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=seed, training=True, vec_env="dummy")
    try:
        report = EnvReport(
            name=cfg.env.name,
            observation_space=venv.observation_space,
            action_space=venv.action_space,
            policy_type=needed_policy(venv.observation_space, cfg.algo.name == "recurrent_ppo"),
            time_limit=time_limit,
            n_envs=venv.num_envs,
            warnings=found,
        )
        with _recorded(found, "env"):
            _random_rollout(cfg, venv, steps, seed, report)
    finally:
        close_vec_env(venv)
    if time_limit is None and not report.lengths:
        found.append(f"no episode ended in {report.steps} random steps and the env has no time limit")
    return report


def needed_policy(observation_space: gym.Space, recurrent: bool) -> str:
    """The policy type these observations need: MultiInput for dicts, Cnn for images, else Mlp."""
    if isinstance(observation_space, gym.spaces.Dict):
        family = "MultiInput"
    elif isinstance(observation_space, gym.spaces.Box) and is_image_space(observation_space):
        family = "Cnn"
    else:
        family = "Mlp"
    return f"{family}LstmPolicy" if recurrent else f"{family}Policy"


def check_seeding(env: gym.Env) -> None:
    """``reset(seed=s)`` twice, then the same random actions, must give the same observations."""
    for seed in range(N_SEEDS):
        first, second = _trajectory(env, seed), _trajectory(env, seed)
        for step, (a, b) in enumerate(zip(first, second, strict=True)):
            if not data_equivalence(a, b):
                what = "reset(seed=...)" if step == 0 else f"step {step} after reset(seed=...)"
                raise AssertionError(
                    f"reset(seed={seed}) twice gave different observations at {what}: the env ignores its "
                    "seed (call super().reset(seed=seed) and draw every random number from self.np_random)"
                )


def _trajectory(env: gym.Env, seed: int) -> list[Any]:
    observation, _ = env.reset(seed=seed)
    observations = [deepcopy(observation)]
    env.action_space.seed(seed)
    for _ in range(SEED_STEPS):
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        observations.append(deepcopy(observation))
        if terminated or truncated:
            break
    return observations


def _run_check(
    cfg: Config,
    name: str,
    check: Callable[[gym.Env], Any],
    env: gym.Env,
    found: list[str],
    fatal: bool = True,
) -> None:
    """Run ``check(env)``, recording its warnings; when it fails, a UserError quoting it (a warning if not
    ``fatal``). A fatal failure quotes the same check on ``env.unwrapped`` when that fails too: the
    user's env, not a wrapper around it, is then what to fix (and its message is the one to the point)."""
    before = len(found)
    try:
        with _recorded(found, name):
            check(env)
    except UserError:
        raise
    except Exception as error:
        text = _failure(error)
        if not fatal:
            found.append(f"{name}: {text}")
            return
        if env.unwrapped is not env:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    check(env.unwrapped)
                except Exception as core_error:
                    text = _failure(core_error)
        raise UserError(f"check-env: {cfg.env.name}: {name}: {text}") from None
    broken = [warning for warning in found[before:] if _FATAL.search(warning)]
    if broken:
        raise UserError(f"check-env: {cfg.env.name}: {broken[0]}")


def _failure(error: Exception) -> str:
    """A failed check's message on one line (an exception's with its type and the user's line)."""
    message = " ".join(_ANSI.sub("", str(error)).split())
    return message if isinstance(error, AssertionError) and message else describe_error(error)


@contextmanager
def _recorded(found: list[str], source: str) -> Iterator[None]:
    """Collect the warnings raised inside the block as ``source: message`` lines (each once)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                text = " ".join(_ANSI.sub("", str(warning.message)).split()).removeprefix("WARN: ")
                line = f"{source}: {text}"
                if line not in found:
                    found.append(line)


def _time_limit(env: gym.Env) -> int | None:
    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.TimeLimit):
            return int(layer._max_episode_steps)
        layer = layer.env
    return None


def _random_rollout(cfg: Config, venv: VecEnv, steps: int, seed: int, report: EnvReport) -> None:
    """Step ``venv`` with random actions: episode statistics, steps/s, no NaN or infinity."""
    venv.action_space.seed(seed)
    try:
        _check_finite(cfg, venv.reset(), None, 0)
        started = time.perf_counter()
        for _ in range(math.ceil(steps / venv.num_envs)):
            actions = np.array([venv.action_space.sample() for _ in range(venv.num_envs)])
            observations, rewards, dones, infos = venv.step(actions)
            report.steps += venv.num_envs
            _check_finite(cfg, observations, rewards, report.steps)
            for done, info in zip(dones, infos, strict=True):
                if done and "episode" in info:
                    report.lengths.append(int(info["episode"]["l"]))
                    report.returns.append(float(info["episode"]["r"]))
                if done and "is_success" in info:
                    report.successes.append(bool(info["is_success"]))
        report.steps_per_second = report.steps / max(time.perf_counter() - started, 1e-9)
    except UserError:
        raise
    except Exception as error:
        raise UserError(
            f"check-env: {cfg.env.name}: stepping random actions failed: {describe_error(error)}"
        ) from None


def _check_finite(cfg: Config, observations: Any, rewards: np.ndarray | None, step: int) -> None:
    arrays = observations.values() if isinstance(observations, dict) else [observations]
    where = "reset()" if step == 0 else f"step() after {step} random steps"
    for array in arrays:
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            kind = "NaN" if np.isnan(array).any() else "infinity"
            raise UserError(f"check-env: {cfg.env.name}: {kind} in the observation from {where}")
    if rewards is not None and not np.isfinite(rewards).all():
        kind = "NaN" if np.isnan(rewards).any() else "infinity"
        raise UserError(f"check-env: {cfg.env.name}: {kind} in the reward from {where}")
