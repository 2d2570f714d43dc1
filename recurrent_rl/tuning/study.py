"""The study: its settings, storage (SQLite by default, any database Optuna supports), sampler and pruner.

Storage is an Optuna ``RDBStorage`` with a heartbeat: the ``tune`` command writes one every
:data:`HEARTBEAT_SECONDS` for each trial it runs, and a trial whose command has been silent for
:data:`GRACE_SECONDS` (killed, machine lost) is marked failed by the next command that looks, and retried
once with the same parameters.
"""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.exc import OperationalError

from recurrent_rl.errors import UserError

HEARTBEAT_SECONDS = 5
GRACE_SECONDS = 15
STUDIES = "studies"  # <runs_dir>/studies/<name>/
STUDY_DB = "study.db"
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
Objective = Literal["final", "auc"]
Metric = Literal["auto", "success_rate", "mean_return"]


@dataclass(frozen=True)
class TuneSettings:
    """Everything the command needs to run trials of one study (the command line, resolved)."""

    config: Path
    sets: tuple[str, ...]
    space: Path | None
    trials: int
    storage: str
    study: str
    study_dir: Path
    sampler: Literal["tpe", "random"] = "tpe"
    pruner: Literal["median", "halving", "none"] = "median"
    objective: Objective = "final"
    metric: Metric = "auto"
    deadline: float | None = None  # epoch seconds: no trial starts after it
    command: str = ""
    seeds: int = 1  # trainings per trial: seeds train.seed, train.seed + 1, ...
    retries: int = 2  # resubmissions of a training whose job was lost


def default_storage(study_dir: Path) -> str:
    return f"sqlite:///{(study_dir / STUDY_DB).absolute()}"


def check_storage_url(url: str) -> None:
    """A UserError unless ``url`` is a database URL SQLAlchemy understands."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        raise UserError(
            f"--storage {url}: not a database URL (such as sqlite:///study.db or "
            "postgresql://user@host:5432/db)"
        ) from None


def without_password(url: str) -> str:
    """``url`` as it can be shown (a password replaced by ``***``)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def with_driver(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 means psycopg 3 by it, and the
    ``experiments`` extra installs psycopg2."""
    if not url.startswith("postgresql://"):
        return url
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


def quiet_optuna() -> None:
    """No warnings about Optuna's experimental features (heartbeat, plots), no INFO lines on the console."""
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"optuna\..*|recurrent_rl\.tuning\..*")
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with")  # ask/tell
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_storage(url: str) -> RDBStorage:
    """The study's storage with heartbeats; a UserError when the database cannot be reached."""
    quiet_optuna()
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or optuna.storages.RetryFailedTrialCallback
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 120}}
    last: Exception | None = None
    for attempt in range(5):  # several processes may create the tables at once: retry
        try:
            return RDBStorage(
                with_driver(url),
                engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
                heartbeat_stale_trial_callback=retry(max_retry=1),
            )
        except ImportError as error:
            raise UserError(f"--storage {url}: the database driver is not installed ({error})") from None
        except OperationalError as error:  # unreachable, refused, no such database
            last = error
            break
        except Exception as error:  # e.g. two processes creating the tables at once
            last = error
            time.sleep(0.5 + random.random() * (attempt + 1))
    problem = str(last).strip().splitlines()[0] if last else "unknown error"
    raise UserError(f"--storage {url}: cannot open the database ({problem})")


def open_study(settings: TuneSettings, storage: RDBStorage, n_evaluations: int) -> optuna.Study:
    """Create or load the study, with this command's sampler and pruner."""
    return optuna.create_study(
        storage=storage,
        study_name=settings.study,
        direction="maximize",
        load_if_exists=True,
        sampler=make_sampler(settings),
        pruner=make_pruner(settings.pruner, n_evaluations),
    )


def make_sampler(settings: TuneSettings) -> optuna.samplers.BaseSampler:
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler()
    startup = max(4, min(10, settings.trials // 3))
    return optuna.samplers.TPESampler(n_startup_trials=startup, multivariate=True, constant_liar=True)


def make_pruner(name: str, n_evaluations: int) -> optuna.pruners.BasePruner:
    """rl-baselines3-zoo's pruners; steps are evaluation numbers (1, 2, ...), the same for every trial."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(n_evaluations // 3, 1))
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=4)
    return optuna.pruners.NopPruner()


def study_exists(storage: RDBStorage, name: str) -> bool:
    """Whether ``storage`` holds a study called ``name``."""
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


@dataclass(frozen=True)
class Counts:
    complete: int
    pruned: int
    failed: int
    running: int

    @property
    def finished(self) -> int:
        return self.complete + self.pruned


def counts(trials: list[FrozenTrial], below: int | None = None) -> Counts:
    """Trials by state (only those numbered below ``below``, when given)."""
    states = [trial.state for trial in trials if below is None or trial.number < below]
    return Counts(
        states.count(TrialState.COMPLETE),
        states.count(TrialState.PRUNED),
        states.count(TrialState.FAIL),
        states.count(TrialState.RUNNING),
    )


def study_dir_of(runs_dir: Path, name: str) -> Path:
    return runs_dir / STUDIES / name
