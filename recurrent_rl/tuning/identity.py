"""What a study searches, its *identity*, compared key by key whenever a command joins the study.

The identity is the config the trials start from without the settings that are a machine's own
(:data:`MACHINE_LOCAL`: where runs are written and env modules looked for, the device, threads, the
progress bar), the search space, the objective, the metric and the seeds per trial. So commands on several
machines, with other runs folders and checkout paths, join one study, and a command that would search
something else is refused with each key that differs and both values, one per line.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
import yaml

from recurrent_rl.config.loader import LoadedConfig
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.space import SearchSpace, yaml_value

MACHINE_LOCAL = ("logging", "env.search_path", "train.device", "train.torch_threads", "train.progress_bar")
IDENTITY = "identity"  # the study's user attribute
SHOWN = 20  # differing keys listed in the refusal


def study_identity(
    loaded: LoadedConfig, space: SearchSpace, objective: str, metric: str, seeds: int
) -> dict[str, Any]:
    """The identity of the study this command runs, as flat dotted keys (JSON values)."""
    config = loaded.config.model_dump(mode="json", by_alias=True)
    identity = {f"config.{key}": value for key, value in _config_keys(config).items()}
    identity.update({f"space.{key}": dist for key, dist in space.as_data().items()})
    identity.update(objective=objective, metric=metric, seeds=seeds)
    normalized: dict[str, Any] = json.loads(json.dumps(identity))  # as the storage gives it back
    return normalized


def _config_keys(config: dict[str, Any]) -> dict[str, Any]:
    flat = _flatten(config)
    return {
        key: value
        for key, value in flat.items()
        if not any(key == local or key.startswith(local + ".") for local in MACHINE_LOCAL)
    }


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists and scalars (and empty mappings) are values."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def stored_identity(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The identity a study recorded; None for a new study. Studies started before identities recorded
    their resolved config as YAML text, the space, objective and metric, each apart."""
    if IDENTITY in attrs:
        return dict(attrs[IDENTITY])
    if "config" not in attrs:
        return None
    config = yaml.safe_load(attrs["config"]) if isinstance(attrs["config"], str) else {}
    identity = {f"config.{key}": value for key, value in _config_keys(config or {}).items()}
    identity.update({f"space.{key}": dist for key, dist in (attrs.get("space") or {}).items()})
    identity.update(objective=attrs.get("objective"), metric=attrs.get("metric"), seeds=1)
    normalized: dict[str, Any] = json.loads(json.dumps(identity))
    return normalized


def check_same_study(study: optuna.Study, identity: dict[str, Any]) -> None:
    """Record the identity of a new study; refuse a command whose search differs from the study's."""
    stored = stored_identity(study.user_attrs)
    if stored is None or IDENTITY not in study.user_attrs:
        if stored is not None:
            _refuse_differences(study.study_name, stored, identity)
        study.set_user_attr(IDENTITY, identity)
        return
    _refuse_differences(study.study_name, stored, identity)


def _refuse_differences(name: str, stored: dict[str, Any], identity: dict[str, Any]) -> None:
    keys = sorted(key for key in set(stored) | set(identity) if stored.get(key) != identity.get(key))
    if not keys:
        return
    lines = [f"  {key}: {_shown(stored, key)} in the study, {_shown(identity, key)} here" for key in keys]
    more = [f"  ... and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else []
    first = (
        f"--study {name}: this command searches something else than the study; give a new --study NAME "
        f"to start another study ({len(keys)} difference{'s' if len(keys) > 1 else ''}):"
    )
    raise UserError("\n".join([first, *lines[:SHOWN], *more]))


def _shown(identity: dict[str, Any], key: str) -> str:
    return yaml_value(identity[key]) if key in identity else "not set"
