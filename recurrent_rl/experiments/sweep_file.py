"""The sweep file: configs x grid points x seeds, validated like a config before anything runs.

```yaml
name: tmaze_horizon                                  # the sweep folder: <runs_dir>/sweeps/<name>/
configs: [../tmaze.yaml, ../tmaze_ppo.yaml]          # relative to this file
grid: {env.kwargs.corridor_length: [5, 10, 20]}      # optional; the product of all keys
seeds: [0, 1, 2]
set: {train.total_timesteps: 500000}                 # optional; applied to every run
```

Every error is one ``file:line:column: key: ...`` line (a :class:`UserError`). Every combination of a
config and a grid point is loaded as the config it will train (its env built once per distinct env section)
before anything is written.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recurrent_rl.config.loader import (
    Key,
    LoadedConfig,
    check_unknown_keys,
    experiment_name,
    format_validation_error,
    load_config,
    parse_yaml_file,
)
from recurrent_rl.config.values import STRICT_VALUES, Seed
from recurrent_rl.errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")
SWEEPS = "sweeps"  # <runs_dir>/sweeps/<name>/


class SweepFile(BaseModel):
    """The keys of a sweep file (the dotted config keys of ``grid`` and ``set`` are checked later)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, **STRICT_VALUES)

    name: str
    configs: list[str]
    grid: dict[str, list[Any]] | None = None
    seeds: list[Seed]
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its file, the configs' paths and names, and each (config, grid point) loaded."""

    source: Path
    spec: SweepFile
    configs: tuple[Path, ...]
    names: tuple[str, ...]
    loaded: dict[tuple[int, int], LoadedConfig]
    marks: dict[Key, str]

    @property
    def grid(self) -> dict[str, list[Any]]:
        return dict(self.spec.grid or {})

    def points(self) -> list[dict[str, Any]]:
        """Every grid point (dotted key -> value), in file order; one empty point without a grid."""
        keys = list(self.grid)
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*self.grid.values())]

    def folder(self, runs_dir: Path) -> Path:
        return runs_dir / SWEEPS / self.spec.name

    def resolved(self) -> dict[str, Any]:
        """What ``sweep.yaml`` in the sweep folder records, and what a rerun is compared with."""
        return {
            "name": self.spec.name,
            "configs": [str(path) for path in self.configs],
            "grid": self.grid,
            "seeds": list(self.spec.seeds),
            "set": dict(self.spec.set_),
            "source": str(self.source.resolve()),
        }


def yaml_value(value: Any) -> str:
    """``value`` as the text of a ``--set KEY=VALUE`` (a YAML scalar or flow collection)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000).strip()
    return text.removesuffix("...").strip()


def overrides(spec: SweepFile, point: dict[str, Any]) -> list[str]:
    """The ``--set`` items of a run at ``point`` (one torch thread each, unless ``set`` says otherwise)."""
    items = {"train.torch_threads": 1, **spec.set_, **point}
    return [f"{key}={yaml_value(value)}" for key, value in items.items()]


def load_sweep(path: Path) -> Sweep:
    """Read and validate the sweep file at ``path`` and every combination it describes."""
    if not path.is_file():
        raise UserError(f"{path}: sweep file not found" if not path.exists() else f"{path}: not a file")
    data, marks = parse_yaml_file(path)
    marks[()] = str(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1:1: expected a mapping with name, configs, grid, seeds and set")
    check_unknown_keys(data, SweepFile, (), marks)
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as error:
        raise UserError(format_validation_error(error, data, marks)) from None
    _check_spec(spec, marks)
    configs, names = _config_paths(spec, path, marks)
    sweep = Sweep(path, spec, configs, names, {}, marks)
    _load_combinations(sweep)
    return sweep


def _at(marks: dict[Key, str], *key: str) -> str:
    for depth in range(len(key), -1, -1):
        if key[:depth] in marks:
            return marks[key[:depth]]
    return ""


def _check_spec(spec: SweepFile, marks: dict[Key, str]) -> None:
    if not _NAME.match(spec.name):
        raise UserError(
            f"{_at(marks, 'name')}: name: got {spec.name!r}, expected a folder name of letters, "
            "digits, '_', '-', '.'"
        )
    if not spec.configs:
        raise UserError(f"{_at(marks, 'configs')}: configs: got [], expected at least one config file")
    if not spec.seeds:
        raise UserError(f"{_at(marks, 'seeds')}: seeds: got [], expected at least one seed")
    if len(set(spec.seeds)) != len(spec.seeds):
        raise UserError(f"{_at(marks, 'seeds')}: seeds: got {spec.seeds}, expected distinct seeds")
    if spec.grid is not None and not spec.grid:
        raise UserError(
            f"{_at(marks, 'grid')}: grid: got {{}}, expected at least one key such as "
            "env.kwargs.corridor_length: [5, 10] (or no grid key at all)"
        )
    for section, keys in (("grid", list(spec.grid or {})), ("set", list(spec.set_))):
        for key in keys:
            _check_key(section, key, marks)
    for key, values in (spec.grid or {}).items():
        where = _at(marks, "grid", key)
        if not values:
            raise UserError(f"{where}: grid.{key}: got [], expected a non-empty list of values")
        if len({yaml_value(value) for value in values}) != len(values):
            raise UserError(f"{where}: grid.{key}: got {values}, expected distinct values")
        if key in spec.set_:
            raise UserError(f"{_at(marks, 'set', key)}: set.{key}: also a grid key; give it in one place")


def _check_key(section: str, key: str, marks: dict[Key, str]) -> None:
    where = _at(marks, section, key)
    if not _DOTTED.match(key):
        raise UserError(f"{where}: {section}.{key}: expected a dotted config key such as algo.learning_rate")
    if key == "train.seed":
        raise UserError(f"{where}: {section}.{key}: give seeds in the seeds list")
    if key.startswith("logging."):
        raise UserError(f"{where}: {section}.{key}: the sweep chooses the run folders (use --runs-dir)")


def _config_paths(
    spec: SweepFile, path: Path, marks: dict[Key, str]
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    where = _at(marks, "configs")
    paths, names = [], []
    for entry in spec.configs:
        config = (path.parent / entry).resolve()
        if not config.is_file():
            raise UserError(f"{where}: configs: {entry}: config file not found ({config})")
        name = experiment_name(config)
        if name in names:
            raise UserError(f"{where}: configs: {entry}: a second config named {name!r} (names must differ)")
        paths.append(config)
        names.append(name)
    if len(set(paths)) != len(paths):
        raise UserError(f"{where}: configs: a config is listed twice")
    return tuple(paths), tuple(names)


def _load_combinations(sweep: Sweep) -> None:
    """Load every (config, grid point) as it will train; build each distinct env once."""
    from recurrent_rl.algo.build import check_spaces
    from recurrent_rl.training.device import check_device
    from recurrent_rl.vecenv.build import check_env_config

    checked: set[str] = set()
    for (i, config), (j, point) in itertools.product(enumerate(sweep.configs), enumerate(sweep.points())):
        items = [*overrides(sweep.spec, point), f"logging.experiment={sweep.names[i]}"]
        context = f" (config {sweep.spec.configs[i]}{''.join(f', {k}={v}' for k, v in point.items())})"
        try:
            loaded = load_config(config, items)
            check_device(loaded.config.train.device, str(config))
            env_key = loaded.config.env.model_dump_json()
            if env_key not in checked:
                check_spaces(loaded.config, *check_env_config(loaded.config.env))
                checked.add(env_key)
        except UserError as error:
            raise UserError(_relocate(str(error), sweep.marks) + context) from None
        sweep.loaded[(i, j)] = loaded


def _relocate(message: str, marks: dict[Key, str]) -> str:
    """Point an error about an override (``--set KEY: ...``) or about the env at the sweep file's key."""
    if message.startswith("--set "):
        dotted, _, rest = message.removeprefix("--set ").partition(": ")
        for section in ("grid", "set"):
            if (section, dotted) in marks:
                return f"{marks[(section, dotted)]}: {rest}"
    if message.startswith(("env.", "algo.", "policy.")):  # env and space checks name no file
        prefix = message.split(".", 1)[0] + "."
        keys = [key for key in marks if len(key) == 2 and key[0] in ("grid", "set")]
        related: list[Key] = [key for key in keys if key[1].startswith(prefix)] or [("configs",)]
        return f"{_at(marks, *related[0])}: {message}"
    return message


def stored_sweep(sweep_dir: Path) -> dict[str, Any] | None:
    """The resolved sweep the folder was started with, or None for a new sweep."""
    path = sweep_dir / "sweep.yaml"
    if not path.is_file():
        return None
    data, _ = parse_yaml_file(path)
    if not isinstance(data, dict) or not {"configs", "grid", "seeds", "set"} <= data.keys():
        raise UserError(f"{path}: not a sweep record (move the folder away to start the sweep again)")
    return data


def check_unchanged(sweep: Sweep, stored: dict[str, Any], sweep_dir: Path) -> None:
    """A UserError naming the key if the sweep changed other than by adding configs, seeds or grid values."""
    new, marks = sweep.resolved(), sweep.marks

    def refuse(key: Key, what: str) -> UserError:
        return UserError(
            f"{_at(marks, *key)}: {'.'.join(key)}: {what} since the sweep in {sweep_dir} started; "
            "a sweep may only gain configs, seeds or grid values "
            "(give it a new name to start a different sweep)"
        )

    removed_configs = [config for config in stored["configs"] if config not in new["configs"]]
    if removed_configs:
        raise refuse(("configs",), f"{removed_configs} removed")
    for key in sorted(set(stored["set"]) | set(new["set"])):
        if stored["set"].get(key) != new["set"].get(key):
            raise refuse(("set", key), f"was {stored['set'].get(key, 'not set')!r}")
    old_grid, new_grid = stored["grid"] or {}, new["grid"]
    for key in sorted(set(old_grid) | set(new_grid)):
        if key not in new_grid:
            raise refuse(("grid",), f"key {key} removed")
        if key not in old_grid:
            raise refuse(("grid", key), "key added")
        removed = [value for value in old_grid[key] if value not in new_grid[key]]
        if removed:
            raise refuse(("grid", key), f"values {removed} removed")
    removed_seeds = [seed for seed in stored["seeds"] if seed not in new["seeds"]]
    if removed_seeds:
        raise refuse(("seeds",), f"{removed_seeds} removed")
