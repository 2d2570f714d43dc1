"""Running a sweep, top to bottom: check it against its folder, record it, train every run that has not
finished (:mod:`.scheduler`: at most ``slots`` at once, seed by seed, lost jobs resubmitted), keep the index
current, print a table of every run.

One failing run never stops the others. Ctrl-C (or SIGTERM) sends one SIGINT to every running training,
which checkpoints and ends ``interrupted``; running the same command again completes the sweep.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import yaml

from recurrent_rl.artifacts import records, run_folder
from recurrent_rl.artifacts.atomic import atomic_write_text
from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, UserError
from recurrent_rl.experiments import plan
from recurrent_rl.experiments.executors import Executor
from recurrent_rl.experiments.plan import Run
from recurrent_rl.experiments.scheduler import Scheduler
from recurrent_rl.experiments.sweep_file import Sweep, check_unchanged, stored_sweep
from recurrent_rl.training.signals import signals_as_interrupt

RETRIES = 2  # resubmissions of a run whose job was lost (--retries; the command sets it)


def prepare(sweep: Sweep, runs_dir: Path) -> tuple[Path, list[Run]]:
    """The sweep folder and the runs; a UserError if the folder holds a different sweep."""
    sweep_dir = sweep.folder(runs_dir)
    stored = stored_sweep(sweep_dir)
    if stored is not None:
        check_unchanged(sweep, stored, sweep_dir)
    return sweep_dir, plan.plan_runs(sweep)


def dry_run(sweep: Sweep, runs_dir: Path) -> int:
    """Print what running the sweep would do with each run; write nothing."""
    sweep_dir, runs = prepare(sweep, runs_dir)
    rows = [("action", "run", "config", "seed")]
    for run in runs:
        config = os.path.relpath(run.config_path)
        rows.append((plan.next_action(sweep_dir / run.folder), run.folder, config, str(run.seed)))
    _print_table(rows)
    print(f"{len(runs)} runs in {sweep_dir}")
    return EXIT_OK


def run_sweep(
    sweep: Sweep, runs_dir: Path, make_executor: Callable[[], Executor], retries: int = RETRIES
) -> int:
    """Train the sweep to the end (or to Ctrl-C); the exit status: 0 all finished, 1 not, 130 interrupted."""
    sweep_dir, runs = prepare(sweep, runs_dir)
    executor = make_executor()  # before anything is written: Ray may refuse
    try:
        _make_folder(sweep_dir)
        with _sweep_lock(sweep_dir), signals_as_interrupt():
            atomic_write_text(sweep_dir / plan.RESOLVED, yaml.safe_dump(sweep.resolved(), sort_keys=False))
            states = {run.folder: plan.run_status(sweep_dir / run.folder) for run in runs}
            plan.write_index(sweep_dir, runs, states)
            order = plan.execution_order(runs, list(sweep.spec.seeds))
            interrupted = Scheduler(executor, sweep_dir, runs, states, retries).run(order)
    finally:
        executor.close()
    return _finish(sweep_dir, runs, states, interrupted)


def _make_folder(sweep_dir: Path) -> None:
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--runs-dir: cannot create {sweep_dir} ({error.strerror})") from None


@contextlib.contextmanager
def _sweep_lock(sweep_dir: Path) -> Iterator[None]:
    """Held while this process runs the sweep: a second sweep process on the folder is refused."""
    if run_folder.is_locked(sweep_dir):
        raise UserError(f"{sweep_dir}: another process is running this sweep right now")
    with run_folder.run_lock(sweep_dir):
        yield


def _finish(sweep_dir: Path, runs: list[Run], states: dict[str, tuple[str, str]], interrupted: bool) -> int:
    rows = [("run", "status", "timesteps", "message")]
    for run in runs:
        status, message = states[run.folder]
        steps = _timesteps(sweep_dir / run.folder) if status != "pending" else "-"
        rows.append((run.folder, status, steps, message))
    _print_table(rows)
    print(sweep_dir)
    unfinished = sum(states[run.folder][0] not in records.FINISHED for run in runs)
    if interrupted:
        print(
            f"recurrent-rl: interrupted; the same command continues ({unfinished} runs left)", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    if unfinished:
        message = f"{unfinished} of {len(runs)} runs did not finish; the same command resumes them"
        print(f"recurrent-rl: {message}", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


def _timesteps(run_dir: Path) -> str:
    try:
        summary = records.read_summary(run_dir)
    except UserError:
        return "-"
    return f"{summary.total_timesteps:,}" if summary is not None else "-"


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
