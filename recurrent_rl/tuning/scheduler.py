"""The trials of this command, scheduled: ask Optuna for trials while there are slots, train each trial's
seeds as ``recurrent-rl train`` jobs (side by side when slots are free), report the seeds' mean evaluation
to the pruner step by step, resubmit a training whose job was lost, and tell each trial how it ended.

A pruned trial's trainings are asked to stop at their next evaluation (:mod:`~recurrent_rl.experiments.
stop_file`); a training that fails on its own fails its trial and stops its other seeds; a lost one
(killed by a signal not ours, its Ray worker or node dead) resumes from its checkpoint, on any live node, up
to ``--retries`` times. Ctrl-C or SIGTERM: one SIGINT per training; their trials FAIL, and are queued again.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import optuna
from optuna.storages import RetryFailedTrialCallback
from optuna.trial import TrialState

from recurrent_rl.config.loader import LoadedConfig
from recurrent_rl.experiments import plan
from recurrent_rl.experiments.executors import Ended, Executor, Job
from recurrent_rl.experiments.progress import Progress, Running, current_timesteps
from recurrent_rl.experiments.scheduler import poll_until_done, wait_for_trainings
from recurrent_rl.experiments.stop_file import request_stop
from recurrent_rl.tuning.asking import Asker, prepare
from recurrent_rl.tuning.coordination import Heartbeats
from recurrent_rl.tuning.objective import TrialFailed, read_curve, step_mean
from recurrent_rl.tuning.outputs import describe
from recurrent_rl.tuning.space import SearchSpace
from recurrent_rl.tuning.study import TuneSettings
from recurrent_rl.tuning.trial import (
    RERUN_FAILS,
    RERUN_HELPS,
    SeedRun,
    TrialRuns,
    conclude,
    resume_args,
    train_args,
)

SHOW_SECONDS = 2.0  # how often the study is read for trials other commands ended
MAX_FAILURES_IN_A_ROW = 3
LOGS = "logs"  # <study folder>/logs/<run>.log: each training's output


class StudyScheduler:
    """Runs trials of ``study`` on ``executor`` until the study has its trials, the deadline or Ctrl-C."""

    def __init__(
        self,
        executor: Executor,
        settings: TuneSettings,
        study: optuna.Study,
        base: LoadedConfig,
        space: SearchSpace,
    ) -> None:
        self.executor, self.settings, self.study = executor, settings, study
        self.base, self.space = base, space
        self.active: list[TrialRuns] = []
        self.heartbeats = Heartbeats(study._storage)
        self.progress = Progress(name="tune")
        self.asker = Asker(settings, study, self.heartbeats)
        self.asking = True
        self.stopping = False
        self.failures = 0  # trials in a row that failed on their own
        self.shown = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        self.looked = 0.0

    def run(self) -> bool:
        """Until this command has nothing more to do: True when interrupted."""
        try:  # a signal waits for the step: no trial is left half asked, started or told
            return poll_until_done(self._step, self._stop)
        finally:
            self.heartbeats.close()
            self.progress.close()

    def _step(self) -> bool:
        self._reap()
        self._report()
        self._conclude()
        if not (self._fill() or self.active):
            return False
        self._show()
        return True

    @property
    def gave_up(self) -> bool:
        return self.failures >= MAX_FAILURES_IN_A_ROW

    def _fill(self) -> bool:
        """Start pending trainings, then new trials, while slots are free; False once no trial will come."""
        free = self.executor.slots - sum(run.state == "running" for t in self.active for run in t.runs)
        for trial in [t for t in self.active if not t.stopping]:
            for run in [run for run in trial.runs if run.state == "pending"]:
                if free > 0 and self._submit(trial, run):
                    free -= 1
        while free > 0 and self.asking:
            asked = self._ask()
            if asked is None:
                break
            for run in asked.runs if not asked.stopping else []:
                if free > 0 and self._submit(asked, run):
                    free -= 1
        return self.asking

    def _ask(self) -> TrialRuns | None:
        """A new trial of ours, or None (nothing to ask now; :attr:`asking` False: never again)."""
        deadline = self.settings.deadline
        if (deadline is not None and time.time() >= deadline) or self.gave_up or self.asker.done:
            self.asking = False
            return None
        trial = self.asker.ask()
        if trial is None:
            return None
        if self.asker.surplus(trial):
            self._tell(trial, TrialState.FAIL)
            return None
        prepared = prepare(trial, self.settings, self.space, self.base)
        if isinstance(prepared, str):  # a combination the config refuses: pruned, with the loader's reason
            self._tell(trial, TrialState.PRUNED)
            return None
        self.active.append(prepared)
        return prepared

    def _submit(self, trial: TrialRuns, run: SeedRun) -> bool:
        """Start or resume ``run``; False when it cannot start now (a process still holds its folder)."""
        action = plan.next_action(run.run_dir)
        if action == "busy":
            return False
        if action == "skip":  # its lost job had finished the training
            self._ended(trial, run, Ended(0))
            return False
        if action == "restart":
            plan.discard(run.run_dir, self.settings.study_dir)
        args = resume_args(run) if action == "resume" else train_args(self.settings, trial.overrides, run)
        run.handle = self.executor.submit(Job(tuple(args), Path.cwd(), self._log(run)))
        run.state = "running"
        verb = {"resume": "resumed", "restart": "restarted (no checkpoint)"}.get(action, "started")
        self._event(f"{verb} {run.run_dir.name}")
        return True

    def _reap(self) -> None:
        for trial in self.active:
            for run in [run for run in trial.runs if run.state == "running"]:
                ended = self.executor.poll(run.handle)
                if ended is None:
                    continue
                run.handle = None
                retry = not (self.stopping or trial.stopping) and run.retries < self.settings.retries
                if ended.lost and retry:
                    run.retries += 1
                    run.state = "pending"
                    retries = f"retry {run.retries} of {self.settings.retries}"
                    self._event(f"{run.run_dir.name} lost: {ended.reason}; {retries}")
                    continue
                self._ended(trial, run, ended)

    def _ended(self, trial: TrialRuns, run: SeedRun, ended: Ended) -> None:
        run.state = "ended"
        run.status, run.message = plan.outcome(run.run_dir, self._log(run), ended.code, ended.reason)
        if ended.lost and not (self.stopping or trial.stopping):
            run.lost = True
            run.message = (
                f"{ended.reason}; its job was lost {run.retries + 1} times, no retry left "
                f"(--retries {self.settings.retries})"
            )
        with contextlib.suppress(OSError):
            run.stop_file.unlink(missing_ok=True)
        self._refresh(trial, run)
        if run.status == "failed" and not run.lost and not trial.stopping:
            trial.failed = f"seed {run.seed}: {run.message}"
            self._cancel(trial)

    def _refresh(self, trial: TrialRuns, run: SeedRun) -> None:
        try:
            run.curve = read_curve(run.run_dir, self.settings.metric)
        except TrialFailed as error:
            if not trial.stopping:
                trial.failed = str(error)
                self._cancel(trial)

    def _cancel(self, trial: TrialRuns) -> None:
        for run in trial.runs:
            if run.state == "running":
                self.executor.cancel(run.handle)

    def _report(self) -> None:
        """Report each step every seed has reached (their mean) and stop the trial where the pruner says."""
        for trial in list(self.active):
            try:
                self._report_trial(trial)
            except optuna.exceptions.UpdateFinishedTrialError:
                self._taken(trial)

    def _report_trial(self, trial: TrialRuns) -> None:
        """Report the steps every seed of ``trial`` has reached; ask its runs to stop when it is pruned."""
        for run in [run for run in trial.runs if run.state == "running"]:
            self._refresh(trial, run)
        curves = [run.curve for run in trial.runs]
        ended = [run.state == "ended" for run in trial.runs]
        while not trial.stopping and trial.reported < max(len(curve) for curve in curves):
            step = trial.reported + 1
            value = step_mean(curves, ended, step)
            if value is None:
                break
            trial.trial.report(value, step)
            trial.reported = step
            if trial.trial.should_prune():
                timesteps = next(curve[step - 1][0] for curve in curves if len(curve) >= step)
                at = f"evaluation {step} ({timesteps} steps)"
                trial.pruned = f"pruned by the tuner at {at}: {value:.4g}"
                for run in trial.runs:
                    if run.state == "running":
                        request_stop(run.stop_file, trial.pruned)

    def _conclude(self) -> None:
        for trial in [t for t in self.active if t.ended()]:
            self.active.remove(trial)
            conclusion = conclude(trial, self.settings, self.base.config.train.total_timesteps)
            try:
                for key, value in conclusion.attrs.items():
                    trial.trial.set_user_attr(key, value)
                trial.trial.set_user_attr("retries", sum(run.retries for run in trial.runs))
                self._tell(trial.trial, conclusion.state, conclusion.value)
            except optuna.exceptions.UpdateFinishedTrialError:
                self._taken(trial)
                continue
            rerun = conclusion.attrs.get("rerun")
            self.failures = self.failures + 1 if rerun == RERUN_FAILS else 0
            if rerun == RERUN_HELPS:  # interrupted or lost: its parameters are queued again, once
                frozen = self.study._storage.get_trial(trial.trial._trial_id)
                RetryFailedTrialCallback(max_retry=1)(self.study, frozen)

    def _taken(self, trial: TrialRuns) -> None:
        """Another command failed ``trial`` (this one sent no heartbeat for too long) and queued it again."""
        self._cancel(trial)
        if trial in self.active:
            self.active.remove(trial)
        self.heartbeats.remove(trial.trial._trial_id)
        self._event(f"trial {trial.trial.number:04d} was failed by another command (no heartbeat from here)")

    def _tell(self, trial: optuna.Trial, state: TrialState, value: float | None = None) -> None:
        self.study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
        self.heartbeats.remove(trial._trial_id)
        self.shown.add(trial.number)
        self._event(describe(self.study._storage.get_trial(trial._trial_id)))

    def _stop(self) -> None:
        """One SIGINT per training (another per further Ctrl-C); wait for them; tell their trials."""
        self.stopping = True
        self._event("stopping: one SIGINT to each training (its run checkpoints and ends interrupted)")
        wait_for_trainings(self._cancel_all, self._reap, self._busy)
        for trial in self.active:
            for run in [run for run in trial.runs if run.state == "pending"]:
                run.state, run.status, run.message = "ended", "interrupted", "not started: interrupted"
        self._conclude()

    def _cancel_all(self) -> None:
        for trial in self.active:
            self._cancel(trial)

    def _busy(self) -> bool:
        return any(run.state == "running" for trial in self.active for run in trial.runs)

    def _log(self, run: SeedRun) -> Path:
        return self.settings.study_dir / LOGS / f"{run.run_dir.name}.log"

    def _status(self) -> str:
        runs = sum(run.state == "running" for trial in self.active for run in trial.runs)
        return f"{len(self.shown)} trials ended, {len(self.active)} running here ({runs} training(s))"

    def _event(self, line: str) -> None:
        self.progress.event(line, self._status())

    def _show(self) -> None:
        """The live table; a line for each trial other commands ended since the last look."""
        if time.monotonic() - self.looked > SHOW_SECONDS:
            self.looked = time.monotonic()
            for trial in self.study.get_trials(deepcopy=False):
                if trial.state.is_finished() and trial.number not in self.shown:
                    self.shown.add(trial.number)
                    self._event(describe(trial))
        budget = self.base.config.train.total_timesteps
        running = [
            Running(run.run_dir.name, current_timesteps(run.run_dir), budget, run.retries)
            for trial in self.active
            for run in trial.runs
            if run.state == "running"
        ]
        self.progress.update(self._status(), running)
