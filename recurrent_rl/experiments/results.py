"""The runs a report reads, grouped by (config, grid point) across seeds.

A path is a sweep folder (its ``index.json`` names each run's config and grid point), an experiment
folder (run folders side by side) or a run folder. Outside a sweep, a group's "grid point" is what its
resolved config sets differently from the other runs of the same experiment (seed and logging aside), by
dotted key; a setting is any YAML value (a number, a list such as ``policy.net_arch``, a schedule).
Folders that look like runs but cannot be read as one are skipped, each with its reason.
Run folders are read only through :mod:`recurrent_rl.artifacts.records` and their ``config.yaml``.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from recurrent_rl.artifacts import records, run_folder
from recurrent_rl.artifacts.records import EvalRecord
from recurrent_rl.config.loader import load_config
from recurrent_rl.config.schema import Config
from recurrent_rl.errors import UserError
from recurrent_rl.experiments import plan

Point = tuple[tuple[str, Any], ...]
RUN_ENTRIES = (run_folder.CONFIG, run_folder.SUMMARY, run_folder.COMMAND, run_folder.CHECKPOINTS)


def point_key(point: Point) -> str:
    """A hashable identity of a grid point, whose values may be lists or mappings."""
    return json.dumps(point, sort_keys=True, default=str)


@dataclass(frozen=True)
class Skipped:
    """A folder that looks like a run but is not read as one, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class RunResult:
    """One run folder as a report sees it."""

    run_dir: Path
    config: str
    point: Point | None  # None: not from a sweep (found from the configs later)
    seed: int
    status: str
    history: tuple[EvalRecord, ...]
    final: EvalRecord | None
    cfg: Config
    flat: dict[str, Any]
    resumed_at: tuple[int, ...] = ()  # checkpoints it continued from (fresh random streams from there)

    @property
    def usable(self) -> bool:
        """Finished, with a final evaluation (or at least one evaluation)."""
        return self.status in records.FINISHED and self.final is not None


@dataclass
class Group:
    """The runs of one config at one grid point: the seeds of a measurement."""

    config: str
    point: Point
    runs: list[RunResult] = field(default_factory=list)
    excluded: list[RunResult] = field(default_factory=list)

    @property
    def cfg(self) -> Config:
        return (self.runs or self.excluded)[0].cfg


def collect(paths: list[Path]) -> tuple[list[RunResult], list[Skipped]]:
    """Every run under ``paths`` (each path: a sweep, experiment or run folder), each once, and the
    folders skipped."""
    found: dict[Path, RunResult] = {}
    skipped: dict[Path, Skipped] = {}
    for path in paths:
        runs, skips = _runs_of(path)
        for result in runs:
            found.setdefault(result.run_dir.resolve(), result)
        skipped.update((skip.path.resolve(), skip) for skip in skips)
    if not found:
        first = next(iter(skipped.values()), None)
        why = f" ({len(skipped)} skipped; {first.path}: {first.reason})" if first is not None else ""
        raise UserError(f"report: no run folders in {', '.join(map(str, paths))}{why}")
    return _with_points(list(found.values())), list(skipped.values())


def group(results: list[RunResult]) -> list[Group]:
    """Groups in order of first appearance; runs that did not finish are kept aside as ``excluded``."""
    groups: dict[tuple[str, str], Group] = {}
    for result in results:
        point = result.point or ()
        entry = groups.setdefault((result.config, point_key(point)), Group(result.config, point))
        (entry.runs if result.usable else entry.excluded).append(result)
    for entry in groups.values():
        entry.runs.sort(key=lambda result: result.seed)
    return list(groups.values())


def _runs_of(path: Path) -> tuple[list[RunResult], list[Skipped]]:
    if (path / plan.INDEX).is_file():
        results, skipped = [], []
        for entry in plan.read_index(path):
            run_dir = path / str(entry.get("folder"))
            if (run_dir / run_folder.CONFIG).is_file():
                point = tuple((str(key), value) for key, value in dict(entry.get("grid") or {}).items())
                results.append(_read(run_dir, str(entry.get("config")), point))
            else:
                made = "no config.yaml" if run_dir.exists() else "no run folder yet"
                skipped.append(Skipped(run_dir, f"{made} ({entry.get('status', 'pending')} in the index)"))
        return results, skipped
    if (path / run_folder.CONFIG).is_file():
        return [_read(path, None, None)], []
    if path.is_dir():
        children = sorted(child for child in path.iterdir() if child.is_dir() and _looks_like_run(child))
        runs = [child for child in children if (child / run_folder.CONFIG).is_file()]
        if runs:
            skipped = [Skipped(child, "no config.yaml") for child in children if child not in runs]
            return [_read(child, None, None) for child in runs], skipped
    raise UserError(
        f"report: {path}: not a sweep folder (with {plan.INDEX}), an experiment folder or a run folder "
        f"(with {run_folder.CONFIG})"
    )


def _looks_like_run(folder: Path) -> bool:
    return not folder.name.startswith(".") and any((folder / name).exists() for name in RUN_ENTRIES)


def _read(run_dir: Path, config: str | None, point: Point | None) -> RunResult:
    loaded = load_config(run_dir / run_folder.CONFIG)
    cfg = loaded.config
    summary = records.read_summary(run_dir)
    history = tuple(records.read_history(run_dir))
    final = summary.final_eval if summary is not None and summary.final_eval is not None else None
    if final is None and history:
        final = history[-1]
    status = summary.status if summary is not None else "pending"
    flat = _flatten(cfg, cfg.model_dump(mode="json", by_alias=True))
    label = config or cfg.logging.experiment or run_dir.parent.name
    resumed_at = tuple(summary.resumed_at) if summary is not None else ()
    return RunResult(run_dir, label, point, cfg.train.seed, status, history, final, cfg, flat, resumed_at)


def _flatten(model: BaseModel, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Each setting of a config by dotted key (``algo.learning_rate``, ``env.kwargs.corridor_length``):
    sections and free mappings (``env.kwargs``) are opened; other values (a schedule, a ``net_arch`` list
    or mapping, the wrappers) are settings of their own, as JSON-ready data."""
    flat: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        key = info.alias or name
        value, dumped = getattr(model, name), data[key]
        if isinstance(value, BaseModel) and info.annotation is type(value):
            flat.update(_flatten(value, dumped, f"{prefix}{key}."))
        elif typing.get_origin(info.annotation) is dict and dumped:
            flat.update({f"{prefix}{key}.{item}": setting for item, setting in dumped.items()})
        else:
            flat[prefix + key] = dumped
    return flat


def _with_points(results: list[RunResult]) -> list[RunResult]:
    """Give runs outside a sweep the config keys that tell them apart within their experiment."""
    ignored = ("train.seed", "logging.")
    by_config: dict[str, list[RunResult]] = {}
    for result in results:
        if result.point is None:
            by_config.setdefault(result.config, []).append(result)
    points: dict[Path, Point] = {}
    for members in by_config.values():
        keys = sorted({key for result in members for key in result.flat if not key.startswith(ignored)})
        differing = [key for key in keys if len({repr(r.flat.get(key)) for r in members}) > 1]
        for result in members:
            points[result.run_dir] = tuple((key, result.flat.get(key)) for key in differing)
    return [
        result if result.point is not None else replace(result, point=points[result.run_dir])
        for result in results
    ]
