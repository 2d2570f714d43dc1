"""The run folder: unique ids, atomic file writes, and the records written next to the model.

Layout of ``RUNS_DIR/<experiment>/<run-id>/``::

    config.yaml        resolved config (defaults and overrides applied)
    command.txt        the command line that started the run
    versions.json      python, torch, stable-baselines3, sb3-contrib, gymnasium, git commit
    model.zip          final model            best_model.zip     best evaluation so far
    vecnormalize.npz   normalisation statistics (when env.normalize is on; no pickle)
    checkpoints/       model_<steps>_steps.zip (+ vecnormalize_<steps>_steps.npz)
    evaluations.json   evaluation history     summary.json       totals, final and best evaluation
    tb/                TensorBoard event files
"""

from __future__ import annotations

import io
import json
import os
import platform
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
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
                raise UserError(f"--run-name {run_name!r}: {run_dir} already exists (runs are never overwritten)") from None
            continue
        except OSError as error:
            raise UserError(f"runs_dir {str(runs_dir)!r}: cannot create {run_dir} ({error.strerror})") from None
        (run_dir / CHECKPOINTS).mkdir()
        return run_dir
    raise UserError(f"runs_dir {str(runs_dir)!r}: could not find a free run id in {parent}")


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write through a temporary file in the same folder, fsync it and rename it over ``path``.

    A kill at any instant leaves either the old file or the new one, never a half-written file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
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
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
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
