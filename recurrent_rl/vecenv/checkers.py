"""Gymnasium's env checker, one check at a time, each marked fatal or advice.

``gymnasium.utils.env_checker.check_env`` stops at its first failed assertion, whatever it is. Some of its
checks guard what training needs (``reset`` and ``step`` return what the spaces say, in the right form);
the others are good practice that training does not depend on: that ``reset(seed=...)`` and ``step`` are
deterministic (``check-env``'s own seed check, on the whole chain, is the fatal one), that ``reset`` takes
``options``, that returned objects are not shared between calls. A third-party env cannot be edited by its
user, so those are reported as warnings and the remaining checks still run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
from gymnasium.utils import env_checker, passive_env_checker


@dataclass(frozen=True)
class Check:
    """One of Gymnasium's checks; ``fatal``: training cannot work when it fails."""

    name: str
    run: Callable[[gym.Env], object]
    fatal: bool


def _step_returns(env: gym.Env) -> None:
    env.reset(seed=0)
    passive_env_checker.env_step_passive_checker(env, env.action_space.sample())


def _spaces(env: gym.Env) -> None:
    passive_env_checker.check_action_space(env.action_space)
    passive_env_checker.check_observation_space(env.observation_space)
    env_checker.check_space_limit(env.action_space, "action")
    env_checker.check_space_limit(env.observation_space, "observation")


#: In the order of ``gymnasium.utils.env_checker.check_env`` (its render and close checks left out).
GYMNASIUM_CHECKS: tuple[Check, ...] = (
    Check("spaces", _spaces, fatal=True),
    Check("reset", env_checker.check_reset_return_type, fatal=True),
    Check("reset observation", passive_env_checker.env_reset_passive_checker, fatal=True),
    Check("step", _step_returns, fatal=True),
    Check("reset(seed=...) determinism", env_checker.check_reset_seed_determinism, fatal=False),
    Check("reset(options=...)", env_checker.check_reset_options, fatal=False),
    Check("step determinism", env_checker.check_step_determinism, fatal=False),
    Check("returned data not reused", env_checker.check_returned_data_not_reused, fatal=False),
)
