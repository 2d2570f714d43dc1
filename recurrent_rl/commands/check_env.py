"""``recurrent-rl check-env CONFIG``: build the config's env as training would, check it, step it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from recurrent_rl.commands.options import add_seed_option, add_set_option, integer
from recurrent_rl.commands.output import print_rows
from recurrent_rl.errors import EXIT_OK

NAME = "check-env"
HELP = "check that a config's env is usable for training and show how it behaves under random actions"
MAX_STEPS = 10_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, metavar="CONFIG", help="YAML config file")
    parser.add_argument(
        "--steps", type=integer(1, MAX_STEPS), default=2000, help="random steps to take (default 2000)"
    )
    add_set_option(parser, "override a config value, as for train (repeatable)")
    add_seed_option(parser, 0, "seed of the envs and random actions (default 0)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from recurrent_rl.config.loader import load_config

    cfg = load_config(args.config, args.overrides).config  # config errors answer before heavy imports
    from recurrent_rl.training.env_check import check_environment

    report = check_environment(cfg, args.steps, args.seed)
    configured = cfg.policy.type
    policy = report.policy_type + (
        f" (the config says {configured}: set policy.type)" if configured != report.policy_type else ""
    )
    limit = f"{report.time_limit} steps" if report.time_limit is not None else "none"
    rows = [
        ("env", report.name + (f" {dict(cfg.env.kwargs)}" if cfg.env.kwargs else "")),
        ("observation space", _space(report.observation_space)),
        ("action space", _space(report.action_space)),
        ("policy type", policy),
        ("time limit", limit),
        ("random actions", f"{report.steps} steps in {report.n_envs} envs, {_episodes(report.lengths)}"),
    ]
    if report.lengths:
        rows.append(("episode length", _stats(report.lengths, "{:.1f}", "{:d}")))
        rows.append(("episode return", _stats(report.returns, "{:.3f}", "{:.3f}")))
    if report.successes:
        rate = sum(report.successes) / len(report.successes)
        rows.append(("is_success", f"reported (random actions succeed {rate:.1%} of the time)"))
    else:
        rows.append(("is_success", "not reported (evaluations will show no success rate)"))
    rows.append(("steps/s", f"{report.steps_per_second:,.0f} (random actions, one process)"))
    rows.append(("checks", "Stable-Baselines3, Gymnasium, seeding, random steps: passed"))
    rows.extend(("warning", warning) for warning in report.warnings)
    print_rows(rows)
    return EXIT_OK


def _stats(values: list, mean_format: str, value_format: str) -> str:
    low, high = value_format.format(min(values)), value_format.format(max(values))
    return f"mean {mean_format.format(sum(values) / len(values))}, min {low}, max {high}"


def _episodes(lengths: list[int]) -> str:
    return f"{len(lengths)} episodes" if lengths else "no episode ended (more --steps show their lengths)"


def _space(space: Any) -> str:
    """A space on one line; a Box with bounds that differ per entry shows their ranges."""
    import gymnasium as gym
    import numpy as np

    uneven = isinstance(space, gym.spaces.Box) and (np.ptp(space.low) > 0 or np.ptp(space.high) > 0)
    if uneven:
        low, high = f"{space.low.min():g}..{space.low.max():g}", f"{space.high.min():g}..{space.high.max():g}"
        return f"Box(low {low}, high {high}, {space.shape}, {space.dtype})"
    return " ".join(str(space).split())
