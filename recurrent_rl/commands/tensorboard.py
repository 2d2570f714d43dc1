"""``recurrent-rl tensorboard [RUNS_DIR]``: TensorBoard on a runs folder."""

from __future__ import annotations

import argparse
import contextlib
import errno
import socket
import subprocess
import sys
from pathlib import Path

from recurrent_rl.commands.options import MAX_PORT, integer
from recurrent_rl.errors import UserError

NAME = "tensorboard"
HELP = "start TensorBoard on a runs folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs_dir", nargs="?", type=Path, default=Path("runs"))
    parser.add_argument(
        "--port", type=integer(1, MAX_PORT), default=6006, help="port on localhost (default 6006)"
    )


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if not args.runs_dir.is_dir():
        raise UserError(f"tensorboard: {args.runs_dir}: no such runs folder")
    _check_port_free(args.port)
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(args.runs_dir)]
    command += ["--port", str(args.port)]
    return subprocess.call(command)


def _check_port_free(port: int) -> None:
    """A UserError when something listens on ``port`` of localhost already (TensorBoard's own message
    would be a traceback and exit 255)."""
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 here
            continue
        with contextlib.closing(probe):
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as TensorBoard: TIME_WAIT is free
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise UserError(
                        f"tensorboard --port {port}: already in use on {host} (another TensorBoard?); "
                        "choose another --port"
                    ) from None
                if error.errno != errno.EADDRNOTAVAIL:  # EADDRNOTAVAIL: no such loopback address
                    raise UserError(
                        f"tensorboard --port {port}: cannot listen on {host} ({error.strerror})"
                    ) from None
