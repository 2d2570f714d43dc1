"""The runs of a sweep: deterministic folder names, what a (re)run does with each, and the index.

A run's folder is ``<sweep>/<config>/<grid point>-seed<k>`` (``corridor_length=5-seed0``), so running the
sweep again finds every run it started: a finished run is skipped, an unfinished one with a checkpoint is
resumed, one that never wrote a checkpoint is moved to ``<sweep>/.discarded/`` and started again, and a
run another process is still training is waited for. Nothing is ever trained twice or overwritten.
"""

from __future__ import annotations

import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from recurrent_rl.artifacts import records, run_folder, saved_run
from recurrent_rl.artifacts.atomic import atomic_write_json
from recurrent_rl.errors import EXIT_INTERRUPTED, UserError
from recurrent_rl.experiments.sweep_file import Sweep, overrides, yaml_value

INDEX = "index.json"
RESOLVED = "sweep.yaml"
LOGS = "logs"
DISCARDED = ".discarded"
Action = Literal["start", "resume", "restart", "skip", "busy"]


@dataclass(frozen=True)
class Run:
    """One training of a sweep: a config at a grid point with a seed, and its folder in the sweep."""

    config: str
    config_path: Path
    point: dict[str, Any]
    seed: int
    folder: str
    overrides: tuple[str, ...]
    total_timesteps: int

    def train_args(self, sweep_dir: Path) -> list[str]:
        """The ``recurrent-rl`` arguments that start this run."""
        sets = [item for override in self.overrides for item in ("--set", override)]
        parent, name = self.folder.split("/")
        return [
            "train",
            str(self.config_path),
            *sets,
            "--set",
            f"logging.experiment={parent}",
            "--seed",
            str(self.seed),
            "--runs-dir",
            str(sweep_dir),
            "--run-name",
            name,
        ]

    def resume_args(self, sweep_dir: Path) -> list[str]:
        return ["train", "--resume", str(sweep_dir / self.folder)]


def plan_runs(sweep: Sweep) -> list[Run]:
    """Every run, configs x grid points x seeds, in that order (the index's order)."""
    points = sweep.points()
    short = short_keys(list(sweep.grid))
    runs: list[Run] = []
    seen: dict[str, dict[str, Any]] = {}
    for i, (config, path) in enumerate(zip(sweep.names, sweep.configs, strict=True)):
        for j, point in enumerate(points):
            loaded = sweep.loaded[(i, j)]
            for seed in sweep.spec.seeds:
                name = point_label(point, short, separator=",")
                folder = f"{config}/{name + '-' if name else ''}seed{seed}"
                if folder in seen and seen[folder] != point:
                    where = sweep.marks.get(("grid",), str(sweep.source))
                    raise UserError(
                        f"{where}: grid: {seen[folder]} and {point} give the same folder {folder}"
                    )
                seen[folder] = point
                items = tuple(overrides(sweep.spec, point))
                total = loaded.config.train.total_timesteps
                runs.append(Run(config, path, point, seed, folder, items, total))
    return runs


def execution_order(runs: list[Run], seeds: list[int]) -> list[Run]:
    """Seed by seed, so that a partial sweep already covers every (config, grid point)."""
    return sorted(runs, key=lambda run: seeds.index(run.seed))


def short_keys(keys: list[str]) -> dict[str, str]:
    """Each dotted key's last part, or the whole key where two last parts are the same."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: name if last.count(name) == 1 else key for key, name in zip(keys, last, strict=True)}


def point_label(point: dict[str, Any], short: dict[str, str] | None = None, separator: str = ", ") -> str:
    """``corridor_length=5`` (a folder-safe text for each value)."""
    parts = []
    for key, value in point.items():
        text = value if isinstance(value, str) else yaml_value(value)
        parts.append(f"{(short or {}).get(key, key)}={re.sub(r'[^A-Za-z0-9_.+-]', '_', text)}")
    return separator.join(parts)


def next_action(run_dir: Path) -> Action:
    """What running the sweep does with ``run_dir`` now."""
    if not run_dir.exists():
        return "start"
    if run_folder.is_locked(run_dir):
        return "busy"
    try:
        summary = records.read_summary(run_dir)
    except UserError:  # written atomically, so only by hand: decide by the checkpoints
        summary = None
    if summary is not None and summary.status in records.FINISHED:
        return "skip"
    return "resume" if saved_run.newest_checkpoint(run_dir) is not None else "restart"


def discard(run_dir: Path, sweep_dir: Path) -> Path:
    """Move a run folder without a checkpoint out of the way of its restart (nothing is deleted)."""
    target = sweep_dir / DISCARDED / f"{run_dir.relative_to(sweep_dir)}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    run_dir.rename(target)
    return target


def run_status(run_dir: Path) -> tuple[str, str]:
    """``(status, message)`` of a run folder from its summary; ``pending`` before it has one, ``interrupted``
    when it says ``running`` but no process holds it (it was killed)."""
    try:
        summary = records.read_summary(run_dir) if run_dir.is_dir() else None
    except UserError as error:
        return "failed", str(error)
    if summary is None:
        return "pending", ""
    if summary.status == "running" and not run_folder.is_locked(run_dir):
        return "interrupted", "killed while training (resumes from its newest checkpoint)"
    return summary.status, summary.message


def outcome(run_dir: Path, log: Path, code: int, reason: str = "") -> tuple[str, str]:
    """How a training process ended: its summary's status and message, else (killed, or refused to start)
    what its exit status, its log's last ``recurrent-rl:`` line or ``reason`` say."""
    status, message = run_status(run_dir)
    if status in records.FINISHED:
        return status, message
    if status not in ("failed", "interrupted"):  # it ended without recording how
        stopped = code in (EXIT_INTERRUPTED, -signal.SIGINT, -signal.SIGTERM)  # while starting, say
        status, message = ("interrupted" if stopped else "failed"), ""
    ended = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    return status, message or last_message(log) or reason or ended


def last_message(log: Path) -> str:
    """The last ``recurrent-rl: ...`` line of a training's log."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    said = [line.removeprefix("recurrent-rl: ") for line in lines if line.startswith("recurrent-rl: ")]
    return said[-1] if said else ""


def write_index(
    sweep_dir: Path,
    runs: list[Run],
    states: dict[str, tuple[str, str]],
    retries: dict[str, int] | None = None,
) -> None:
    """``index.json``: every run's config, grid point, seed, folder, status, message and the times it was
    resubmitted after its job was lost (by this command)."""
    entries = []
    for run in runs:
        status, message = states.get(run.folder, ("pending", ""))
        entry: dict[str, Any] = {"config": run.config, "config_file": str(run.config_path), "grid": run.point}
        entry.update(seed=run.seed, folder=run.folder, status=status, message=message)
        entries.append({**entry, "retries": (retries or {}).get(run.folder, 0)})
    atomic_write_json(sweep_dir / INDEX, {"sweep": sweep_dir.name, "runs": entries})


def read_index(sweep_dir: Path) -> list[dict[str, Any]]:
    """The runs of a sweep folder's index."""
    data = records.read_json(sweep_dir / INDEX)
    entries = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise UserError(f"{sweep_dir / INDEX}: not a sweep index")
    return entries
