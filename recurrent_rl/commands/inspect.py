"""``recurrent-rl inspect RUN_DIR|MODEL_ZIP``: what a saved model is, without running or unpickling it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recurrent_rl.commands.output import TARGET_HELP, announce_run, print_rows
from recurrent_rl.errors import EXIT_OK

NAME = "inspect"
HELP = "describe a saved model without running or unpickling it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP", help=TARGET_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run

    saved = saved_run.locate(args.target, need_config=False)
    saved_run.check_files(saved, statistics=False)
    announce_run(saved)
    from recurrent_rl.restore.describe import describe_saved, format_report

    report = describe_saved(saved)
    if args.json:
        print(json.dumps(report))
    else:
        print_rows(format_report(report))
    return EXIT_OK
