"""The config's ``env.wrappers``, innermost first: ours by name (:mod:`envs.wrappers`) and any Gymnasium
wrapper by import path, mixed in any order.

An import path ``module:attr`` names a ``gymnasium.Wrapper`` class or a function that takes the env (and
the item's keyword arguments) and returns an env. Its module is found as the env's modules are
(:mod:`recurrent_rl.vecenv.modules`: the config folders, the current directory, the installed packages),
so a wrapper in a file next to the config works with no setup. Every problem is a UserError that starts
with the item's ``file:line:column`` and ``env.wrappers.<index>``: a module or attribute not found (with
where it was looked for), an attribute that is no wrapper, or the wrapper refusing its arguments or the env
(with its own message).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import gymnasium as gym

from recurrent_rl.config.schema import EnvConfig, WrapperSpec
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.modules import describe_error, import_user_module, resolve_attribute

WRAPPER = "a gymnasium.Wrapper class or a function that takes the env and returns an env"


def apply_config_wrappers(cfg: EnvConfig, env: gym.Env) -> gym.Env:
    """``env`` inside the wrappers of ``cfg.wrappers``, innermost first."""
    for index, spec in enumerate(cfg.wrappers):
        key = f"env.wrappers.{index}"
        try:
            env = _apply(cfg, spec, key, env)
        except UserError as error:
            env.close()
            raise UserError(f"{spec.where}: {error}" if spec.where else str(error)) from None
    return env


def _apply(cfg: EnvConfig, spec: WrapperSpec, key: str, env: gym.Env) -> gym.Env:
    if spec.module is None:
        from envs.wrappers import apply_wrappers

        try:
            return apply_wrappers(env, [(spec.name, dict(spec.kwargs))])
        except (TypeError, ValueError) as error:
            raise UserError(f"{key}: {spec.name}: {error}") from None
    wrapper = resolve_wrapper(spec.name, cfg.search_path, key)
    try:
        wrapped = wrapper(env, **spec.kwargs)
    except Exception as error:  # the wrapper refused its arguments or the env: its own message
        raise UserError(f"{key}: {spec.name}: {describe_error(error)}") from None
    if not isinstance(wrapped, gym.Env):
        raise UserError(f"{key}: {spec.name} returned a {type(wrapped).__name__}, expected a gymnasium.Env")
    return wrapped


def resolve_wrapper(reference: str, search_path: list[str] | None, key: str) -> Callable[..., Any]:
    """The wrapper class or function ``module:attr`` names; a UserError when it is none."""
    module_name, attribute = reference.split(":", 1)
    module = import_user_module(module_name, search_path, key)
    target = resolve_attribute(module, attribute, key, reference, expected=WRAPPER, hint=_wrappers_hint)
    if isinstance(target, type) and not issubclass(target, gym.Wrapper):
        kind = "an env class" if issubclass(target, gym.Env) else f"a class ({target.__name__})"
        raise UserError(f"{key}: {reference!r} is {kind}, expected {WRAPPER}")
    return target


def _wrappers_hint(module: ModuleType, missing: str) -> str:
    """The wrapper classes of ``module`` closest to ``missing`` (or all of them, when few)."""
    names = sorted(
        name
        for name in dir(module)
        if not name.startswith("_")
        and isinstance(value := getattr(module, name, None), type)
        and issubclass(value, gym.Wrapper)
    )
    close = difflib.get_close_matches(missing, names, n=3, cutoff=0.6)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return f"; wrappers in it: {', '.join(names)}" if 0 < len(names) <= 12 else ""
