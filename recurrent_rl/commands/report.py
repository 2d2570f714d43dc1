"""``recurrent-rl report PATH...``: statistics over seeds and plots for sweep, experiment or run folders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recurrent_rl.errors import EXIT_OK

NAME = "report"
HELP = "IQM, intervals and plots over seeds for sweep, experiment or run folders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="sweep, experiment or run folders"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write report.md, report.json and the plots here"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--force", action="store_true", help="overwrite the files of an earlier report")
    parser.add_argument(
        "--metric",
        choices=["success_rate", "mean_return", "max_mean_return"],
        help="the final success_rate or mean_return (default: success_rate where every run reports one, "
        "else mean_return), or max_mean_return: the best evaluation's mean return (POPGym's MMER)",
    )


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts.claims import Output, claim_outputs
    from recurrent_rl.experiments import report
    from recurrent_rl.experiments.markdown import as_markdown

    outputs = [Output(args.out, report.FILES)] if args.out is not None else []
    with claim_outputs("report --out", outputs, args.force):
        built = report.build(args.paths, args.metric)  # every input is read before anything is written
        written = report.write(built, args.out) if args.out is not None else []
    if args.json:
        print(json.dumps(report.as_json(built)))
    else:
        print(as_markdown(built, []), end="")
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if args.out is None and not args.json:
        print("(add --out DIR for report.md, report.json and the plots)", file=sys.stderr)
    return EXIT_OK
