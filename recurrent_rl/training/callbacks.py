"""Training callbacks, one job each: periodic evaluation (with the best model), stopping at a target,
TensorBoard metadata. Checkpoints and the finiteness guard are in :mod:`.checkpoints` and :mod:`.guards`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback, EventCallback
from stable_baselines3.common.logger import HParam, TensorBoardOutputFormat
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.artifacts import records, run_folder
from recurrent_rl.artifacts.records import EvalRecord
from recurrent_rl.config.schema import StopAt
from recurrent_rl.evaluation.episodes import evaluate
from recurrent_rl.training.checkpoints import save_with_statistics
from recurrent_rl.vecenv.normalization import sync_normalization


def _report(line: str) -> None:
    print(line, file=sys.stderr)


class PeriodicEvaluation(EventCallback):
    """Every ``eval_freq`` steps: evaluate, log ``eval/*``, extend evaluations.json, save the best model.

    After each evaluation the child callback (``callback_after_eval``, e.g. :class:`StopAtTarget`) runs and
    may stop training, as with SB3's ``EvalCallback``. ``on_best`` is told each new best record.
    """

    def __init__(
        self,
        eval_env: VecEnv,
        run_dir: Path,
        eval_freq: int,
        n_eval_episodes: int,
        deterministic: bool,
        history: list[EvalRecord],
        best: EvalRecord | None,
        callback_after_eval: BaseCallback | None = None,
        on_best: Callable[[EvalRecord], None] | None = None,
    ) -> None:
        super().__init__(callback_after_eval)
        self.eval_env = eval_env
        self.run_dir = run_dir
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.deterministic = deterministic
        self.history = list(history)
        self.best = best
        self.on_best = on_best
        self.last_eval = (self.history[-1].timesteps or 0) if self.history else 0
        self.last_record: EvalRecord | None = None

    def _on_step(self) -> bool:
        if self.eval_freq <= 0 or self.num_timesteps - self.last_eval < self.eval_freq:
            return True
        self.last_eval = self.num_timesteps
        self.record(self.run_evaluation())
        return self._on_event()

    def run_evaluation(self) -> EvalRecord:
        """Evaluate the current policy with the training env's normalisation statistics."""
        sync_normalization(self.training_env, self.eval_env)
        result = evaluate(self.model, self.eval_env, self.n_eval_episodes, self.deterministic)
        return result.record(self.num_timesteps)

    def record(self, record: EvalRecord) -> None:
        """Log one evaluation, append it to evaluations.json and save the best model so far."""
        self.logger.record("eval/mean_return", record.mean_return)
        self.logger.record("eval/std_return", record.std_return)
        self.logger.record("eval/mean_ep_length", record.mean_length)
        if record.success_rate is not None:
            self.logger.record("eval/success_rate", record.success_rate)
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)
        self.history.append(record)
        self.last_record = record
        records.write_history(self.run_dir, self.history)
        if self.best is None or record.rank() > self.best.rank():
            self.best = record
            best_model = self.run_dir / run_folder.BEST_MODEL
            save_with_statistics(self.model, best_model, self.run_dir / run_folder.BEST_NORMALIZATION)
            if self.on_best is not None:
                self.on_best(record)
        success = "" if record.success_rate is None else f", success {record.success_rate:.2f}"
        spread = f"{record.mean_return:.3f} ± {record.std_return:.3f}"
        _report(f"eval @ {self.num_timesteps} steps: return {spread}{success}")


class StopAtTarget(BaseCallback):
    """Child of :class:`PeriodicEvaluation`: stop once its last evaluation reaches ``train.stop_at``."""

    def __init__(self, stop_at: StopAt) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.reached = False

    def _on_step(self) -> bool:
        assert isinstance(self.parent, PeriodicEvaluation) and self.parent.last_record is not None
        if reached(self.stop_at, self.parent.last_record):
            self.reached = True
            _report(f"stop_at reached at {self.num_timesteps} timesteps")
            return False
        return True


def reached(stop_at: StopAt, record: EvalRecord) -> bool:
    """Either configured target suffices."""
    success = record.success_rate
    by_success = stop_at.success_rate is not None and success is not None and success >= stop_at.success_rate
    by_return = stop_at.mean_return is not None and record.mean_return >= stop_at.mean_return
    return by_success or by_return


class AfterEvaluation(BaseCallback):
    """After each evaluation of ``evaluation``, tell ``hook`` its record; a reason returned stops training.

    Used by the tuner (report to the trial, stop a pruned one); the reason becomes the run's message.
    """

    def __init__(self, evaluation: PeriodicEvaluation, hook: Callable[[EvalRecord], str | None]) -> None:
        super().__init__()
        self.evaluation = evaluation
        self.hook = hook
        self.seen = len(evaluation.history)
        self.reason: str | None = None

    def _on_step(self) -> bool:
        history = self.evaluation.history
        if len(history) == self.seen:
            return True
        self.seen = len(history)
        self.reason = self.hook(history[-1])
        return self.reason is None


class RunMetadata(BaseCallback):
    """Write the resolved config as text and the hyperparameters (HParams plugin) to TensorBoard."""

    def __init__(
        self, config_yaml: str, hparams: dict[str, float | int | str | bool], metrics: list[str]
    ) -> None:
        super().__init__()
        self.config_yaml = config_yaml
        self.hparams = hparams
        self.metrics = metrics

    def _on_training_start(self) -> None:
        for output in self.logger.output_formats:
            if isinstance(output, TensorBoardOutputFormat):
                text = "    " + self.config_yaml.replace("\n", "\n    ")
                output.writer.add_text("config", text, self.num_timesteps)
        metric_dict: dict[str, float] = {name: 0.0 for name in self.metrics}
        self.logger.record(
            "hparams", HParam(self.hparams, metric_dict), exclude=("stdout", "log", "json", "csv")
        )

    def _on_step(self) -> bool:
        return True
