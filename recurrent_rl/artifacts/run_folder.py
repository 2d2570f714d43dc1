"""The run folder: its layout, unique run ids, the lock held while a process trains it, and versions.

Layout of ``RUNS_DIR/<experiment>/<run-id>/``::

    config.yaml        resolved config (defaults and overrides applied)
    command.txt        the command line that started the run
    versions.json      python, torch, stable-baselines3, sb3-contrib, gymnasium, git commit
    model.zip          final model            best_model.zip     best evaluation so far
    vecnormalize.npz   normalisation statistics (when env.normalize is on; no pickle); best_vecnormalize.npz
                       for best_model.zip. Each model zip also carries its own copy (see saved_run)
    checkpoints/       model_<steps>_steps.zip (+ model_<steps>_steps.npz statistics), newest kept
    evaluations.json   evaluation history
    summary.json       status (running, completed, stopped_early, interrupted, failed), totals, evaluations
    tb/                TensorBoard event files and progress.csv
    .lock              held (flock) by the process training the run; gone with the process, even on SIGKILL

Every file is written whole (:mod:`.atomic`). Which statistics belong to which model, and where
checkpoints are, is :mod:`.saved_run`'s job; the JSON records are :mod:`.records`'.
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import subprocess
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from recurrent_rl.errors import UserError

CONFIG = "config.yaml"
COMMAND = "command.txt"
VERSIONS = "versions.json"
MODEL = "model.zip"
BEST_MODEL = "best_model.zip"
NORMALIZATION = "vecnormalize.npz"
BEST_NORMALIZATION = "best_vecnormalize.npz"
CHECKPOINTS = "checkpoints"
EVALUATIONS = "evaluations.json"
SUMMARY = "summary.json"
TENSORBOARD = "tb"
LOCK = ".lock"
BUSY = "{run_dir}: another process is training this run right now"


def run_name_problem(name: str) -> str | None:
    """What keeps ``name`` from naming one folder inside the experiment folder, or None: a run name has no
    path separator, does not start with a dot (``..``, hidden folders), has no control character."""
    checks = (
        (not name, "is empty"),
        (any(sep in name for sep in ("/", os.sep, os.altsep or "/")), "holds a path separator"),
        (any(ord(char) < 32 or ord(char) == 127 for char in name), "holds a control character"),
        (name.startswith("."), "starts with '.'"),
        (len(name.encode("utf-8", "surrogateescape")) > 255, "is longer than 255 bytes"),
    )
    return next((problem for failed, problem in checks if failed), None)


def create_run_dir(runs_dir: Path, experiment: str, run_name: str | None = None) -> Path:
    """Create ``runs_dir/experiment/<run-id>`` exclusively; ids never collide, even within one second."""
    problem = run_name_problem(run_name) if run_name is not None else None
    if problem is not None:
        raise UserError(f"--run-name {run_name!r}: {problem}; expected one folder name such as first-try")
    parent = runs_dir / experiment
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"runs_dir {str(runs_dir)!r}: cannot create {parent} ({error.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"runs_dir {str(runs_dir)!r}: {parent} is not writable")
    for _ in range(100):
        name = run_name or f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        run_dir = parent / name
        try:
            run_dir.mkdir()
        except FileExistsError:
            if run_name is not None:
                raise UserError(
                    f"--run-name {run_name!r}: {run_dir} already exists (runs are never overwritten)"
                ) from None
            continue
        except OSError as error:
            raise UserError(
                f"runs_dir {str(runs_dir)!r}: cannot create {run_dir} ({error.strerror})"
            ) from None
        (run_dir / CHECKPOINTS).mkdir()
        return run_dir
    raise UserError(f"runs_dir {str(runs_dir)!r}: could not find a free run id in {parent}")


def check_outputs(paths: list[Path], force: bool = False) -> None:
    """A UserError unless ``paths`` can be written: folders exist, nothing is overwritten unless forced."""
    for path in paths:
        if not path.parent.is_dir():
            raise UserError(f"--out {paths[0]}: folder {path.parent} does not exist")
        if path.exists() and not force:
            raise UserError(f"--out {paths[0]}: {path} exists (use --force to overwrite)")


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` while training it; a second trainer gets a UserError.

    The lock is an ``flock`` on ``.lock``: the kernel drops it when the process ends, however it ends.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield
        return
    fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(BUSY.format(run_dir=run_dir)) from None
        yield
    finally:
        os.close(fd)


def is_locked(run_dir: Path) -> bool:
    """Whether a live process is training ``run_dir`` now."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(run_dir / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def versions() -> dict[str, Any]:
    """Versions of what produced a run, and the git commit of this package when it is a checkout."""
    found: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("recurrent_rl", "torch", "stable-baselines3", "sb3-contrib", "gymnasium", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found["git_commit"] = _git_commit(Path(__file__).resolve().parent.parent)
    return found


def _git_commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
