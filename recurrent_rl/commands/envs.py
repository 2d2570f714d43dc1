"""``recurrent-rl envs``: the registered environments of the RecurrentRL/ suite."""

from __future__ import annotations

import argparse

from recurrent_rl.errors import EXIT_OK

NAME = "envs"
HELP = "list the registered environments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace, argv: list[str]) -> int:
    import envs

    descriptions = envs.descriptions()
    width = max(len(env_id) for env_id in descriptions)
    for env_id, text in descriptions.items():
        print(f"{env_id:<{width}}  {text}")
    return EXIT_OK
