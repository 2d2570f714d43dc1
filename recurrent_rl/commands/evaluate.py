"""``recurrent-rl evaluate RUN_DIR|MODEL_ZIP``: play N episodes of a saved policy, report the statistics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recurrent_rl.commands.output import TARGET_HELP, announce_run, print_rows
from recurrent_rl.errors import EXIT_OK, UserError

NAME = "evaluate"
HELP = "evaluate a saved run or model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP", help=TARGET_HELP)
    parser.add_argument("--episodes", type=int, default=100, help="number of episodes (default 100)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="greedy actions (default)",
    )
    mode.add_argument("--stochastic", dest="deterministic", action="store_false", help="sample actions")
    parser.add_argument("--seed", type=int, default=1_000_000, help="seed of the evaluation envs")
    parser.add_argument("--render", choices=["ansi"], help="print each step's ansi rendering")
    parser.add_argument("--video", type=Path, metavar="PATH", help="write the episodes to a .gif or .mp4")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import model_file, saved_run

    if args.episodes < 1:
        raise UserError(f"evaluate: --episodes {args.episodes}: expected an integer >= 1")
    if args.video is not None:
        from recurrent_rl.evaluation.video import check_video_path

        check_video_path(args.video)
    saved = saved_run.locate(args.target)
    saved_run.check_files(saved)  # before the heavy imports
    announce_run(saved)
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
