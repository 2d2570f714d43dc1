"""Sampled values a config would reject across keys, moved to the nearest accepted ones and said so.

A search space checks each value on its own (:func:`recurrent_rl.tuning.space.check_space`); combinations
are the sampler's: ``algo.batch_size`` above ``n_steps * n_envs``, ``algo.sequence_length`` above
``n_steps``, and what sb3-contrib's implementation does not have (the two training options, the GRU).
"""

from __future__ import annotations

from typing import Any

from recurrent_rl.config.schema import Config


def clamp(values: dict[str, Any], base: Config) -> list[str]:
    """Clamp a trial's ``values`` (dotted key -> value, over ``base``) in place; return what changed."""
    return [*_batch_size(values, base), *_sequence_options(values, base)]


def _batch_size(values: dict[str, Any], base: Config) -> list[str]:
    n_steps = int(values.get("algo.n_steps", base.algo.n_steps))
    n_envs = int(values.get("env.n_envs", base.env.n_envs))
    batch_size = int(values.get("algo.batch_size", base.algo.batch_size))
    rollout = n_steps * n_envs
    if batch_size > rollout >= 2:
        values["algo.batch_size"] = rollout
        return [
            f"algo.batch_size {batch_size} -> {rollout} (at most n_steps * n_envs = {n_steps} * {n_envs})"
        ]
    return []


def _sequence_options(values: dict[str, Any], base: Config) -> list[str]:
    n_steps = int(values.get("algo.n_steps", base.algo.n_steps))
    length = values.get("algo.sequence_length", base.algo.sequence_length)
    refresh = values.get("algo.refresh_states", base.algo.refresh_states)
    changed = []
    if values.get("algo.implementation", base.algo.implementation) == "sb3":
        if length is not None and length != n_steps:
            values["algo.sequence_length"] = None
            changed.append(f"algo.sequence_length {length} -> null (implementation: sb3)")
        if refresh:
            values["algo.refresh_states"] = False
            changed.append("algo.refresh_states true -> false (implementation: sb3)")
        if values.get("policy.memory", base.policy.memory) != "lstm":
            values["policy.memory"] = "lstm"
            changed.append("policy.memory gru -> lstm (implementation: sb3)")
    elif length is not None and length > n_steps:
        values["algo.sequence_length"] = n_steps
        changed.append(f"algo.sequence_length {length} -> {n_steps} (at most n_steps)")
    return changed
