"""Linear probes: how well a hidden variable can be read from the observation and the memory's states (LSTM
``h`` and ``c``, GRU ``h``).

Discrete variables get a LogisticRegression (score: accuracy, chance: the majority-class rate),
continuous ones a Ridge regression (score: R^2, chance: 0), both on standardised features and
cross-validated by episode (GroupKFold on the episode index), so a probe never sees the episode it is
scored on. Three scores per variable: over all steps, on each episode's final step (where T-maze needs its
cue) and, as a retention curve, by the number of steps since the information was last visible.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from recurrent_rl.explain.records import LastStepScores, ProbeResult, Retention
from recurrent_rl.explain.trace_record import Trace

DISCRETE, CONTINUOUS = "discrete", "continuous"
SOURCES = ("obs", "h", "c")  # every probe input there can be (a GRU has no c)
VISIBLE_BASIS, START_BASIS = "steps since visible", "steps since episode start"


def infer_kind(values: np.ndarray) -> str:
    """``discrete`` for at most 32 distinct integer values, else ``continuous``."""
    values = values[np.isfinite(values)]
    integer = bool(np.all(values == np.round(values)))
    return DISCRETE if integer and len(np.unique(values)) <= 32 else CONTINUOUS


def make_probe(kind: str) -> Pipeline:
    """A standardising linear probe: LogisticRegression (discrete) or Ridge (continuous)."""
    model = LogisticRegression(max_iter=1000) if kind == DISCRETE else Ridge(alpha=1.0)
    return make_pipeline(StandardScaler(), model)


def sources(trace: Trace, layer: int = -1) -> dict[str, np.ndarray]:
    """The probe inputs: the observation and the states of memory layer ``layer`` (LSTM h, c; GRU h)."""
    states = trace.memory_class.state_names
    return {"obs": trace.observations, **{name: trace.gates[name][:, layer] for name in states}}


def cross_validated(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str, n_splits: int = 5
) -> np.ndarray:
    """Out-of-fold predictions of a probe, folds grouped by episode (``groups``)."""
    predictions = np.empty_like(y)
    folds = GroupKFold(n_splits=min(n_splits, len(np.unique(groups))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in folds.split(x, y, groups):
            if kind == DISCRETE and len(np.unique(y[train])) < 2:
                predictions[test] = y[train][0]
                continue
            predictions[test] = make_probe(kind).fit(x[train], y[train]).predict(x[test])
    return predictions


def score(y: np.ndarray, predictions: np.ndarray, kind: str) -> float:
    """Accuracy (discrete) or R^2 (continuous; 0 for a constant target)."""
    if kind == DISCRETE:
        return float(np.mean(predictions == y))
    return float(r2_score(y, predictions)) if np.var(y) > 0 else 0.0


def chance(y: np.ndarray, kind: str) -> float:
    """The majority-class rate (discrete) or 0 (R^2 of predicting the mean)."""
    if kind != DISCRETE:
        return 0.0
    _, counts = np.unique(y, return_counts=True)
    return float(counts.max() / len(y))


def steps_since_visible(trace: Trace, key: str) -> tuple[np.ndarray, str]:
    """Per step: steps since ``key`` was last visible in this episode (-1 before), and the basis used.

    A variable that is never visible in the trace (no ``hidden_state_visible`` or always False) falls
    back to the steps since the episode started.
    """
    visible = trace.hidden_state_visible.get(key)
    if visible is None or not visible.any():
        return trace.step.copy(), START_BASIS
    index = np.arange(trace.n_steps)
    last = np.maximum.accumulate(np.where(visible, index, -1))
    since = index - last
    return np.where(last >= index - trace.step, since, -1), VISIBLE_BASIS


def hold_mask(trace: Trace, key: str) -> np.ndarray:
    """Steps where ``key`` must be held in memory: seen earlier in the episode and not visible now."""
    since, _ = steps_since_visible(trace, key)
    return since >= 1


def _buckets(since: np.ndarray, max_buckets: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Bucket index per step (-1: none) and each bucket's mean step count."""
    valid = since >= 0
    values = np.unique(since[valid])
    if len(values) <= max_buckets:
        edges = np.append(values, values[-1] + 1) if len(values) else np.array([0, 1])
    else:
        edges = np.unique(np.linspace(values[0], values[-1] + 1, max_buckets + 1).astype(np.int64))
    bucket = np.where(valid, np.searchsorted(edges, since, side="right") - 1, -1)
    centres = np.array(
        [since[bucket == b].mean() if (bucket == b).any() else np.nan for b in range(len(edges) - 1)]
    )
    return bucket, centres


def probe_variable(trace: Trace, key: str, kind: str, layer: int = -1, min_rows: int = 5) -> ProbeResult:
    """Probe scores of one hidden variable from the observation and the memory's states (see module doc)."""
    y_all = trace.hidden_state[key]
    rows = np.isfinite(y_all)
    y, groups = y_all[rows], trace.episode[rows]
    metric = "accuracy" if kind == DISCRETE else "r2"
    if len(np.unique(groups)) < 2 or len(np.unique(y)) < 2:
        skipped = "needs at least 2 episodes and 2 distinct values"
        return ProbeResult(key, kind, metric, int(rows.sum()), skipped=skipped)
    inputs = {name: x[rows] for name, x in sources(trace, layer).items()}
    predictions = {name: cross_validated(x, y, groups, kind) for name, x in inputs.items()}
    scores = {name: score(y, p, kind) for name, p in predictions.items()}
    return ProbeResult(
        key,
        kind,
        metric,
        int(rows.sum()),
        chance=chance(y, kind),
        state=trace.memory_class.memory_state,
        obs=scores["obs"],
        h=scores["h"],
        c=scores.get("c"),
        last_step=_last_step(trace.dones[rows], inputs, y, groups, kind, min_rows),
        retention=_retention(steps_since_visible(trace, key), rows, predictions, y, kind, min_rows),
    )


def _last_step(
    last: np.ndarray,
    inputs: dict[str, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    kind: str,
    min_rows: int,
) -> LastStepScores:
    """Probes fitted and scored on the final steps (``last``) alone, when there are enough of them."""
    y_last = y[last]
    chance_last = chance(y_last, kind) if len(y_last) else None
    if len(y_last) < 2 * min_rows or len(np.unique(y_last)) < 2:
        return LastStepScores(int(last.sum()), chance_last)
    scores = {
        name: score(y_last, cross_validated(x[last], y_last, groups[last], kind), kind)
        for name, x in inputs.items()
    }
    return LastStepScores(int(last.sum()), chance_last, **scores)


def _retention(
    since_basis: tuple[np.ndarray, str],
    rows: np.ndarray,
    predictions: dict[str, np.ndarray],
    y: np.ndarray,
    kind: str,
    min_rows: int,
) -> Retention:
    """The out-of-fold scores by steps since visible (buckets of at least ``min_rows`` rows)."""
    since, basis = since_basis
    bucket, centres = _buckets(since[rows])
    curve = Retention(basis, c=[] if "c" in predictions else None)
    for b, centre in enumerate(centres):
        members = bucket == b
        if members.sum() < min_rows:
            continue
        curve.steps.append(float(centre))
        curve.rows.append(int(members.sum()))
        for name, p in predictions.items():
            getattr(curve, name).append(score(y[members], p[members], kind))
    return curve


def probe_table(trace: Trace, kinds: dict[str, str] | None = None, layer: int = -1) -> list[ProbeResult]:
    """:func:`probe_variable` for every hidden variable of ``trace`` (kinds inferred where not given)."""
    kinds = kinds or {}
    return [
        probe_variable(trace, key, kinds.get(key) or infer_kind(values), layer)
        for key, values in trace.hidden_state.items()
    ]
