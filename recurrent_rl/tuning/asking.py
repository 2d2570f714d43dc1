"""This command's next trial: asked from Optuna only while the study needs one, and prepared (parameters
sampled, its runs named, its config checked).

The study needs a trial while fewer than ``--trials`` are finished (COMPLETE or PRUNED) or running, on any
machine; while the running ones could still bring it to its count, the command waits (one may fail).
Before counting, trials of commands that stopped sending heartbeats are failed and queued again.
"""

from __future__ import annotations

import os
import socket
import time

import optuna

from recurrent_rl.config.loader import LoadedConfig, load_config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.coordination import Heartbeats, ask_lock
from recurrent_rl.tuning.space import SearchSpace, sample
from recurrent_rl.tuning.study import HEARTBEAT_SECONDS, TuneSettings, counts
from recurrent_rl.tuning.trial import TrialRuns, placement, seed_runs


class Asker:
    """Asks for trials; :attr:`done` once the study has its count of finished trials."""

    def __init__(self, settings: TuneSettings, study: optuna.Study, heartbeats: Heartbeats) -> None:
        self.settings, self.study, self.heartbeats = settings, study, heartbeats
        self.done = False
        self._checked_stale = 0.0

    def ask(self) -> optuna.Trial | None:
        """A new RUNNING trial with its heartbeat on, or None (wait, or :attr:`done`)."""
        with ask_lock(self.settings.study_dir):
            if time.monotonic() - self._checked_stale > HEARTBEAT_SECONDS:
                optuna.storages.fail_stale_trials(self.study)  # killed commands' trials: FAIL, queued again
                self._checked_stale = time.monotonic()
            now = counts(self.study.get_trials(deepcopy=False))
            self.done = now.finished >= self.settings.trials
            if now.finished + now.running >= self.settings.trials:
                return None
            trial = self.study.ask()
            self.heartbeats.add(trial._trial_id)
            return trial

    def surplus(self, trial: optuna.Trial) -> bool:
        """Whether the study had its trials finished or running when ``trial`` was asked (another machine
        asked at the same moment): the trial then ends FAIL at once."""
        before = counts(self.study.get_trials(deepcopy=False), below=trial.number)
        if before.finished + before.running < self.settings.trials:
            return False
        trial.set_user_attr("surplus", f"the study had {self.settings.trials} trials finished or running")
        return True


def prepare(
    trial: optuna.Trial, settings: TuneSettings, space: SearchSpace, base: LoadedConfig
) -> TrialRuns | str:
    """The trial's parameters sampled and recorded, and its runs; the loader's reason when the sampled
    combination is a config it refuses."""
    sampled = sample(trial, space, base.config)
    runs = seed_runs(settings, trial.number, base.config.train.seed)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("overrides", sampled.overrides)
    trial.set_user_attr("constrained", "; ".join(sampled.constrained))
    trial.set_user_attr("run_dirs", [str(run.run_dir.absolute()) for run in runs])
    try:
        load_config(settings.config, [*settings.sets, *sampled.overrides, *placement(settings)])
    except UserError as error:
        trial.set_user_attr("rejected", str(error))
        return str(error)
    trial_runs = TrialRuns(trial, runs, sampled.overrides)
    taken = [run.run_dir for run in runs if run.run_dir.exists()]
    if taken:
        trial_runs.failed = f"its run folder {taken[0]} exists already (not made by this trial)"
    return trial_runs
