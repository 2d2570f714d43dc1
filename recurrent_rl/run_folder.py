"""The run folder: unique ids, atomic file writes, and the records written next to the model.

Layout of ``RUNS_DIR/<experiment>/<run-id>/``::

    config.yaml        resolved config (defaults and overrides applied)
    command.txt        the command line that started the run
    versions.json      python, torch, stable-baselines3, sb3-contrib, gymnasium, git commit
    model.zip          final model            best_model.zip     best evaluation so far
    vecnormalize.npz   normalisation statistics (when env.normalize is on; no pickle)
    checkpoints/       model_<steps>_steps.zip (+ model_<steps>_steps.npz statistics)
    evaluations.json   evaluation history
    summary.json       status (running, completed, stopped_early, interrupted, failed), totals, evaluations
    tb/                TensorBoard event files and progress.csv
    .lock              held (flock) by the process training the run; gone with the process, even on SIGKILL

Every file is written whole (a temporary dot-file, then a rename), so a kill at any instant leaves the
previous version or the new one. Readers ignore the ``.*.tmp`` leftovers of a kill.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import re
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from recurrent_rl.errors import UserError

CONFIG = "config.yaml"
COMMAND = "command.txt"
VERSIONS = "versions.json"
MODEL = "model.zip"
BEST_MODEL = "best_model.zip"
NORMALIZATION = "vecnormalize.npz"
CHECKPOINTS = "checkpoints"
EVALUATIONS = "evaluations.json"
SUMMARY = "summary.json"
TENSORBOARD = "tb"
LOCK = ".lock"
_BUSY = "{run_dir}: another process is training this run right now"
CHECKPOINT_NAME = re.compile(r"^model_(\d{12})_steps\.zip$")


def create_run_dir(runs_dir: Path, experiment: str, run_name: str | None = None) -> Path:
    """Create ``runs_dir/experiment/<run-id>`` exclusively; ids never collide, even within one second."""
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


def _file_mode() -> int:
    """The mode ``open`` gives new files (``mkstemp`` would leave them private, 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write through a temporary file in the same folder, fsync it and rename it over ``path``.

    A kill at any instant leaves either the old file or the new one, never a half-written file.
    """
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


def checkpoint_name(timesteps: int) -> str:
    """``model_<12-digit timesteps>_steps``: names sort by timesteps."""
    return f"model_{timesteps:012d}_steps"


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoint zips, oldest first (temporary files of an interrupted write are not listed)."""
    folder = run_dir / CHECKPOINTS
    found = [path for path in folder.glob("model_*_steps.zip") if CHECKPOINT_NAME.match(path.name)]
    return sorted(found, key=lambda path: path.name)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the most timesteps, or None."""
    found = checkpoints(run_dir)
    return found[-1] if found else None


def find_model(target: Path) -> tuple[Path, Path]:
    """``(run_dir, model)`` for ``RUN_DIR`` (model.zip, best_model.zip or newest checkpoint) or ``MODEL_ZIP``.

    ``run_dir`` is the folder a model file belongs to; it need not hold a config.
    """
    if target.is_dir():
        candidates = [target / MODEL, target / BEST_MODEL]
        model = next((path for path in candidates if path.is_file()), newest_checkpoint(target))
        if model is None:
            raise UserError(f"{target}: no model in this run folder (model.zip, best_model.zip, checkpoint)")
        return target, model
    if target.is_file():
        in_checkpoints = target.parent.name == CHECKPOINTS
        return (target.parent.parent if in_checkpoints else target.parent), target
    raise UserError(f"{target}: no such run folder or model file")


def statistics_path(run_dir: Path, model: Path) -> Path:
    """The normalisation statistics saved with ``model``."""
    if model.name == MODEL:
        return run_dir / NORMALIZATION
    if model.name == BEST_MODEL:
        return run_dir / "best_vecnormalize.npz"
    return model.with_suffix(".npz")


def check_outputs(paths: list[Path], force: bool = False) -> None:
    """A UserError unless ``paths`` can be written: folders exist, nothing is overwritten unless forced."""
    for path in paths:
        if not path.parent.is_dir():
            raise UserError(f"--out {paths[0]}: folder {path.parent} does not exist")
        if path.exists() and not force:
            raise UserError(f"--out {paths[0]}: {path} exists (use --force to overwrite)")


def resumable_checkpoint(run_dir: Path, check_lock: bool = True) -> Path:
    """The checkpoint ``train --resume run_dir`` continues from; a UserError if there is nothing to resume."""
    if not run_dir.is_dir():
        raise UserError(f"--resume {run_dir}: no such run folder")
    if not (run_dir / CONFIG).is_file():
        raise UserError(f"--resume {run_dir}: not a run folder (no {CONFIG})")
    if check_lock and is_locked(run_dir):
        raise UserError(_BUSY.format(run_dir=run_dir))
    summary_path = run_dir / SUMMARY
    summary = read_json(summary_path) if summary_path.is_file() else {}
    if not isinstance(summary, dict):
        raise UserError(f"{summary_path}: expected a JSON object")
    if summary.get("status") in ("completed", "stopped_early"):
        status = summary["status"]
        raise UserError(f"--resume {run_dir}: the run already finished ({status}); nothing to resume")
    checkpoint = newest_checkpoint(run_dir)
    if checkpoint is None:
        raise UserError(f"--resume {run_dir}: no checkpoint in {run_dir / CHECKPOINTS} to resume from")
    return checkpoint


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
            raise UserError(_BUSY.format(run_dir=run_dir)) from None
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


def save_model(model: Any, path: Path) -> None:
    """``model.save`` into memory, then an atomic write (SB3 would write the zip in place)."""
    buffer = io.BytesIO()
    model.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())


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


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from None
