"""Command-line options shared by several commands, and the checked value types of numeric flags.

A bad flag value is a usage error (one line, exit 2) before anything is read: every ``--seed`` takes the
config's seed range, counts have bounds, floats are finite.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from recurrent_rl.artifacts.run_folder import run_name_problem
from recurrent_rl.config.values import MAX_SEED

MAX_PORT = 65535


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``: a config value, as a dotted key."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def add_seed_option(parser: argparse.ArgumentParser, default: int | None, help_text: str) -> None:
    """``--seed N``, N in the config's seed range [0, 2**31 - 1], on every command."""
    parser.add_argument("--seed", type=integer(0, MAX_SEED), default=default, help=help_text)


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"got {value}, expected an integer in [{low}, {high}]")
        return value

    return parse


def finite_float(text: str) -> float:
    """An argparse type: a finite number (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a finite number")
    return value


def run_name(text: str) -> str:
    """An argparse type: a run folder's name, one path component."""
    problem = run_name_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"got {text!r}, which {problem}; expected one folder name")
    return text


RETRIES = 2
MAX_RETRIES = 100


def add_retries_option(parser: argparse.ArgumentParser) -> None:
    """``--retries N``: resubmissions of a run whose job was lost (its process, Ray worker or node died)."""
    parser.add_argument(
        "--retries",
        type=integer(0, MAX_RETRIES),
        default=RETRIES,
        metavar="N",
        help="resubmit a run whose training was killed or whose Ray worker or node died, resuming its "
        f"checkpoint, up to N times (default: {RETRIES})",
    )
