"""Outputs a command writes outside a run folder (export's policy, explain's and report's folders, a video):
checked before the work starts, and claimed until the command ends.

:func:`claim_outputs` refuses an output whose folder is missing or not writable, or that exists (unless
``force``), and takes a claim on it: an ``flock`` on ``.<name>.claim`` next to it. Taking it is atomic, so
of two commands started together on one output, the second is refused at once. The claim file is removed
at the end; the kernel drops the lock when a process ends however it ends, so a file left behind by a
killed process is a stale claim, and the next command takes it over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from recurrent_rl.errors import UserError


@dataclass(frozen=True)
class Output:
    """One output of a command: a file, or a folder (``files``: what the command writes inside it)."""

    path: Path
    files: tuple[str, ...] | None = None  # None: a file

    @property
    def written(self) -> list[Path]:
        return [self.path] if self.files is None else [self.path / name for name in self.files]


@contextlib.contextmanager
def claim_outputs(flag: str, outputs: Sequence[Output], force: bool) -> Iterator[None]:
    """Check every output, then hold a claim on each until the block ends (see the module docstring).

    Messages start with ``flag`` and the first output, the one the user named (``export --out p.onnx``).
    """
    if not outputs:
        yield
        return
    given = f"{flag} {outputs[0].path}"
    for output in outputs:
        _check(given, output, force)
    with contextlib.ExitStack() as stack:
        for output in outputs:
            stack.enter_context(_claim(given, output.path))
            _check(given, output, force)  # again: another command may have written it meanwhile
            if output.files is not None:
                stack.enter_context(_folder(given, output.path))
        yield


def _check(given: str, output: Output, force: bool) -> None:
    path, parent = output.path, output.path.parent
    if not parent.is_dir():
        raise UserError(f"{given}: folder {parent} does not exist")
    if output.files is not None and path.exists() and not path.is_dir():
        raise UserError(f"{given}: {path} is not a folder")
    if output.files is None and path.is_dir():
        raise UserError(f"{given}: {path} is a folder, expected a file name")
    existing = [file for file in output.written if file.exists()]
    if existing and not force:
        what = (
            f"{existing[0]} exists"
            if output.files is None
            else "already holds " + ", ".join(file.name for file in existing)
        )
        raise UserError(f"{given}: {what} (use --force to overwrite)")


@contextlib.contextmanager
def _claim(given: str, path: Path) -> Iterator[None]:
    """Hold the claim on ``path`` (an flock on its claim file) until the block ends."""
    claim = path.parent / f".{path.name}.claim"
    fd = _locked(given, path, claim)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            claim.unlink()
        os.close(fd)


def _locked(given: str, path: Path, claim: Path) -> int:
    """An open descriptor of ``claim``, flock-ed by this process; a UserError when another one holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: checked, not claimed
        fcntl = None  # type: ignore[assignment]
    for _ in range(100):
        try:
            fd = os.open(claim, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"{given}: cannot write in {path.parent} ({error.strerror})") from None
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise UserError(
                f"{given}: another command is writing {path} right now{holder}; "
                "wait for it to end or choose another path"
            ) from None
        try:
            same = os.stat(claim).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a claim file its holder removed while we were opening it
            return fd
        os.close(fd)
    raise UserError(f"{given}: could not claim {claim}")


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f" (process {int(os.pread(fd, 32, 0).decode().strip())})"
    return ""


@contextlib.contextmanager
def _folder(given: str, path: Path) -> Iterator[None]:
    """Make sure the output folder can be written; one made here and left empty is removed at the end."""
    made = not path.exists()
    try:
        path.mkdir(exist_ok=True)
    except OSError as error:
        raise UserError(f"{given}: cannot create {path} ({error.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{given}: cannot write in {path}")
    try:
        yield
    finally:
        if made:
            with contextlib.suppress(OSError):
                path.rmdir()  # only if empty: the command wrote nothing
