"""``recurrent-rl tune CONFIG``: an Optuna search over PPO and LSTM hyperparameters, pruned, in parallel."""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

from recurrent_rl.commands.options import add_retries_option, add_set_option
from recurrent_rl.errors import UserError

if TYPE_CHECKING:
    from recurrent_rl.config.loader import LoadedConfig
    from recurrent_rl.tuning.space import SearchSpace
    from recurrent_rl.tuning.study import TuneSettings

NAME = "tune"
HELP = "search hyperparameters with Optuna (pruned, parallel, on shared storage)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_SEEDS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="YAML config every trial starts from")
    parser.add_argument("--space", type=Path, metavar="SPACE.yaml", help="search space (default: PPO + LSTM)")
    parser.add_argument("--trials", type=int, default=20, help="finished trials to reach (default: 20)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="trainings per trial (seeds train.seed, +1, ...); a trial's value is their mean (default: 1)",
    )
    parser.add_argument(
        "--jobs", type=int, help="trainings at once (default: 1; with --ray: the cluster's CPUs)"
    )
    parser.add_argument(
        "--storage", metavar="URL", help="database URL (default: sqlite:///<study folder>/study.db)"
    )
    parser.add_argument("--study", metavar="NAME", help="study name and folder (default: the config's name)")
    parser.add_argument(
        "--runs-dir",
        help="the study folder is RUNS_DIR/studies/NAME (default: the config's logging.runs_dir)",
    )
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
        help="run each training as a Ray task on ray.init(ADDRESS) (no address: a local Ray instance)",
    )
    add_retries_option(parser)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.training.signals import signals_as_interrupt

    with signals_as_interrupt():  # Ctrl-C and SIGTERM from the first moment: see tuning/scheduler.py
        _check_numbers(args)
        settings, loaded, space = _settings(args, argv)
        return _run(args, settings, loaded, space)


def _settings(args: argparse.Namespace, argv: list[str]) -> tuple[TuneSettings, LoadedConfig, SearchSpace]:
    from recurrent_rl.config.loader import load_config
    from recurrent_rl.tuning.space import check_space, default_space, load_space
    from recurrent_rl.tuning.study import TuneSettings, check_storage_url, default_storage, study_dir_of

    sets = [*args.overrides, *([f"logging.runs_dir={json.dumps(args.runs_dir)}"] if args.runs_dir else [])]
    loaded = load_config(args.config, sets)
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
    settings = TuneSettings(
        config=args.config.absolute(),
        sets=tuple(sets),
        space=args.space.absolute() if args.space else None,
        trials=args.trials,
        storage=storage,
        study=name,
        study_dir=study_dir,
        sampler=args.sampler,
        pruner=args.pruner,
        objective=args.objective,
        metric=args.metric,
        deadline=time.time() + args.timeout if args.timeout else None,
        command=shlex.join(["recurrent-rl", *argv]),
        seeds=args.seeds,
        retries=args.retries,
    )
    return settings, loaded, space


def _run(args: argparse.Namespace, settings: TuneSettings, loaded: LoadedConfig, space: SearchSpace) -> int:
    from recurrent_rl.experiments.executors import Executor, LocalExecutor, RayExecutor
    from recurrent_rl.tuning.identity import study_identity
    from recurrent_rl.tuning.runner import check_writable, run_study
    from recurrent_rl.vecenv.build import check_env_config

    check_env_config(loaded.config.env)  # a bad env answers before anything is written
    check_writable(settings.study_dir)
    identity = study_identity(loaded, space, settings.objective, settings.metric, settings.seeds)

    def make_executor() -> Executor:
        if args.ray is not None:
            return RayExecutor(args.ray or None, args.jobs)
        return LocalExecutor(args.jobs or 1)

    return run_study(settings, make_executor, identity, loaded, space)


def _check_numbers(args: argparse.Namespace) -> None:
    if args.trials < 1:
        raise UserError(f"tune: --trials {args.trials}: expected an integer >= 1")
    if not 1 <= args.seeds <= MAX_SEEDS:
        raise UserError(f"tune: --seeds {args.seeds}: expected an integer from 1 to {MAX_SEEDS}")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"tune: --jobs {args.jobs}: expected an integer >= 1")
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UserError(f"tune: --timeout {args.timeout}: expected a finite number of seconds > 0")
