"""The sidecar description of an exported policy: how to call it and what is inside."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from recurrent_rl.deploy.module import PolicyModule, state_output

__all__ = ["describe"]

FRAME_STACK_NOTE = (
    "The frame stack is explicit state, like the memory's h (and c): pass raw single observations, feed "
    "each stack_out back as the next step's stack input, start from zeros; episode_start = 1 zeroes that "
    "row's stack before the new frame is appended, exactly as SB3's VecFrameStack resets it. The stack holds "
    "normalised frames (the project's env applies VecNormalize before VecFrameStack), newest last along "
    "the stacking axis. Chosen over asking the caller to stack because it keeps one rule for all state "
    "(in -> out, reset by episode_start) and puts the normalisation, stacking order and reset details, "
    "easy to get subtly wrong, inside the checked graph."
)


def _spec(name: str, shape: list[Any], dtype: str, text: str) -> dict[str, Any]:
    return {"name": name, "shape": shape, "dtype": dtype, "description": text}


def _obs_specs(module: PolicyModule) -> list[dict[str, Any]]:
    specs = []
    for key in module.keys:
        space = module.obs_space(key)
        dtype = "int64" if isinstance(space, gym.spaces.Discrete) else str(space.dtype)
        text = "raw env observation" + (f" (key {key!r})" if key else "") + ", normalised in the model"
        specs.append(_spec(f"obs.{key}" if key else "obs", ["batch", *(space.shape or ())], dtype, text))
    return specs


def _state_specs(module: PolicyModule) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    inputs, outputs = [], []
    zeros = module.initial_state(1)
    for name, shape in module.state_shapes(1).items():
        memory = name in module.memory_state_names
        axis = 1 if memory else 0
        symbolic: list[Any] = ["batch" if i == axis else n for i, n in enumerate(shape)]
        dtype = str(zeros[name].dtype)
        kind = module.memory.name.upper() if module.memory is not None else ""
        what = f"{kind} {name} state" if memory else f"last {module.frame_stack} frames ({name})"
        inputs.append(_spec(name, symbolic, dtype, f"{what}; zeros at first"))
        outputs.append(_spec(state_output(name), symbolic, dtype, f"new {what}: the next step's {name}"))
    return inputs, outputs


def _normalization(module: PolicyModule) -> dict[str, Any] | None:
    stats: dict[str, Any] = {}
    for key, path in zip(module.keys, module.obs_paths, strict=True):
        if path.stats is not None:
            stats[key or "obs"] = {
                "mean": np.asarray(path.stats.mean).tolist(),
                "var": np.asarray(path.stats.var).tolist(),
                "clip": path.stats.clip,
                "epsilon": path.stats.epsilon,
                "applied_in_model": True,
            }
    return stats or None


def _logits_width(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    return int(np.prod(space.shape or (1,)))


def _memory(module: PolicyModule) -> dict[str, Any] | None:
    memory = module.memory
    if memory is None:
        return None
    rnn = memory.module
    return {
        "kind": memory.name,
        "num_layers": rnn.num_layers,
        "hidden_size": rnn.hidden_size,
        "state": list(memory.state_names),
    }


def describe(module: PolicyModule, **extra: Any) -> dict[str, Any]:
    """A JSON-ready description of the graph of ``module``: inputs, outputs, state, spaces, normalisation.

    ``extra`` entries (e.g. ``source``, ``exporter``) are added as they are.
    """
    state_in, state_out = _state_specs(module)
    inputs = _obs_specs(module) + state_in
    if "episode_start" in module.input_names:
        text = "1.0 on an episode's first step (zeroes that row's state before the step), else 0.0"
        inputs.append(_spec("episode_start", ["batch"], "float32", text))
    space = module.action_space
    action_dtype = "int64" if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete) else "float32"
    outputs = [
        _spec(
            "action", ["batch", *(space.shape or ())], action_dtype, "greedy action (predict deterministic)"
        )
    ]
    if module.with_logits:
        text = "action mean (before clipping)" if isinstance(space, gym.spaces.Box) else "action logits"
        outputs.append(_spec("logits", ["batch", _logits_width(space)], "float32", text))
    return {
        "recurrent": module.recurrent,
        "inputs": inputs,
        "outputs": outputs + state_out,
        "memory": _memory(module),
        "frame_stack": None
        if not module.frame_stack
        else {"n_stack": module.frame_stack, "note": FRAME_STACK_NOTE},
        "dict_observation_keys": module.keys if module.dict_obs else None,
        "observation_space": str(module.observation_space),
        "action_space": str(space),
        "normalization": _normalization(module),
        **extra,
    }
