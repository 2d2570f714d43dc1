"""``recurrent-rl sweep SWEEP.yaml``: train configs x grid points x seeds on every core or on Ray."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from recurrent_rl.commands.options import add_retries_option
from recurrent_rl.errors import UserError

NAME = "sweep"
HELP = "train configs x grid points x seeds from a sweep file, on every core or a Ray cluster"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep", nargs="?", type=Path, metavar="SWEEP.yaml", help="the sweep file")
    parser.add_argument(
        "--jobs",
        type=int,
        help="trainings at once (default: the number of cores; with --ray: the cluster's CPUs)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run each training as a Ray task on ray.init(ADDRESS) (no address: a local Ray instance)",
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=Path("runs"),
        help="the sweep folder is RUNS_DIR/sweeps/NAME (default: runs)",
    )
    add_retries_option(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="print the runs and what would be done; start none"
    )


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.experiments import runner
    from recurrent_rl.experiments.executors import Executor, LocalExecutor, RayExecutor
    from recurrent_rl.experiments.sweep_file import load_sweep

    if args.sweep is None and args.ray and Path(args.ray).is_file():  # `sweep --ray SWEEP.yaml`
        args.sweep, args.ray = Path(args.ray), ""
    if args.sweep is None:
        raise UserError("sweep: give a SWEEP.yaml file (see recurrent-rl sweep --help)")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"sweep: --jobs {args.jobs}: expected an integer >= 1")
    sweep = load_sweep(args.sweep)
    if args.dry_run:
        return runner.dry_run(sweep, args.runs_dir)

    def make_executor() -> Executor:
        if args.ray is not None:
            return RayExecutor(args.ray or None, args.jobs)
        return LocalExecutor(args.jobs or _cores())

    return runner.run_sweep(sweep, args.runs_dir, make_executor, retries=args.retries)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
