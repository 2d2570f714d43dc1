"""``recurrent-rl tensorboard [RUNS_DIR]``: TensorBoard on a runs folder."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from recurrent_rl.errors import UserError

NAME = "tensorboard"
HELP = "start TensorBoard on a runs folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs_dir", nargs="?", type=Path, default=Path("runs"))
    parser.add_argument("--port", type=int, default=6006)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if not args.runs_dir.is_dir():
        raise UserError(f"tensorboard: {args.runs_dir}: no such runs folder")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(args.runs_dir)]
    command += ["--port", str(args.port)]
    return subprocess.call(command)
