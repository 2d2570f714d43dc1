"""The callbacks of one training, built from its config, and how they tell that it stopped early."""

from __future__ import annotations

from dataclasses import dataclass

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.artifacts.records import RunStatus
from recurrent_rl.training.callbacks import AfterEvaluation, PeriodicEvaluation, RunMetadata, StopAtTarget
from recurrent_rl.training.checkpoints import PeriodicCheckpoints
from recurrent_rl.training.guards import FiniteGuard
from recurrent_rl.training.hparams import HPARAM_METRICS, hparams
from recurrent_rl.training.phases import PhaseTimer
from recurrent_rl.training.session import Previous, Session


@dataclass(frozen=True)
class TrainingCallbacks:
    """The callbacks of one training (``in_order``) and those whose state tells how it ended."""

    in_order: list[BaseCallback]
    phases: PhaseTimer
    checkpoints: PeriodicCheckpoints
    evaluation: PeriodicEvaluation
    stop: StopAtTarget | None
    hook: AfterEvaluation | None

    @classmethod
    def build(cls, session: Session, eval_env: VecEnv, previous: Previous | None) -> TrainingCallbacks:
        """Phase timing, run metadata, the NaN guard, checkpoints, evaluation (and stop_at), the tuner's."""
        cfg, run_dir = session.cfg, session.run_dir
        checkpoints = PeriodicCheckpoints(run_dir, cfg.train.checkpoint_freq, cfg.train.keep_checkpoints)
        stop = StopAtTarget(cfg.train.stop_at) if cfg.train.stop_at is not None else None
        best = previous.best if previous else None
        checkpoints.best_timesteps = best.timesteps if best is not None else None
        evaluation = PeriodicEvaluation(
            eval_env,
            run_dir,
            eval_freq=cfg.train.eval_freq,
            n_eval_episodes=cfg.train.n_eval_episodes,
            deterministic=cfg.train.eval_deterministic,
            history=previous.history if previous else [],
            best=best,
            callback_after_eval=stop,
            on_best=lambda record: setattr(checkpoints, "best_timesteps", record.timesteps),
        )
        phases = PhaseTimer()
        in_order = [
            phases,
            RunMetadata(session.config_yaml, hparams(cfg), HPARAM_METRICS),
            FiniteGuard(),  # before the checkpoints: no checkpoint holds NaN weights
            checkpoints,
            evaluation,
        ]
        hook = AfterEvaluation(evaluation, session.after_eval) if session.after_eval else None
        in_order += [hook] if hook is not None else []
        return cls(in_order, phases, checkpoints, evaluation, stop, hook)

    def stopped_early(self, status: RunStatus, message: str) -> tuple[RunStatus, str]:
        """A completed run that reached ``train.stop_at`` or was stopped by the tuner: ``stopped_early``."""
        if status == "completed" and self.stop is not None and self.stop.reached:
            status = "stopped_early"
        if status == "completed" and self.hook is not None and self.hook.reason is not None:
            status, message = "stopped_early", self.hook.reason
        return status, message
