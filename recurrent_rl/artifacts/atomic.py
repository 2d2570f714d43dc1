"""Whole-file writes: a temporary dot-file in the same folder, fsync, then a rename over the target.

A kill at any instant leaves either the old file or the new one, never half a file. Readers ignore the
``.*.tmp`` leftovers of a kill.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def _file_mode() -> int:
    """The mode ``open`` gives new files (``mkstemp`` would leave them private, 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write through a temporary file in the same folder, fsync it and rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fchmod(handle.fileno(), FILE_MODE)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def atomic_append_text(path: Path, text: str) -> None:
    """Append ``text`` by rewriting the whole file atomically (for small records such as command.txt)."""
    old = path.read_bytes() if path.is_file() else b""
    atomic_write_bytes(path, old + text.encode("utf-8"))
