"""What a study folder shows after each run of the command: trials.csv, best.yaml, importance.png and
history.png, each written whole (:mod:`recurrent_rl.artifacts.atomic`)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from recurrent_rl.artifacts.atomic import atomic_write_bytes, atomic_write_text
from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.objective import FINAL_WINDOW
from recurrent_rl.tuning.study import TuneSettings, without_password

TRIALS_CSV = "trials.csv"
BEST_YAML = "best.yaml"
IMPORTANCE_PNG = "importance.png"
HISTORY_PNG = "history.png"


def write_outputs(study: optuna.Study, settings: TuneSettings) -> list[str]:
    """Write every output the study's trials allow; return notes on what was skipped."""
    notes: list[str] = []
    trials = study.get_trials(deepcopy=False)
    if not trials:
        return ["no trial yet: nothing written"]
    folder = settings.study_dir
    frame = study.trials_dataframe(attrs=("number", "state", "value", "duration", "params", "user_attrs"))
    atomic_write_text(folder / TRIALS_CSV, frame.to_csv(index=False))
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    if not complete:
        return [*notes, "no complete trial yet: no best.yaml, importance.png or history.png"]
    atomic_write_text(folder / BEST_YAML, best_yaml(study.best_trial, settings))
    target = objective_label(settings)
    notes += _plot(
        folder / HISTORY_PNG,
        lambda: optuna.visualization.matplotlib.plot_optimization_history(study, target_name=target),
        f"{settings.study}: objective per complete trial\n"
        f"({len(complete)} of {len(trials)} trials complete; pruned and failed ones not shown)",
    )
    if len(complete) < 2:
        notes.append("importance.png needs 2 complete trials: skipped")
    else:
        notes += _plot(
            folder / IMPORTANCE_PNG,
            lambda: optuna.visualization.matplotlib.plot_param_importances(study, target_name=target),
            f"{settings.study}: hyperparameter importance\n"
            f"(share of the objective's variance, fANOVA over {len(complete)} complete trials)",
        )
    return notes


def describe(trial: optuna.trial.FrozenTrial) -> str:
    """``trial 0003 COMPLETE 0.85  (41 s)``, with each seed's value, and why it was pruned or failed."""
    value = f"{trial.value:.4g}" if trial.value is not None else "-"
    seconds = trial.duration.total_seconds() if trial.duration is not None else 0.0
    attrs = trial.user_attrs
    seeds = seed_values(trial)
    per_seed = f"  seeds: {', '.join(f'{val:.4g}' for _, val in seeds)}" if len(seeds) > 1 else ""
    constrained = f"  constrained: {attrs['constrained']}" if attrs.get("constrained") else ""
    why = ""
    if trial.state != TrialState.COMPLETE:
        why = attrs.get("rejected") or attrs.get("surplus") or attrs.get("message") or ""
        if trial.state == TrialState.FAIL and not why:
            why = "its tune command stopped sending heartbeats (killed, or its machine lost); queued again"
        why = f"  {why}" + (f" ({attrs['rerun']})" if attrs.get("rerun") else "")
    return (
        f"trial {trial.number:04d} {trial.state.name:<8} {value:>8}  ({seconds:.0f} s)"
        f"{per_seed}{constrained}{why}"
    )


def seed_values(trial: optuna.trial.FrozenTrial) -> list[tuple[int, float]]:
    """(seed, value) of each of the trial's seeds, from its ``value_seed<k>`` attributes."""
    prefix = "value_seed"
    found = [
        (int(key.removeprefix(prefix)), value)
        for key, value in trial.user_attrs.items()
        if key.startswith(prefix)
    ]
    return sorted(found)


def objective_label(settings: TuneSettings) -> str:
    """What the study maximises, in words (the plots' axis and legend)."""
    metric = {"auto": "metric", "success_rate": "success rate", "mean_return": "mean return"}[settings.metric]
    if settings.objective == "auc":
        return f"mean {metric} over the budget (area under the curve)"
    return f"final {metric} (mean of the last {FINAL_WINDOW} evaluations)"


def best_yaml(trial: optuna.trial.FrozenTrial, settings: TuneSettings) -> str:
    """The best trial's complete config, which ``recurrent-rl train`` runs as is, with where it came from."""
    overrides = list(trial.user_attrs.get("overrides", []))
    loaded = load_config(settings.config, [*settings.sets, *overrides])
    data = loaded.config.model_dump(mode="json", by_alias=True)
    data["logging"]["experiment"] = None  # named after the file it is saved as
    header = [
        f"# Best trial of study {settings.study}: trial {trial.number}, objective {settings.objective} "
        f"({settings.metric}) = {trial.value:.6g}",
        f"# storage: {without_password(settings.storage)}",
        f"# found by: {settings.command}",
        f"# base config: {settings.config}",
        *(f"#   {line}" for line in _changes(overrides, settings.sets)),
    ]
    seeds = seed_values(trial)
    if len(seeds) > 1:
        header.append("# the mean over seeds " + ", ".join(f"{seed} ({val:.6g})" for seed, val in seeds))
    if trial.user_attrs.get("constrained"):
        header.append(f"# constrained: {trial.user_attrs['constrained']}")
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + body


def _changes(overrides: list[str], sets: tuple[str, ...]) -> list[str]:
    return [f"--set {item}" for item in (*sets, *overrides)]


def _plot(path: Path, draw: Any, title: str) -> list[str]:
    """Draw with Optuna's matplotlib backend and save as PNG; a note instead when Optuna cannot plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            axes = draw()
    except (ValueError, RuntimeError, ImportError, UserError) as error:
        return [f"{path.name} skipped: {error}"]
    first = axes if hasattr(axes, "figure") else axes.flat[0]
    for location in ("left", "center", "right"):
        first.set_title("", loc=location)
    first.set_title(title, fontsize=11, loc="left")
    figure = first.figure
    figure.set_size_inches(9, 5)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return []
