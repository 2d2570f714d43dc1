"""``recurrent-rl tune CONFIG``: an Optuna search over PPO and LSTM hyperparameters, pruned, in parallel."""

from __future__ import annotations

import argparse
import re
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

from recurrent_rl.commands.options import add_set_option
from recurrent_rl.errors import UserError

if TYPE_CHECKING:
    from recurrent_rl.config.loader import LoadedConfig
    from recurrent_rl.tuning.space import SearchSpace
    from recurrent_rl.tuning.study import TuneSettings

NAME = "tune"
HELP = "search hyperparameters with Optuna (pruned, parallel, on shared storage)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="YAML config every trial starts from")
    parser.add_argument("--space", type=Path, metavar="SPACE.yaml", help="search space (default: PPO + LSTM)")
    parser.add_argument("--trials", type=int, default=20, help="finished trials to reach (default: 20)")
    parser.add_argument(
        "--jobs", type=int, help="worker processes (default: 1; with --ray: the cluster's CPUs)"
    )
    parser.add_argument(
        "--storage", metavar="URL", help="database URL (default: sqlite:///<study folder>/study.db)"
    )
    parser.add_argument("--study", metavar="NAME", help="study name and folder (default: the config's name)")
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe")
    parser.add_argument("--pruner", choices=("median", "halving", "none"), default="median")
    parser.add_argument(
        "--objective",
        choices=("final", "auc"),
        default="final",
        help="final: mean of the last 3 evaluations; auc: mean level of the evaluation curve",
    )
    parser.add_argument(
        "--metric",
        choices=("auto", "success_rate", "mean_return"),
        default="auto",
        help="auto: the success rate where the env reports success, else the mean return",
    )
    add_set_option(parser, "override a config value for every trial, e.g. --set train.total_timesteps=50000")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="start no trial after this long")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run the workers as Ray tasks on ray.init(ADDRESS)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--command", dest="tune_command", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.config.loader import load_config
    from recurrent_rl.tuning.space import check_space, default_space, load_space
    from recurrent_rl.tuning.study import TuneSettings, check_storage_url, default_storage, study_dir_of

    _check_numbers(args)
    loaded = load_config(args.config, args.overrides)
    cfg = loaded.config
    if cfg.train.eval_freq <= 0:
        raise UserError(f"{args.config}: train.eval_freq: tuning needs evaluations (train.eval_freq > 0)")
    if args.space is not None:
        space = load_space(args.space, loaded.data)
    else:
        space = default_space()
        check_space(space, loaded.data, {})
    name = args.study or cfg.logging.experiment
    if not name or not _NAME.match(name):
        raise UserError(f"--study {name}: expected a folder name of letters, digits, '_', '-', '.'")
    study_dir = study_dir_of(Path(cfg.logging.runs_dir), name)
    storage = args.storage or default_storage(study_dir)
    check_storage_url(storage)
    deadline = args.deadline if args.deadline else (time.time() + args.timeout if args.timeout else None)
    settings = TuneSettings(
        config=args.config.absolute(),
        sets=tuple(args.overrides),
        space=args.space.absolute() if args.space else None,
        trials=args.trials,
        storage=storage,
        study=name,
        study_dir=study_dir,
        sampler=args.sampler,
        pruner=args.pruner,
        objective=args.objective,
        metric=args.metric,
        deadline=deadline,
        command=args.tune_command or shlex.join(["recurrent-rl", *argv]),
    )
    if args.worker:
        from recurrent_rl.tuning.worker import run_worker

        return run_worker(settings, space)
    return _run_parent(args, settings, loaded, space)


def _run_parent(
    args: argparse.Namespace, settings: TuneSettings, loaded: LoadedConfig, space: SearchSpace
) -> int:
    from recurrent_rl.experiments.executors import Executor, LocalExecutor, RayExecutor
    from recurrent_rl.tuning.objective import base_evaluations
    from recurrent_rl.tuning.runner import check_writable, run_study
    from recurrent_rl.vecenv.build import check_env_config

    check_env_config(loaded.config.env)  # a bad env answers before anything is written
    check_writable(settings.study_dir)
    identity = {
        "config": loaded.resolved_yaml(),
        "space": space.as_data(),
        "objective": settings.objective,
        "metric": settings.metric,
    }

    def make_executor() -> Executor:
        if args.ray is not None:
            return RayExecutor(args.ray or None, args.jobs)
        return LocalExecutor(args.jobs or 1)

    return run_study(settings, worker_args(settings), make_executor, identity, base_evaluations(loaded))


def worker_args(settings: TuneSettings) -> list[str]:
    """The ``recurrent-rl`` arguments of one worker of ``settings``."""
    args = ["tune", str(settings.config)]
    for item in settings.sets:
        args += ["--set", item]
    if settings.space is not None:
        args += ["--space", str(settings.space)]
    args += ["--trials", str(settings.trials), "--storage", settings.storage, "--study", settings.study]
    args += ["--sampler", settings.sampler, "--pruner", settings.pruner]
    args += ["--objective", settings.objective, "--metric", settings.metric]
    if settings.deadline is not None:
        args += ["--deadline", repr(settings.deadline)]
    return [*args, "--command", settings.command, "--worker"]


def _check_numbers(args: argparse.Namespace) -> None:
    if args.trials < 1:
        raise UserError(f"tune: --trials {args.trials}: expected an integer >= 1")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"tune: --jobs {args.jobs}: expected an integer >= 1")
    if args.timeout is not None and args.timeout <= 0:
        raise UserError(f"tune: --timeout {args.timeout}: expected a number of seconds > 0")
