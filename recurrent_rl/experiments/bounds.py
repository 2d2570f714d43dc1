"""What the environments state about themselves, for the plots: the best a memoryless policy can do (the
line a memory agent must rise above) and what their horizon knobs measure. The one place to extend.

Bounds are the exact ones of the README's Environments table (measured, not proven, figures are left out);
each is a function of the env's constructor arguments, with the env's defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recurrent_rl.config.schema import EnvConfig

Bound = Callable[[dict[str, Any]], float]

MEMORYLESS: dict[str, dict[str, Bound]] = {
    "RecurrentRL/TMaze-v0": {"success_rate": lambda kw: 0.5, "mean_return": lambda kw: 0.0},
    "RecurrentRL/PixelMemoryMaze-v0": {
        "success_rate": lambda kw: 1 / kw.get("n_colors", 2),
        "mean_return": lambda kw: 2 / kw.get("n_colors", 2) - 1,
    },
    "RecurrentRL/RepeatPrevious-v0": {"mean_return": lambda kw: 1 / kw.get("n_cards", 4)},
}

KNOBS: dict[tuple[str, str], str] = {
    ("RecurrentRL/TMaze-v0", "corridor_length"): "corridor length (steps the cue must be remembered)",
    ("RecurrentRL/TMaze-v0", "n_cues"): "cue bits to remember",
    ("RecurrentRL/PixelMemoryMaze-v0", "corridor_length"): "corridor length (cells)",
    ("RecurrentRL/RepeatPrevious-v0", "k"): "k (cards back to repeat)",
    ("RecurrentRL/CountRecall-v0", "episode_length"): "episode length (steps)",
}

METRIC_LABELS = {
    "success_rate": "success rate (fraction of evaluation episodes)",
    "mean_return": "mean episode return",
    "max_mean_return": "max mean episode return (MMER)",
}


def env_name(env: EnvConfig) -> str:
    """The env's registered id (or its entry point)."""
    return env.id if env.id is not None else str(getattr(env, "entry_point", ""))


def memoryless_bound(env_id: str, kwargs: dict[str, Any], metric: str) -> float | None:
    """The best ``metric`` of a memoryless policy on this env, where the env states one."""
    bound = MEMORYLESS.get(env_id, {}).get(metric)
    return None if bound is None else float(bound(kwargs))


def knob_label(env_id: str, key: str) -> str:
    """An axis label for a grid key (``env.kwargs.corridor_length`` on TMaze: what it measures)."""
    name = key.rsplit(".", 1)[-1]
    if key.startswith("env.kwargs."):
        return KNOBS.get((env_id, name), name)
    return key
