"""Search spaces: dotted config key -> distribution, read from YAML and checked like a config.

```yaml
algo.learning_rate: {log_uniform: [1.0e-4, 3.0e-3]}
algo.n_steps: {choice: [16, 32, 64, 128]}       # the rollout length (and sequence length by default)
algo.sequence_length: {choice: [null, 16, 32]}  # null: n_steps
algo.gae_lambda: {uniform: [0.8, 1.0]}
policy.n_lstm_layers: {int: [1, 2]}
policy.critic: {choice: [separate, shared, none]}   # derived key, see DERIVED
policy.net_arch_width: {choice: [32, 64, 128]}      # derived key, see DERIVED
```

Every error is one ``file:line:column: key: ...`` line (a :class:`UserError`), raised before anything runs.
Sampling (:func:`sample`) turns a trial's values into ``--set`` overrides; combinations a config would
reject (``algo.batch_size`` above ``n_steps * n_envs``, ``algo.sequence_length`` above ``n_steps`` or with
``algo.implementation: sb3``) are clamped and said so.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recurrent_rl.config.loader import Key, _model_classes, check_unknown_keys, parse_yaml_file
from recurrent_rl.config.schema import Config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.constraints import clamp

DISTRIBUTIONS = ("log_uniform", "uniform", "int", "choice")
MAX_INT = 2**53  # Optuna stores parameters as floats: larger integers would come back changed
CRITIC = {  # policy.critic -> (enable_critic_lstm, shared_lstm)
    "separate": (True, False),
    "shared": (False, True),
    "none": (False, False),
}
DERIVED = {
    "policy.critic": "separate (own critic LSTM) | shared (one LSTM) | none (no critic LSTM)",
    "policy.net_arch_width": "the width of every layer of policy.net_arch (pi and vf)",
}
DEFAULT_SPACE: dict[str, dict[str, Any]] = {
    "algo.learning_rate": {"log_uniform": [1.0e-4, 3.0e-3]},
    "algo.n_steps": {"choice": [16, 32, 64, 128, 256]},
    "algo.batch_size": {"choice": [64, 128, 256, 512]},
    "algo.n_epochs": {"choice": [4, 8, 10, 20]},
    "algo.sequence_length": {"choice": [None, 8, 16, 32, 64]},
    "algo.refresh_states": {"choice": [False, True]},
    "algo.gamma": {"choice": [0.9, 0.95, 0.98, 0.99, 0.995]},
    "algo.gae_lambda": {"choice": [0.8, 0.9, 0.95, 0.98, 1.0]},
    "algo.ent_coef": {"log_uniform": [1.0e-6, 0.03]},
    "algo.clip_range": {"choice": [0.1, 0.2, 0.3]},
    "algo.max_grad_norm": {"choice": [0.3, 0.5, 1.0, 2.0, 5.0]},
    "policy.memory": {"choice": ["lstm", "gru"]},
    "policy.lstm_hidden_size": {"choice": [16, 32, 64, 128, 256]},
    "policy.n_lstm_layers": {"int": [1, 2]},
    "policy.forget_bias": {"choice": [0.0, 1.0, 3.0, 5.0]},
    "policy.critic": {"choice": ["separate", "shared", "none"]},
    "policy.net_arch_width": {"choice": [32, 64, 128]},
    "policy.activation": {"choice": ["tanh", "relu"]},
}


class Distribution(BaseModel):
    """Exactly one of ``log_uniform``, ``uniform``, ``int`` ([lo, hi], inclusive) or ``choice`` (a list)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    log_uniform: tuple[float, float] | None = None
    uniform: tuple[float, float] | None = None
    int_: tuple[int, int] | None = Field(None, alias="int")
    choice: list[Any] | None = None

    @field_validator("log_uniform", "uniform", "int_", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        """[low, high] of finite numbers (no true/false), integers within what Optuna stores exactly."""
        if not isinstance(value, list | tuple):
            return value
        if any(isinstance(item, bool) or not isinstance(item, int | float) for item in value):
            raise ValueError(f"expected [low, high] of numbers, got {list(value)}")
        if any(isinstance(item, float) and not math.isfinite(item) for item in value):
            raise ValueError(f"expected finite numbers, got {list(value)}")
        if any(isinstance(item, int) and abs(item) > MAX_INT for item in value):
            raise ValueError(f"expected integers from -2**53 to 2**53, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _valid(self) -> Distribution:
        given = [
            name for name in ("log_uniform", "uniform", "int_", "choice") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(DISTRIBUTIONS)}")
        if self.choice == []:
            raise ValueError("choice needs at least one value")
        if any(isinstance(value, float) and not math.isfinite(value) for value in self.choice or []):
            raise ValueError("expected finite numbers among the choices")
        low_high = self.log_uniform or self.uniform or self.int_
        if low_high is not None and not low_high[0] < low_high[1]:
            raise ValueError(f"expected [low, high] with low < high, got {list(low_high)}")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            raise ValueError("log_uniform needs low > 0")
        if self.choice is not None and len({_label(value) for value in self.choice}) != len(self.choice):
            raise ValueError("choice values must be distinct")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in DISTRIBUTIONS if getattr(self, _field(name)) is not None)

    def probes(self) -> list[Any]:
        """The values checked against the config: both ends, or every choice."""
        return list(self.choice if self.choice is not None else getattr(self, _field(self.kind)))

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        if self.log_uniform is not None:
            return trial.suggest_float(name, *self.log_uniform, log=True)
        if self.uniform is not None:
            return trial.suggest_float(name, *self.uniform)
        if self.int_ is not None:
            return trial.suggest_int(name, *self.int_)
        assert self.choice is not None
        labels = [_label(value) for value in self.choice]
        return self.choice[labels.index(trial.suggest_categorical(name, labels))]


@dataclass(frozen=True)
class SearchSpace:
    """Validated distributions by dotted key, and where it came from (None: the default space)."""

    params: dict[str, Distribution]
    source: Path | None = None

    def as_data(self) -> dict[str, dict[str, Any]]:
        return {key: {dist.kind: dist.probes()} for key, dist in self.params.items()}


@dataclass
class Sampled:
    """One trial's overrides (``KEY=VALUE``, in sampling order) and the constraints applied to them."""

    values: dict[str, Any] = field(default_factory=dict)
    constrained: list[str] = field(default_factory=list)

    @property
    def overrides(self) -> list[str]:
        return [f"{key}={yaml_value(value)}" for key, value in self.values.items()]


def default_space() -> SearchSpace:
    return SearchSpace({key: Distribution.model_validate(dist) for key, dist in DEFAULT_SPACE.items()})


def load_space(path: Path, base: dict[str, Any]) -> SearchSpace:
    """Read and check the space file at ``path`` against ``base`` (the config data the trials start from)."""
    data, marks = parse_yaml_file(path)
    if not isinstance(data, dict) or not data:
        raise UserError(f"{path}:1:1: expected a mapping of dotted config keys to distributions")
    params: dict[str, Distribution] = {}
    for key, value in data.items():
        where = marks.get((str(key),), f"{path}")
        params[str(key)] = _distribution(str(key), value, where, marks)
    space = SearchSpace(params, path)
    check_space(space, base, {(key,): marks.get((key,), str(path)) for key in params})
    return space


def _distribution(key: str, value: Any, where: str, marks: dict[Key, str]) -> Distribution:
    if not isinstance(value, dict) or len(value) != 1:
        raise UserError(
            f"{where}: {key}: got {value!r}, expected one distribution such as {{uniform: [0, 1]}}"
        )
    ((name, _),) = value.items()
    if name not in DISTRIBUTIONS:
        close = difflib.get_close_matches(str(name), DISTRIBUTIONS, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(DISTRIBUTIONS)}"
        raise UserError(f"{marks.get((key, str(name)), where)}: {key}.{name}: unknown distribution ({hint})")
    try:
        return Distribution.model_validate(value)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        message = first["msg"].removeprefix("Value error, ")
        got = value[name]
        raise UserError(
            f"{marks.get((key, str(name)), where)}: {key}.{name}: got {got!r}: {message}"
        ) from None


def check_space(space: SearchSpace, base: dict[str, Any], marks: dict[Key, str]) -> None:
    """Every key names a config value (or a derived key) and every probe value is valid for it."""
    for key, dist in space.params.items():
        where = marks.get((key,), "")
        if key in DERIVED:
            _check_derived(key, dist, where)
            continue
        parts = tuple(key.split("."))
        if len(parts) < 2 or parts[0] == "logging" or not all(parts):
            raise UserError(f"{where}: {key}: expected a dotted config key such as algo.learning_rate")
        nested: dict[str, Any] = {}
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = None
        check_unknown_keys(nested, Config, (), {parts[:depth]: where for depth in range(1, len(parts) + 1)})
        for value in dist.probes():
            _check_value(key, value, base, where)


def _check_derived(key: str, dist: Distribution, where: str) -> None:
    if key == "policy.critic":
        wrong = [value for value in dist.probes() if value not in CRITIC]
        if dist.choice is None or wrong:
            raise UserError(f"{where}: {key}: expected {{choice: [...]}} of {', '.join(CRITIC)}")
    elif any(not isinstance(value, int) or isinstance(value, bool) or value < 1 for value in dist.probes()):
        raise UserError(
            f"{where}: {key}: expected integer widths >= 1 ({{choice: [...]}} or {{int: [lo, hi]}})"
        )


def _check_value(key: str, value: Any, base: dict[str, Any], where: str) -> None:
    """Validate ``value`` in its section (cross-section constraints are the sampler's job)."""
    parts = key.split(".")
    section = _copy(base.get(parts[0]) or {})
    node = section
    for part in parts[1:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UserError(f"{where}: {key}: {part} is a value in the config, not a section")
        node = child
    node[parts[-1]] = value
    (model,) = _model_classes(Config.model_fields[parts[0]].annotation)
    try:
        model.model_validate(section)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        message = first["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
        raise UserError(f"{where}: {key}: value {value!r} is not valid here (expected {message})") from None


def sample(trial: optuna.Trial, space: SearchSpace, base: Config) -> Sampled:
    """Draw every parameter of ``space`` for ``trial``; clamp what the config would reject."""
    sampled = Sampled()
    for key, dist in space.params.items():
        value = dist.suggest(trial, key)
        if key == "policy.critic":
            critic, shared = CRITIC[value]
            sampled.values["policy.enable_critic_lstm"] = critic
            sampled.values["policy.shared_lstm"] = shared
        elif key == "policy.net_arch_width":
            sampled.values["policy.net_arch"] = _widened(base.policy.net_arch, int(value))
        else:
            sampled.values[key] = value
    sampled.constrained.extend(clamp(sampled.values, base))
    return sampled


def _widened(net_arch: list[int] | Mapping[Any, list[int]] | None, width: int) -> dict[str, list[int]]:
    if net_arch is None:
        return {"pi": [width], "vf": [width]}
    if isinstance(net_arch, list):
        return {"pi": [width] * max(len(net_arch), 1), "vf": [width] * max(len(net_arch), 1)}
    return {side: [width] * max(len(net_arch.get(side, [])), 1) for side in ("pi", "vf")}


def yaml_value(value: Any) -> str:
    """``value`` as a one-line YAML flow value (floats keep a dot: ``1.0e-05``, which YAML reads back)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf)
    return text.removesuffix("\n...\n").strip()


def _label(value: Any) -> Any:
    """A categorical choice as Optuna stores it: scalars as they are, lists and mappings as YAML text."""
    return value if value is None or isinstance(value, bool | int | float | str) else yaml_value(value)


def _field(name: str) -> str:
    return "int_" if name == "int" else name


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_copy(value) for value in data]
    return data
