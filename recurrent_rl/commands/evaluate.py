"""``recurrent-rl evaluate RUN_DIR|MODEL_ZIP``: play N episodes of a saved policy, report the statistics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from recurrent_rl.commands.options import add_seed_option, integer
from recurrent_rl.commands.output import TARGET_HELP, announce_run, print_rows
from recurrent_rl.errors import EXIT_OK

if TYPE_CHECKING:
    from recurrent_rl.artifacts.saved_run import SavedRun

NAME = "evaluate"
HELP = "evaluate a saved run or model"
MAX_EPISODES = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP", help=TARGET_HELP)
    parser.add_argument(
        "--episodes", type=integer(1, MAX_EPISODES), default=100, help="number of episodes (default 100)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="greedy actions (default)",
    )
    mode.add_argument("--stochastic", dest="deterministic", action="store_false", help="sample actions")
    add_seed_option(parser, 1_000_000, "seed of the evaluation envs (default 1000000)")
    parser.add_argument("--render", choices=["ansi"], help="print each step's ansi rendering")
    parser.add_argument("--video", type=Path, metavar="PATH", help="write the episodes to a .gif or .mp4")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --video file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run
    from recurrent_rl.artifacts.claims import Output, claim_outputs

    if args.video is not None:
        from recurrent_rl.evaluation.video import check_video_path

        check_video_path(args.video)
    saved = saved_run.locate(args.target)
    outputs = [Output(args.video)] if args.video is not None else []
    with claim_outputs("evaluate --video", outputs, args.force):
        saved_run.check_files(saved)  # before the heavy imports
        announce_run(saved)
        return _evaluate(args, saved)


def _evaluate(args: argparse.Namespace, saved: SavedRun) -> int:
    from recurrent_rl.artifacts import model_file
    from recurrent_rl.evaluation.saved import evaluate_saved

    result = evaluate_saved(saved, args.episodes, args.deterministic, args.seed, args.render, args.video)
    record = result.record(model_file.timesteps(model_file.read_plain_data(saved.model)))
    if args.json:
        print(json.dumps(record.model_dump(mode="json")))
        return EXIT_OK
    rows = [
        ("episodes", str(record.n_episodes)),
        ("return", f"{record.mean_return:.3f} ± {record.std_return:.3f}"),
        ("mean length", f"{record.mean_length:.1f}"),
    ]
    if record.success_rate is not None and record.success_ci95 is not None:
        low, high = record.success_ci95
        rows.append(("success rate", f"{record.success_rate:.3f} (95% CI {low:.3f}-{high:.3f})"))
    if args.video is not None:
        rows.append(("video", str(args.video)))
    print_rows(rows)
    return EXIT_OK
