"""``recurrent-rl export RUN_DIR|MODEL_ZIP --out FILE``: the greedy policy as a file that runs without us.

``.onnx`` (onnxruntime, checked against PyTorch before it is written) or ``.pt`` (TorchScript, torch only).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from recurrent_rl.commands.options import add_seed_option, finite_float, integer
from recurrent_rl.commands.output import print_rows
from recurrent_rl.errors import EXIT_OK, UserError

if TYPE_CHECKING:
    from recurrent_rl.artifacts.saved_run import SavedRun

NAME = "export"
HELP = "export the greedy policy as ONNX (checked with onnxruntime) or TorchScript"
MAX_EPISODES = 1000  # the check episodes' inputs are recorded in memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="policy.onnx (ONNX) or policy.pt (TorchScript); a .json sidecar is written next to it",
    )
    parser.add_argument(
        "--prune", type=finite_float, metavar="FRACTION", help="global magnitude pruning, e.g. 0.5"
    )
    parser.add_argument("--quantize", choices=["int8"], help="onnxruntime dynamic quantization")
    parser.add_argument(
        "--tolerance",
        type=finite_float,
        metavar="X",
        help="refuse a compressed policy that loses more success rate (or return) than X",
    )
    parser.add_argument(
        "--episodes", type=integer(1, MAX_EPISODES), default=20, help="episodes of the checks (default 20)"
    )
    add_seed_option(parser, 0, "seed of the check episodes (default 0)")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run
    from recurrent_rl.artifacts.claims import Output, claim_outputs

    if args.out.suffix not in (".onnx", ".pt"):
        raise UserError(f"export --out {args.out}: expected a .onnx (ONNX) or .pt (TorchScript) file name")
    if args.prune is not None and not 0.0 < args.prune < 1.0:
        raise UserError(f"export --prune {args.prune}: expected a fraction between 0 and 1")
    if args.tolerance is not None and (args.tolerance < 0 or (args.prune is None and args.quantize is None)):
        raise UserError("export --tolerance: expected a number >= 0, with --prune and/or --quantize")
    saved = saved_run.locate(args.target)
    outputs = [Output(args.out), Output(args.out.with_suffix(".json"))]
    with claim_outputs("export --out", outputs, args.force):
        saved_run.check_files(saved)
        return _export(args, saved)


def _export(args: argparse.Namespace, saved: SavedRun) -> int:
    from recurrent_rl.deploy.from_run import ExportOptions, export_saved

    options = ExportOptions(args.prune, args.quantize, args.tolerance, args.episodes, args.seed)
    report = export_saved(saved, args.out, options, force=args.force)
    rows = [("policy", str(report.out)), ("sidecar", str(report.sidecar))]
    for spec in report.description["inputs"]:
        rows.append((f"input {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    for spec in report.description["outputs"]:
        rows.append((f"output {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    check = report.description.get("check")
    if check:
        figures = f"{check['action_mismatches']} action mismatches in {check['steps']} steps"
        rows.append(("check vs PyTorch", f"{figures}, max logit diff {check['max_abs_logit_diff']:.1e}"))
    for variant in report.variants:
        success = "" if variant.success_rate is None else f", success {variant.success_rate:.2f}"
        latency = "" if variant.latency_us is None else f", {variant.latency_us:.1f} us/step"
        text = f"return {variant.mean_return:.3f}{success}, {variant.size_bytes:,} bytes{latency}"
        rows.append((variant.name, text))
    print_rows(rows)
    return EXIT_OK
