"""VecNormalize statistics stored as ``.npz`` (plain arrays, never a pickle), so loading them runs no code.

The arrays are ``obs/mean``, ``obs/var``, ``obs/count`` (``obs.<key>/...`` for dict observations) and the
same for ``ret``. They live in a file next to a model and inside the model zip (see :mod:`.model_file`).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recurrent_rl.errors import UserError

if TYPE_CHECKING:  # importing SB3 is slow: bad files are reported before it (see read_statistics)
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env import VecNormalize


def _stats(prefix: str, rms: RunningMeanStd) -> dict[str, np.ndarray]:
    return {f"{prefix}/mean": rms.mean, f"{prefix}/var": rms.var, f"{prefix}/count": np.asarray(rms.count)}


def statistics_bytes(venv: VecNormalize) -> bytes:
    """The observation and return statistics of ``venv`` as the bytes of an ``.npz`` file."""
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
    return buffer.getvalue()


def parse_statistics(data: bytes, source: str) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` read with ``allow_pickle=False`` (an object array is refused)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{source}: not a valid statistics file ({error})") from None


def read_statistics(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a statistics file (``allow_pickle=False``)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: normalisation statistics not found (env.normalize is on)") from None
    except OSError as error:
        raise UserError(f"{path}: not a valid statistics file ({error})") from None
    return parse_statistics(data, str(path))


def _restore(rms: RunningMeanStd, arrays: dict[str, np.ndarray], prefix: str, source: str) -> None:
    try:
        mean, var, count = (arrays[f"{prefix}/{name}"] for name in ("mean", "var", "count"))
    except KeyError as error:
        raise UserError(f"{source}: normalisation statistics lack {error.args[0]!r}") from None
    if mean.shape != rms.mean.shape:
        raise UserError(
            f"{source}: statistics for observations of shape {mean.shape}, but the env's are {rms.mean.shape}"
        )
    rms.mean, rms.var, rms.count = mean.astype(np.float64), var.astype(np.float64), float(count)


def apply_statistics(venv: VecNormalize, arrays: dict[str, np.ndarray], source: str) -> None:
    """Load arrays from :func:`statistics_bytes` into ``venv``."""
    if isinstance(venv.obs_rms, dict):
        for key, rms in venv.obs_rms.items():
            _restore(rms, arrays, f"obs.{key}", source)
    else:
        _restore(venv.obs_rms, arrays, "obs", source)
    _restore(venv.ret_rms, arrays, "ret", source)
