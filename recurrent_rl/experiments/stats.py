"""Statistics over seeds with rliable (Agarwal et al., 2021): the interquartile mean (IQM) with a 95%
stratified-bootstrap percentile interval, and the probability of improvement of one group over another.

Every estimate uses 2000 bootstrap repetitions and a fixed random state, so a report is reproducible.
rliable draws its resampling indices from NumPy's global generator (``np.random.choice``), not from the
``random_state`` it hands to arch, so each estimate seeds the global generator and restores it afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rliable import library as rly
from rliable import metrics

REPS = 2000
CONFIDENCE = 0.95
SEED = 0


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95% interval."""

    value: float
    low: float
    high: float


def _estimate(scores: np.ndarray | list[np.ndarray], func: Callable[..., np.ndarray]) -> tuple:
    """rliable's point estimate and interval, the same for the same scores whatever ran before."""
    global_state = np.random.get_state()
    np.random.seed(SEED)
    try:
        with warnings.catch_warnings():  # arch deprecates the RandomState that rliable passes it
            warnings.simplefilter("ignore", FutureWarning)
            points, intervals = rly.get_interval_estimates(
                {"x": scores},
                func,
                reps=REPS,
                confidence_interval_size=CONFIDENCE,
                random_state=np.random.RandomState(SEED),
            )
    finally:
        np.random.set_state(global_state)
    return points["x"], intervals["x"]


def _column(values: Sequence[float]) -> np.ndarray:
    """Scores as rliable wants them: (runs, tasks), one task."""
    return np.asarray(values, dtype=float).reshape(-1, 1)


def iqm(values: Sequence[float]) -> Estimate:
    """IQM of the seeds' values with its interval (the seeds of one task: the stratified bootstrap is a
    bootstrap over seeds)."""
    point, interval = _estimate(_column(values), lambda scores: np.array([metrics.aggregate_iqm(scores)]))
    return Estimate(float(point[0]), float(interval[0, 0]), float(interval[1, 0]))


def probability_of_improvement(x: Sequence[float], y: Sequence[float]) -> Estimate:
    """P(a seed of X scores higher than a seed of Y), ties counting half, with its interval."""

    def func(scores_x: np.ndarray, scores_y: np.ndarray) -> np.ndarray:
        return np.array([metrics.probability_of_improvement(scores_x, scores_y)])

    point, interval = _estimate([_column(x), _column(y)], func)
    return Estimate(float(point[0]), float(interval[0, 0]), float(interval[1, 0]))


def iqm_curve(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM and interval at every column of ``matrix`` (seeds x timesteps), all timesteps of a bootstrap
    sample at once: :func:`interquartile_means` is ``metrics.aggregate_iqm`` of each column."""
    point, interval = _estimate(matrix[:, None, :].astype(float), interquartile_means)
    return point, interval[0], interval[1]


def interquartile_means(scores: np.ndarray) -> np.ndarray:
    """The 25%-trimmed mean over runs (and tasks) of each timestep of ``scores`` (runs, tasks, timesteps),
    as ``scipy.stats.trim_mean`` (which ``aggregate_iqm`` calls) cuts it, without its per-call overhead."""
    flat = np.sort(scores.reshape(-1, scores.shape[-1]), axis=0)
    cut = int(0.25 * flat.shape[0])
    return np.asarray(flat[cut : flat.shape[0] - cut].mean(axis=0))


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation over seeds."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std())
