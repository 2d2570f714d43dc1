"""Training, top to bottom: check the config, create the run folder, build envs and agent, learn, save the
outcome, evaluate the final policy, write the summary.

Reliability: the run folder is locked while a process trains it; Ctrl-C and SIGTERM write a checkpoint and
mark the run ``interrupted`` (exit 130); :func:`resume` continues from the newest checkpoint without
unpickling anything; NaN or infinite weights stop the run (``failed``) without overwriting a good file.
Every env is closed by whoever built it, also on a crash.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed

from recurrent_rl.algo.build import build_model, check_spaces
from recurrent_rl.artifacts import records, run_folder, saved_run
from recurrent_rl.artifacts.atomic import atomic_append_text, atomic_write_json, atomic_write_text
from recurrent_rl.artifacts.records import EvalRecord, RunStatus, RunSummary
from recurrent_rl.artifacts.saved_run import SavedRun
from recurrent_rl.config.loader import LoadedConfig
from recurrent_rl.restore import restore
from recurrent_rl.training.callbacks import PeriodicEvaluation
from recurrent_rl.training.checkpoints import PeriodicCheckpoints, save_checkpoint, save_with_statistics
from recurrent_rl.training.device import check_device
from recurrent_rl.training.guards import NonFiniteError, find_nonfinite
from recurrent_rl.training.run_callbacks import TrainingCallbacks
from recurrent_rl.training.session import AfterEval, Previous, Session
from recurrent_rl.training.signals import signals_as_interrupt
from recurrent_rl.training.tb_logger import run_logger
from recurrent_rl.vecenv.build import build_vec_env, check_env_config
from recurrent_rl.vecenv.closing import close_vec_env

EVAL_SEED_OFFSET = 10_000


@dataclass(frozen=True)
class TrainOutcome:
    run_dir: Path
    status: RunStatus
    message: str = ""


def train(
    loaded: LoadedConfig, command: str, run_name: str | None = None, after_eval: AfterEval | None = None
) -> TrainOutcome:
    """Train a new run of ``loaded``; everything checkable is checked before the run folder exists.

    ``after_eval`` (the tuner's) is told each evaluation; a reason it returns ends the run ``stopped_early``
    with that reason as its message.
    """
    cfg = loaded.config
    check_device(cfg.train.device, str(loaded.source))
    check_spaces(cfg, *check_env_config(cfg.env))
    assert cfg.logging.experiment is not None  # the loader fills it in from the file name
    run_dir = run_folder.create_run_dir(Path(cfg.logging.runs_dir), cfg.logging.experiment, run_name)
    with run_folder.run_lock(run_dir), signals_as_interrupt() as signals:
        config_yaml = loaded.resolved_yaml()
        atomic_write_text(run_dir / run_folder.CONFIG, config_yaml)
        atomic_write_text(run_dir / run_folder.COMMAND, command + "\n")
        atomic_write_json(run_dir / run_folder.VERSIONS, run_folder.versions())
        torch.set_num_threads(cfg.train.torch_threads)
        set_random_seed(cfg.train.seed)
        env = build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=cfg.train.seed, training=True)
        try:
            model = build_model(cfg, env)
            return _learn(Session(cfg, run_dir, config_yaml, signals, after_eval), model, previous=None)
        finally:
            close_vec_env(env)


def resume(saved: SavedRun, command: str, after_eval: AfterEval | None = None) -> TrainOutcome:
    """Continue ``saved`` (a run at its newest checkpoint) with the same config, count and TensorBoard run;
    ``after_eval`` as in :func:`train`."""
    run_dir, cfg = saved.run_dir, saved.require_config()
    check_device(cfg.train.device, str(saved.config_path))
    with run_folder.run_lock(run_dir), signals_as_interrupt() as signals:
        saved_run.check_unfinished(run_dir)  # another process may have finished it since it was located
        torch.set_num_threads(cfg.train.torch_threads)
        n_envs, seed = cfg.env.n_envs, cfg.train.seed
        with restore(saved, n_envs=n_envs, seed=seed, training=True, resume=True) as restored:
            assert restored.model is not None
            previous = _previous(run_dir, restored.model.num_timesteps)
            atomic_append_text(run_dir / run_folder.COMMAND, command + "\n")
            config_yaml = saved.config_path.read_text(encoding="utf-8")
            session = Session(cfg, run_dir, config_yaml, signals, after_eval)
            return _learn(session, restored.model, previous)


def _previous(run_dir: Path, timesteps: int) -> Previous:
    """The records of ``run_dir`` a resume from ``timesteps`` keeps (later evaluations are redone)."""
    history = records.read_history(run_dir)
    summary = records.read_summary(run_dir)
    # best_model.zip may come from an evaluation after the checkpoint: keep it unless a better one comes.
    best = records.best_of(history) if (run_dir / run_folder.BEST_MODEL).is_file() else None
    kept = [record for record in history if (record.timesteps or 0) <= timesteps]
    wall_time = summary.wall_time_s if summary is not None and summary.wall_time_s else 0.0
    earlier = [steps for steps in summary.resumed_at if steps < timesteps] if summary is not None else []
    return Previous(kept, best, wall_time, [*earlier, timesteps])


def _learn(session: Session, model: OnPolicyAlgorithm, previous: Previous | None) -> TrainOutcome:
    """Learn to the budget, then save the outcome, evaluate the final policy and write the summary."""
    cfg, run_dir = session.cfg, session.run_dir
    n_eval_envs = min(cfg.train.n_eval_episodes, cfg.env.n_envs)
    eval_seed = cfg.train.seed + EVAL_SEED_OFFSET
    eval_env = build_vec_env(
        cfg.env, cfg.algo, n_envs=n_eval_envs, seed=eval_seed, training=False, vec_env="dummy"
    )
    start_timesteps = model.num_timesteps
    logger = run_logger(run_dir / run_folder.TENSORBOARD, start_timesteps if previous else None)
    model.set_logger(logger)
    try:
        callbacks = TrainingCallbacks.build(session, eval_env, previous)
        wall_before = previous.wall_time if previous else 0.0
        resumed_at = previous.resumed_at if previous else []
        running = RunSummary(
            status="running", total_timesteps=start_timesteps, wall_time_s=wall_before, resumed_at=resumed_at
        )
        records.write_summary(run_dir, running)

        progress_bar = cfg.train.progress_bar if cfg.train.progress_bar is not None else sys.stderr.isatty()
        started = time.perf_counter()
        status, message = _run_learning(session, model, callbacks.in_order, progress_bar)
        wall_time = time.perf_counter() - started
        status, message = callbacks.stopped_early(status, message)

        checkpoint, message = _save_outcome(session, model, status, message, callbacks.checkpoints)
        final = None
        if status in records.FINISHED:
            final, message = _final_evaluation(callbacks.evaluation, model, message)
        trained = model.num_timesteps - start_timesteps
        summary = RunSummary(
            status=status,
            message=message,
            total_timesteps=model.num_timesteps,
            wall_time_s=round(wall_before + wall_time, 3),
            fps=round(trained / wall_time, 1) if wall_time > 0 else None,
            final_eval=final,
            best_eval=callbacks.evaluation.best if callbacks.evaluation.best is not None else final,
            checkpoint=str(checkpoint.relative_to(run_dir)) if checkpoint is not None else None,
            seed=cfg.train.seed,
            algorithm=type(model).__name__,
            policy=type(model.policy).__name__,
            device=str(model.device),
            collect_time_s=round(callbacks.phases.collect_s, 3),
            train_time_s=round(callbacks.phases.train_s, 3),
            resumed_at=resumed_at,
        )
        records.write_summary(run_dir, summary)
        return TrainOutcome(run_dir=run_dir, status=status, message=message)
    finally:
        logger.close()
        close_vec_env(eval_env)


def _run_learning(
    session: Session, model: OnPolicyAlgorithm, callbacks: list[BaseCallback], progress_bar: bool
) -> tuple[RunStatus, str]:
    """``model.learn`` to the budget; how it ended: completed, interrupted or failed (a crash re-raises)."""
    remaining = session.cfg.train.total_timesteps - model.num_timesteps
    status: RunStatus = "completed"
    message = ""
    try:
        model.learn(remaining, callback=callbacks, progress_bar=progress_bar, reset_num_timesteps=False)
    except KeyboardInterrupt:
        status = "interrupted"
    except NonFiniteError as error:
        status, message = "failed", str(error)
    except Exception as error:
        if session.signals.received:  # e.g. SIGTERM to the process group ended the env workers first
            status = "interrupted"
        else:
            problem = find_nonfinite(model)  # e.g. torch.distributions rejecting NaN logits
            if problem is None:  # a crash (say, in the env): record it, keep the checkpoints, report it
                _record_crash(session.run_dir, model.num_timesteps, error)
                raise
            status, message = "failed", problem
    if status != "failed":
        problem = find_nonfinite(model)
        if problem is not None:
            status, message = "failed", problem
    return status, message


def _save_outcome(
    session: Session,
    model: OnPolicyAlgorithm,
    status: RunStatus,
    message: str,
    checkpoints: PeriodicCheckpoints,
) -> tuple[Path | None, str]:
    """Interrupted: a checkpoint. Failed: point at the last good one. Finished: model.zip and statistics."""
    run_dir = session.run_dir
    if status == "interrupted":
        model.num_timesteps = checkpoints.consistent_timesteps()
        checkpoint = save_checkpoint(model, run_dir)
        message = (
            f"interrupted at {model.num_timesteps} timesteps; checkpoint {checkpoint}; "
            f"continue with: recurrent-rl train --resume {run_dir}"
        )
        return checkpoint, message
    if status == "failed":
        last_good = saved_run.newest_checkpoint(run_dir)
        message += f"; last good checkpoint: {last_good}" if last_good else "; no checkpoint was written"
        return last_good, message
    save_with_statistics(model, run_dir / run_folder.MODEL, run_dir / run_folder.NORMALIZATION)
    return None, message


def _final_evaluation(
    evaluation: PeriodicEvaluation, model: OnPolicyAlgorithm, message: str
) -> tuple[EvalRecord | None, str]:
    """Evaluate the saved final policy; an interrupt here leaves the run complete without it."""
    try:
        final = evaluation.run_evaluation()
    except KeyboardInterrupt:
        return None, "the final evaluation was interrupted"
    evaluation.logger.record("eval/final_mean_return", final.mean_return)
    evaluation.logger.record("time/total_timesteps", model.num_timesteps, exclude="tensorboard")
    evaluation.logger.dump(model.num_timesteps)
    return final, message


def _record_crash(run_dir: Path, timesteps: int, error: Exception) -> None:
    checkpoint = saved_run.newest_checkpoint(run_dir)
    summary = RunSummary(
        status="failed",
        message=f"crashed at timestep {timesteps}: {type(error).__name__}: {error}",
        total_timesteps=timesteps,
        checkpoint=str(checkpoint.relative_to(run_dir)) if checkpoint is not None else None,
    )
    records.write_summary(run_dir, summary)
