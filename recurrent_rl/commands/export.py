"""``recurrent-rl export RUN_DIR|MODEL_ZIP --out FILE``: the greedy policy as a file that runs without us."""

from __future__ import annotations

import argparse
from pathlib import Path

from recurrent_rl.commands.output import print_rows
from recurrent_rl.errors import EXIT_OK

NAME = "export"
HELP = "export the policy as TorchScript (runs with torch alone)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="the TorchScript file, e.g. policy.pt; a .json sidecar is written next to it",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run
    from recurrent_rl.artifacts.run_folder import check_outputs

    if args.out.suffix != ".json":  # export_policy explains that one
        check_outputs([args.out, args.out.with_suffix(".json")], args.force)
    saved = saved_run.locate(args.target)
    saved_run.check_files(saved)
    from recurrent_rl.deploy.torchscript import export_policy

    description = export_policy(saved, args.out, force=args.force)
    rows = [("module", str(args.out)), ("sidecar", str(args.out.with_suffix(".json")))]
    for spec in description["inputs"]:
        rows.append((f"input {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    for spec in description["outputs"]:
        rows.append((f"output {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    print_rows(rows)
    return EXIT_OK
