"""``recurrent-rl train CONFIG`` and ``recurrent-rl train --resume RUN_DIR``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from recurrent_rl.commands.options import add_seed_option, add_set_option, run_name
from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, UserError

NAME = "train"
HELP = "train an agent from a YAML config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", type=Path, help="YAML config file (not with --resume)")
    add_set_option(parser, "override a config value, e.g. --set algo.learning_rate=3e-4 (repeatable)")
    add_seed_option(parser, None, "shorthand for --set train.seed=N")
    parser.add_argument("--runs-dir", help="shorthand for --set logging.runs_dir=DIR")
    parser.add_argument(
        "--run-name", type=run_name, help="name of the run folder (default: date-time-random)"
    )
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its checkpoint")
    parser.add_argument("--stop-file", type=Path, help=argparse.SUPPRESS)  # the tuner's: see stop_file.py


def config_overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` items, with ``--seed`` and ``--runs-dir`` spelled as overrides."""
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    if args.runs_dir is not None:
        overrides.append(f"logging.runs_dir={json.dumps(args.runs_dir)}")
    return overrides


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run
    from recurrent_rl.config.loader import load_config
    from recurrent_rl.experiments.stop_file import StopFile

    command = shlex.join(["recurrent-rl", *argv])
    after_eval = StopFile(args.stop_file) if args.stop_file is not None else None
    if args.resume is not None:
        extra = args.config is not None or args.overrides or args.seed is not None
        if extra or args.runs_dir or args.run_name:
            raise UserError("train --resume RUN_DIR takes no CONFIG, --set, --seed, --runs-dir or --run-name")
        saved = saved_run.resumable(args.resume)
        saved_run.check_files(saved, resume=True)  # before the heavy imports
        from recurrent_rl.training.train import resume

        outcome = resume(saved, command, after_eval=after_eval)
    else:
        if args.config is None:
            raise UserError("train: give a CONFIG file (or --resume RUN_DIR)")
        loaded = load_config(args.config, config_overrides(args))  # config errors answer before heavy imports
        from recurrent_rl.training.train import train

        outcome = train(loaded, command, run_name=args.run_name, after_eval=after_eval)
    print(outcome.run_dir)
    if outcome.status == "interrupted":
        print(f"recurrent-rl: {outcome.message}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.status == "failed":
        print(f"recurrent-rl: training stopped: {outcome.message}", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK
