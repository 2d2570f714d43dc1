"""``recurrent-rl explain RUN_DIR|MODEL_ZIP``: the actor memory's gates, what it holds, and where."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from recurrent_rl.commands.options import add_seed_option, integer
from recurrent_rl.commands.output import announce_run, print_rows
from recurrent_rl.errors import EXIT_OK, UserError

if TYPE_CHECKING:
    from recurrent_rl.artifacts.saved_run import SavedRun

NAME = "explain"
HELP = "show the memory's (LSTM, GRU) gates, probe what it holds, find and clamp the memory cells"
OUTPUTS = ("trace.npz", "summary.json", "gates.png", "probes.png")
MAX_ENVS = 8
MIN_EPISODES, MAX_EPISODES = 10, 1000  # probes need episodes; every step's gates are held in memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    parser.add_argument(
        "--episodes",
        type=integer(MIN_EPISODES, MAX_EPISODES),
        default=200,
        help=f"deterministic episodes, {MIN_EPISODES} to {MAX_EPISODES} (default 200)",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default RUN_DIR/explain)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_seed_option(parser, 0, "seed of the episodes (default 0)")
    parser.add_argument("--force", action="store_true", help="overwrite the outputs of an earlier explain")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.artifacts import saved_run
    from recurrent_rl.artifacts.claims import Output, claim_outputs

    saved = saved_run.locate(args.target)
    announce_run(saved)
    cfg = saved.require_config()
    if cfg.algo.name != "recurrent_ppo":
        raise UserError(
            f"explain: {saved.model} is a memoryless policy (algo.name: {cfg.algo.name}); no memory"
        )
    out = args.out if args.out is not None else saved.run_dir / "explain"
    with claim_outputs("explain --out", [Output(out, OUTPUTS)], args.force):
        saved_run.check_files(saved)
        return _explain(args, saved, out)


def _explain(args: argparse.Namespace, saved: SavedRun, out: Path) -> int:
    import torch

    from recurrent_rl.explain import explain, format_table
    from recurrent_rl.restore import restore

    torch.set_num_threads(saved.require_config().train.torch_threads)
    n_envs = min(args.episodes, MAX_ENVS)
    with restore(saved, n_envs=n_envs, seed=args.seed) as restored:
        summary = explain(restored.policy, restored.env, args.episodes, args.seed, out)
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        print_rows(format_table(summary))
        print(f"outputs in {out}: {', '.join(OUTPUTS)}", file=sys.stderr)
    return EXIT_OK
