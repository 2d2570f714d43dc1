"""The ``recurrent-rl`` command: train, evaluate, inspect, export, envs, tensorboard.

Exit status: 0 ok, 2 bad input (usage, config, files), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from recurrent_rl.errors import UserError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as a UserError (one line, exit 2) instead of exiting itself."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("recurrent-rl").strip()
        raise UserError(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recurrent-rl", description="Train and evaluate recurrent PPO agents from YAML.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    train = commands.add_parser("train", help="train an agent from a YAML config")
    train.add_argument("config", nargs="?", type=Path, help="YAML config file (not with --resume)")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set algo.learning_rate=3e-4 (repeatable)",
    )
    train.add_argument("--seed", type=int, help="shorthand for --set train.seed=N")
    train.add_argument("--runs-dir", help="shorthand for --set logging.runs_dir=DIR")
    train.add_argument("--run-name", help="name of the run folder (default: date-time-random)")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its checkpoint")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved run or model")
    evaluate.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    evaluate.add_argument("--episodes", type=int, default=100, help="number of episodes (default 100)")
    mode = evaluate.add_mutually_exclusive_group()
    mode.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="greedy actions (default)",
    )
    mode.add_argument("--stochastic", dest="deterministic", action="store_false", help="sample actions")
    evaluate.add_argument("--seed", type=int, default=1_000_000, help="seed of the evaluation envs")
    evaluate.add_argument("--render", choices=["ansi"], help="print each step's ansi rendering")
    evaluate.add_argument("--video", type=Path, metavar="PATH", help="write the episodes to a .gif or .mp4")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    inspect = commands.add_parser("inspect", help="describe a saved model without running or unpickling it")
    inspect.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    export = commands.add_parser("export", help="export the policy as TorchScript (runs with torch alone)")
    export.add_argument("target", type=Path, metavar="RUN_DIR|MODEL_ZIP")
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="the TorchScript file, e.g. policy.pt; a .json sidecar is written next to it",
    )
    export.add_argument("--force", action="store_true", help="overwrite existing output files")

    commands.add_parser("envs", help="list the registered environments")

    board = commands.add_parser("tensorboard", help="start TensorBoard on a runs folder")
    board.add_argument("runs_dir", nargs="?", type=Path, default=Path("runs"))
    board.add_argument("--port", type=int, default=6006)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
        return _dispatch(args, arguments)
    except UserError as error:
        print(f"recurrent-rl: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("recurrent-rl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed by the reader (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:  # an internal error: one line here, the traceback in a file
        with tempfile.NamedTemporaryFile("w", prefix="recurrent-rl-", suffix=".log", delete=False) as log:
            traceback.print_exc(file=log)
        problem = sys.exc_info()[1]
        print(f"recurrent-rl: internal error: {problem!r} (traceback in {log.name})", file=sys.stderr)
        if os.environ.get("RECURRENT_RL_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace, arguments: list[str]) -> int:
    if args.command == "train":
        return _train(args, arguments)
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "export":
        return _export(args)
    if args.command == "envs":
        return _envs()
    return _tensorboard(args)


def _train(args: argparse.Namespace, arguments: list[str]) -> int:
    from recurrent_rl.config_loader import load_config

    command = shlex.join(["recurrent-rl", *arguments])
    if args.resume is not None:
        extra = args.config is not None or args.overrides or args.seed is not None
        if extra or args.runs_dir or args.run_name:
            raise UserError("train --resume RUN_DIR takes no CONFIG, --set, --seed, --runs-dir or --run-name")
        from recurrent_rl.run_folder import resumable_checkpoint

        _check_saved(args.resume, resumable_checkpoint(args.resume), resume=True)  # before the heavy imports
        from recurrent_rl.train import resume

        outcome = resume(args.resume, command)
    else:
        if args.config is None:
            raise UserError("train: give a CONFIG file (or --resume RUN_DIR)")
        overrides = list(args.overrides)
        if args.seed is not None:
            overrides.append(f"train.seed={args.seed}")
        if args.runs_dir is not None:
            overrides.append(f"logging.runs_dir={json.dumps(args.runs_dir)}")
        loaded = load_config(args.config, overrides)  # before the heavy imports: config errors answer at once
        from recurrent_rl.train import train

        outcome = train(loaded, command, run_name=args.run_name)
    if outcome.status == "interrupted":
        print(f"recurrent-rl: {outcome.message}", file=sys.stderr)
        print(outcome.run_dir)
        return EXIT_INTERRUPTED
    if outcome.status == "failed":
        print(f"recurrent-rl: training stopped: {outcome.message}", file=sys.stderr)
        print(outcome.run_dir)
        return EXIT_INTERNAL
    print(outcome.run_dir)
    return EXIT_OK


def _preflight(target: Path, need_config: bool = True) -> None:
    """What can be checked before importing torch: the model file, the run's config, the statistics."""
    from recurrent_rl import run_folder

    run_dir, model = run_folder.find_model(target)
    if need_config and not (run_dir / run_folder.CONFIG).is_file():
        raise UserError(f"{model}: no {run_folder.CONFIG} in {run_dir}; this needs the model's run folder")
    _check_saved(run_dir, model, need_statistics=need_config)


def _check_saved(run_dir: Path, model: Path, need_statistics: bool = True, resume: bool = False) -> None:
    """``model`` is intact and its tensors load safely; the run's config loads; its statistics read.

    Only torch is imported (for ``weights_only`` loading): a bad file is refused before SB3 and the env.
    """
    from recurrent_rl import model_file, run_folder

    model_file.check_model_zip(model)
    for entry in ("policy.pth", "policy.optimizer.pth") if resume else ("policy.pth",):
        model_file.read_tensors(model, entry)
    config = run_dir / run_folder.CONFIG
    if config.is_file():
        from recurrent_rl.config_loader import load_config

        normalize = load_config(config).config.env.normalize
        if need_statistics and normalize is not None:
            from recurrent_rl.normalization import read_statistics

            read_statistics(run_folder.statistics_path(run_dir, model))


def _evaluate(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        raise UserError(f"evaluate: --episodes {args.episodes}: expected an integer >= 1")
    if args.video is not None:
        from recurrent_rl.video import check_video_path

        check_video_path(args.video)
    _preflight(args.target)
    from recurrent_rl.playback import evaluate_saved

    target, deterministic = args.target, args.deterministic
    result = evaluate_saved(target, args.episodes, deterministic, args.seed, args.render, args.video)
    if args.json:
        print(json.dumps(result.report()))
        return EXIT_OK
    report = result.report()
    rows = [
        ("episodes", str(report["n_episodes"])),
        ("return", f"{report['mean_return']:.3f} ± {report['std_return']:.3f}"),
        ("mean length", f"{report['mean_length']:.1f}"),
    ]
    if report["success_rate"] is not None:
        low, high = report["success_ci95"]
        rows.append(("success rate", f"{report['success_rate']:.3f} (95% CI {low:.3f}-{high:.3f})"))
    if args.video is not None:
        rows.append(("video", str(args.video)))
    _print_rows(rows)
    return EXIT_OK


def _print_rows(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def _inspect(args: argparse.Namespace) -> int:
    _preflight(args.target, need_config=False)
    from recurrent_rl.inspect_model import format_report, inspect_saved

    report = inspect_saved(args.target)
    if args.json:
        print(json.dumps(report))
    else:
        _print_rows(format_report(report))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from recurrent_rl.run_folder import check_outputs

    if args.out.suffix != ".json":  # export_policy explains that one
        check_outputs([args.out, args.out.with_suffix(".json")], args.force)
    _preflight(args.target)
    from recurrent_rl.export import export_policy

    description = export_policy(args.target, args.out, force=args.force)
    rows = [("module", str(args.out)), ("sidecar", str(args.out.with_suffix(".json")))]
    for spec in description["inputs"]:
        rows.append((f"input {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    for spec in description["outputs"]:
        rows.append((f"output {spec['name']}", f"{spec['shape']} {spec['dtype']}"))
    _print_rows(rows)
    return EXIT_OK


def _envs() -> int:
    import envs

    descriptions = envs.descriptions()
    width = max(len(env_id) for env_id in descriptions)
    for env_id, text in descriptions.items():
        print(f"{env_id:<{width}}  {text}")
    return EXIT_OK


def _tensorboard(args: argparse.Namespace) -> int:
    if not args.runs_dir.is_dir():
        raise UserError(f"tensorboard: {args.runs_dir}: no such runs folder")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(args.runs_dir)]
    command += ["--port", str(args.port)]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
