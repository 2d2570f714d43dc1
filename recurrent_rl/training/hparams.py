"""The config as flat hyperparameters for TensorBoard's HParams plugin."""

from __future__ import annotations

import re
from typing import Any

from recurrent_rl.config.schema import Config, LinearSchedule

HPARAM_METRICS = ["eval/mean_return", "eval/success_rate", "eval/mean_ep_length"]


def hparams(cfg: Config) -> dict[str, float | int | str | bool]:
    """Flat hyperparameters: env id and n_envs, every algo and policy key, seed and budget."""
    flat: dict[str, float | int | str | bool] = {"env.id": cfg.env.name, "env.n_envs": cfg.env.n_envs}
    for section in ("algo", "policy"):
        for key, value in getattr(cfg, section).model_dump().items():
            flat[f"{section}.{key}"] = _hparam_value(value)
    flat["train.seed"] = cfg.train.seed
    flat["train.total_timesteps"] = cfg.train.total_timesteps
    return flat


def _hparam_value(value: Any) -> float | int | str | bool:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict) and "linear" in value:
        start, end = value["linear"]
        return f"linear({start}->{end})"
    if isinstance(value, LinearSchedule):
        return f"linear({value.linear[0]}->{value.linear[1]})"
    return re.sub(r"\s+", "", str(value))
