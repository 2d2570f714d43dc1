"""VecNormalize statistics stored as ``.npz`` (plain arrays, never a pickle), so loading them runs no code."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recurrent_rl.errors import UserError
from recurrent_rl.run_folder import atomic_write_bytes

if TYPE_CHECKING:  # importing SB3 is slow: bad files are reported before it (see read_statistics)
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env import VecNormalize


def _stats(prefix: str, rms: RunningMeanStd) -> dict[str, np.ndarray]:
    return {f"{prefix}/mean": rms.mean, f"{prefix}/var": rms.var, f"{prefix}/count": np.asarray(rms.count)}


def save_normalization(venv: VecNormalize, path: Path) -> None:
    """Write the observation and return statistics of ``venv`` to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {}
    if isinstance(venv.obs_rms, dict):
        for key, rms in venv.obs_rms.items():
            arrays.update(_stats(f"obs.{key}", rms))
    else:
        arrays.update(_stats("obs", venv.obs_rms))
    arrays.update(_stats("ret", venv.ret_rms))
    buffer = io.BytesIO()
    savez: Any = np.savez  # numpy's stub types **arrays as its allow_pickle flag
    savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def _restore(rms: RunningMeanStd, arrays: dict[str, np.ndarray], prefix: str, path: Path) -> None:
    try:
        mean, var, count = (arrays[f"{prefix}/{name}"] for name in ("mean", "var", "count"))
    except KeyError as error:
        raise UserError(f"{path}: normalisation statistics lack {error.args[0]!r}") from None
    if mean.shape != rms.mean.shape:
        raise UserError(
            f"{path}: statistics for observations of shape {mean.shape}, but the env's are {rms.mean.shape}"
        )
    rms.mean, rms.var, rms.count = mean.astype(np.float64), var.astype(np.float64), float(count)


def read_statistics(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a statistics file, read with ``allow_pickle=False`` (an object array is refused)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise UserError(f"{path}: normalisation statistics not found (env.normalize is on)") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{path}: not a valid statistics file ({error})") from None


def load_normalization(venv: VecNormalize, path: Path) -> None:
    """Load statistics written by :func:`save_normalization` into ``venv`` (``allow_pickle=False``)."""
    arrays = read_statistics(path)
    if isinstance(venv.obs_rms, dict):
        for key, rms in venv.obs_rms.items():
            _restore(rms, arrays, f"obs.{key}", path)
    else:
        _restore(venv.obs_rms, arrays, "obs", path)
    _restore(venv.ret_rms, arrays, "ret", path)
