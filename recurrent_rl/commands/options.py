"""Command-line options shared by several commands."""

from __future__ import annotations

import argparse


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``: a config value, as a dotted key."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


RETRIES = 2
MAX_RETRIES = 100


def add_retries_option(parser: argparse.ArgumentParser) -> None:
    """``--retries N``: resubmissions of a run whose job was lost (its process, Ray worker or node died)."""
    parser.add_argument(
        "--retries",
        type=int,
        default=RETRIES,
        metavar="N",
        help="resubmit a run whose training was killed or whose Ray worker or node died, resuming its "
        f"checkpoint, up to N times (default: {RETRIES})",
    )


def check_retries(command: str, retries: int) -> None:
    from recurrent_rl.errors import UserError

    if not 0 <= retries <= MAX_RETRIES:
        raise UserError(f"{command}: --retries {retries}: expected an integer from 0 to {MAX_RETRIES}")
