"""The ``recurrent-rl`` command: the parser of each command in :mod:`recurrent_rl.commands`, exit statuses.

Exit status: 0 ok, 2 bad input (usage, config, files), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from recurrent_rl.commands import (
    check_env,
    envs,
    evaluate,
    explain,
    export,
    inspect,
    report,
    sweep,
    tensorboard,
    train,
    tune,
)
from recurrent_rl.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CheckFailed,
    UserError,
)

COMMANDS: tuple[ModuleType, ...] = (
    train,
    evaluate,
    inspect,
    export,
    explain,
    check_env,
    sweep,
    tune,
    report,
    envs,
    tensorboard,
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as a UserError (one line, exit 2) instead of exiting itself."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("recurrent-rl").strip()
        raise UserError(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recurrent-rl", description="Train and evaluate recurrent PPO agents from YAML.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(subparsers.add_parser(command.NAME, help=command.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
        command = next(command for command in COMMANDS if args.command == command.NAME)
        status: int = command.run(args, arguments)
        return status
    except UserError as error:
        print(f"recurrent-rl: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CheckFailed as error:
        print(f"recurrent-rl: {error}", file=sys.stderr)
        return EXIT_INTERNAL
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


if __name__ == "__main__":
    sys.exit(main())
