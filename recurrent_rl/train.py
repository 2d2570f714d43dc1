"""Training, top to bottom: check the config, create the run folder, build envs and agent, learn, save.

Reliability: the run folder is locked while a process trains it; Ctrl-C and SIGTERM write a checkpoint and
mark the run ``interrupted`` (exit 130); ``resume`` continues from the newest checkpoint without unpickling
anything; NaN or infinite weights stop the run (``failed``) without overwriting a good file.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv

from recurrent_rl import model_file, run_folder
from recurrent_rl.agent import build_model, check_spaces, load_policy_weights
from recurrent_rl.callbacks import (
    CheckpointCallback,
    EvalCallback,
    FiniteGuard,
    NonFiniteError,
    RunMetadataCallback,
    best_entry,
    find_nonfinite,
    save_checkpoint,
)
from recurrent_rl.config import Config, LinearSchedule
from recurrent_rl.config_loader import LoadedConfig, load_config
from recurrent_rl.environment import check_env_config, find_vec_normalize, make_vec_env
from recurrent_rl.errors import UserError
from recurrent_rl.normalization import load_normalization, save_normalization
from recurrent_rl.run_logger import run_logger

EVAL_SEED_OFFSET = 10_000
HPARAM_METRICS = ["eval/mean_return", "eval/success_rate", "eval/mean_ep_length"]
WORKER_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class TrainOutcome:
    run_dir: Path
    status: str  # completed | stopped_early | interrupted | failed
    message: str = ""


@dataclass(frozen=True)
class Previous:
    """What a resumed run keeps: evaluations up to the checkpoint, the best model's entry, time spent."""

    history: list[dict[str, Any]]
    best: dict[str, Any] | None
    wall_time: float


@dataclass
class Signals:
    """The interrupting signals received so far."""

    received: list[int] = field(default_factory=list)


def train(loaded: LoadedConfig, command: str, run_name: str | None = None) -> TrainOutcome:
    """Train a new run of ``loaded``; everything checkable is checked before the run folder exists."""
    cfg = loaded.config
    observation_space, action_space = check_env_config(cfg.env)
    check_spaces(cfg, observation_space, action_space)
    assert cfg.logging.experiment is not None  # the loader fills it in from the file name

    run_dir = run_folder.create_run_dir(Path(cfg.logging.runs_dir), cfg.logging.experiment, run_name)
    with run_folder.run_lock(run_dir), _signals_as_interrupt() as signals:
        config_yaml = loaded.resolved_yaml()
        run_folder.atomic_write_text(run_dir / run_folder.CONFIG, config_yaml)
        run_folder.atomic_write_text(run_dir / run_folder.COMMAND, command + "\n")
        run_folder.atomic_write_json(run_dir / run_folder.VERSIONS, run_folder.versions())

        torch.set_num_threads(cfg.train.torch_threads)
        set_random_seed(cfg.train.seed)
        env = make_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=cfg.train.seed, training=True)
        try:
            model = build_model(cfg, env)
        except BaseException:
            close_env(env)
            raise
        return _learn_and_finish(cfg, model, env, run_dir, config_yaml, signals)


def resume(run_dir: Path, command: str) -> TrainOutcome:
    """Continue ``run_dir`` from its newest checkpoint: same config, timestep count and TensorBoard run.

    The checkpoint is read without unpickling: the model is rebuilt from the run's config, then its weights
    and optimizer state are loaded with ``weights_only=True`` and the timestep count from the plain JSON.
    """
    run_folder.resumable_checkpoint(run_dir)  # before the lock, which would create .lock in any folder
    with run_folder.run_lock(run_dir), _signals_as_interrupt() as signals:
        checkpoint = run_folder.resumable_checkpoint(run_dir, check_lock=False)  # may have changed meanwhile
        config_path = run_dir / run_folder.CONFIG
        cfg = load_config(config_path).config
        check_env_config(cfg.env)

        torch.set_num_threads(cfg.train.torch_threads)
        env = make_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=cfg.train.seed, training=True)
        try:
            model = restore_checkpoint(cfg, env, checkpoint)
        except BaseException:
            close_env(env)
            raise
        previous = _previous(run_dir, model.num_timesteps)
        config_yaml = config_path.read_text(encoding="utf-8")
        run_folder.atomic_append_text(run_dir / run_folder.COMMAND, command + "\n")
        return _learn_and_finish(cfg, model, env, run_dir, config_yaml, signals, previous)


def _previous(run_dir: Path, timesteps: int) -> Previous:
    """The records of ``run_dir`` a resume from ``timesteps`` keeps (later evaluations are redone)."""
    history_path, summary_path = run_dir / run_folder.EVALUATIONS, run_dir / run_folder.SUMMARY
    history = run_folder.read_json(history_path) if history_path.is_file() else []
    summary = run_folder.read_json(summary_path) if summary_path.is_file() else {}
    # best_model.zip may come from an evaluation after the checkpoint: keep it unless a better one comes.
    best = best_entry(history) if (run_dir / run_folder.BEST_MODEL).is_file() else None
    kept = [entry for entry in history if entry["timesteps"] <= timesteps]
    return Previous(kept, best, float(summary.get("wall_time_s") or 0.0))


def restore_checkpoint(cfg: Config, env: VecEnv, checkpoint: Path) -> OnPolicyAlgorithm:
    """The model of ``cfg`` on ``env`` with the weights, optimizer, count and statistics of ``checkpoint``."""
    data = model_file.read_plain_data(checkpoint)
    timesteps = model_file.timesteps(data)
    if timesteps is None:
        raise UserError(f"{checkpoint}: no timestep count (num_timesteps) in the checkpoint")
    vec_normalize = find_vec_normalize(env)
    if vec_normalize is not None:
        load_normalization(vec_normalize, checkpoint.with_suffix(".npz"))
    model = build_model(cfg, env)
    load_policy_weights(model.policy, checkpoint)
    optimizer_state = model_file.read_tensors(checkpoint, "policy.optimizer.pth", model.device)
    try:
        model.policy.optimizer.load_state_dict(optimizer_state)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise UserError(f"{checkpoint}: the optimizer state does not fit the policy ({error})") from None
    model.num_timesteps = timesteps
    n_updates = data.get("_n_updates")
    if isinstance(n_updates, int):
        model._n_updates = n_updates
    # Fresh episodes and sampling noise for the continued part, reproducible from the checkpoint.
    model.set_random_seed((cfg.train.seed + timesteps) % 2**31)
    return model


def _learn_and_finish(
    cfg: Config,
    model: OnPolicyAlgorithm,
    env: VecEnv,
    run_dir: Path,
    config_yaml: str,
    signals: Signals,
    previous: Previous | None = None,
) -> TrainOutcome:
    train_cfg = cfg.train
    n_eval_envs = min(train_cfg.n_eval_episodes, cfg.env.n_envs)
    eval_seed = train_cfg.seed + EVAL_SEED_OFFSET
    eval_env = make_vec_env(
        cfg.env, cfg.algo, n_envs=n_eval_envs, seed=eval_seed, training=False, vec_env="dummy"
    )
    start_timesteps = model.num_timesteps
    model.set_logger(run_logger(run_dir / run_folder.TENSORBOARD, start_timesteps if previous else None))
    previous_wall_time = previous.wall_time if previous else 0.0
    evaluation = EvalCallback(
        eval_env,
        run_dir,
        eval_freq=train_cfg.eval_freq,
        n_eval_episodes=train_cfg.n_eval_episodes,
        deterministic=train_cfg.eval_deterministic,
        stop_at=train_cfg.stop_at,
        history=previous.history if previous else [],
        best=previous.best if previous else None,
    )
    checkpoints = CheckpointCallback(run_dir, train_cfg.checkpoint_freq)
    callbacks: list[BaseCallback] = [
        RunMetadataCallback(config_yaml, hparams(cfg), HPARAM_METRICS),
        FiniteGuard(),  # before the checkpoints: no checkpoint holds NaN weights
        checkpoints,
        evaluation,
    ]
    progress_bar = train_cfg.progress_bar if train_cfg.progress_bar is not None else sys.stderr.isatty()
    remaining = train_cfg.total_timesteps - start_timesteps
    running = {"status": "running", "message": "", "total_timesteps": start_timesteps}
    run_folder.atomic_write_json(run_dir / run_folder.SUMMARY, {**running, "wall_time_s": previous_wall_time})

    status, message = "completed", ""
    started = time.perf_counter()
    try:
        model.learn(remaining, callback=callbacks, progress_bar=progress_bar, reset_num_timesteps=False)
    except KeyboardInterrupt:
        status = "interrupted"
    except NonFiniteError as error:
        status, message = "failed", str(error)
    except Exception as error:
        if signals.received:  # e.g. SIGTERM to the process group ended the env workers first
            status = "interrupted"
        else:
            problem = find_nonfinite(model)  # e.g. torch.distributions rejecting NaN logits
            if problem is None:  # a crash (say, in the env): record it, keep the checkpoints, report it
                _record_crash(run_dir, model.num_timesteps, error)
                raise
            status, message = "failed", problem
    wall_time = time.perf_counter() - started
    if status != "failed":
        problem = find_nonfinite(model)
        if problem is not None:
            status, message = "failed", problem
    if status == "completed" and evaluation.stopped_early:
        status = "stopped_early"

    checkpoint: Path | None = None
    if status == "interrupted":
        model.num_timesteps = checkpoints.consistent_timesteps()
        checkpoint = save_checkpoint(model, run_dir, run_folder.checkpoint_name(model.num_timesteps))
        message = (
            f"interrupted at {model.num_timesteps} timesteps; checkpoint {checkpoint}; "
            f"continue with: recurrent-rl train --resume {run_dir}"
        )
    elif status == "failed":
        checkpoint = run_folder.newest_checkpoint(run_dir)
        message += f"; last good checkpoint: {checkpoint}" if checkpoint else "; no checkpoint was written"
    else:
        vec_normalize = find_vec_normalize(env)
        if vec_normalize is not None:
            save_normalization(vec_normalize, run_dir / run_folder.NORMALIZATION)
        run_folder.save_model(model, run_dir / run_folder.MODEL)

    final_eval = None
    if status in ("completed", "stopped_early"):
        try:
            final = evaluation.run_evaluation()
        except KeyboardInterrupt:  # the model is saved: the run is complete without its final evaluation
            message = "the final evaluation was interrupted"
        else:
            final_eval = final.summary()
            evaluation.logger.record("eval/final_mean_return", final.mean_return)
            evaluation.logger.dump(model.num_timesteps)
    best = evaluation.best
    keys = ("mean_return", "std_return", "success_rate", "n_episodes")
    best_eval = {key: best[key] for key in keys} if best else None
    trained = model.num_timesteps - start_timesteps
    summary = {
        "status": status,
        "message": message,
        "total_timesteps": model.num_timesteps,
        "wall_time_s": round(previous_wall_time + wall_time, 3),
        "fps": round(trained / wall_time, 1) if wall_time > 0 else None,
        "final_eval": final_eval,
        "best_eval": best_eval if best_eval is not None else final_eval,
        "checkpoint": str(checkpoint.relative_to(run_dir)) if checkpoint is not None else None,
        "seed": train_cfg.seed,
        "algorithm": type(model).__name__,
        "policy": type(model.policy).__name__,
    }
    run_folder.atomic_write_json(run_dir / run_folder.SUMMARY, summary)
    model.logger.close()
    close_env(eval_env)
    close_env(env)
    return TrainOutcome(run_dir=run_dir, status=status, message=message)


def _record_crash(run_dir: Path, timesteps: int, error: Exception) -> None:
    checkpoint = run_folder.newest_checkpoint(run_dir)
    summary = {
        "status": "failed",
        "message": f"crashed at timestep {timesteps}: {type(error).__name__}: {error}",
        "total_timesteps": timesteps,
        "checkpoint": str(checkpoint.relative_to(run_dir)) if checkpoint is not None else None,
    }
    run_folder.atomic_write_json(run_dir / run_folder.SUMMARY, summary)


def close_env(env: VecEnv) -> None:
    """Close ``env``, also when an interrupt left a SubprocVecEnv mid-step or ended its workers.

    SB3's ``close`` would wait forever for a reply already received, or fail on a dead worker.
    """
    layer: Any = env
    while layer is not None and not isinstance(layer, SubprocVecEnv):
        layer = getattr(layer, "venv", None)
    if layer is not None and not layer.closed:
        if layer.waiting:
            for remote in layer.remotes:
                with contextlib.suppress(Exception):
                    if remote.poll(WORKER_TIMEOUT_S):
                        remote.recv()
        for remote in layer.remotes:
            with contextlib.suppress(OSError):
                remote.send(("close", None))
        for process in layer.processes:
            process.join(WORKER_TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                process.join()
        for remote in layer.remotes:
            remote.close()
        layer.waiting, layer.closed = False, True
    env.close()


def hparams(cfg: Config) -> dict[str, float | int | str | bool]:
    """Flat hyperparameters for the TensorBoard HParams plugin."""
    flat: dict[str, float | int | str | bool] = {"env.id": cfg.env.id, "env.n_envs": cfg.env.n_envs}
    for section in ("algo", "policy"):
        for key, value in getattr(cfg, section).model_dump().items():
            flat[f"{section}.{key}"] = _hparam_value(value)
    flat["train.seed"] = cfg.train.seed
    flat["train.total_timesteps"] = cfg.train.total_timesteps
    return flat


def _hparam_value(value: Any) -> float | int | str | bool:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict) and "linear" in value:
        start, end = value["linear"]
        return f"linear({start}->{end})"
    if isinstance(value, LinearSchedule):
        return f"linear({value.linear[0]}->{value.linear[1]})"
    return re.sub(r"\s+", "", str(value))


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[Signals]:
    """SIGINT (Ctrl-C) and SIGTERM raise KeyboardInterrupt and are recorded: checkpoint, summary, exit 130."""
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return

    def handler(signum: int, frame: Any) -> None:
        signals.received.append(signum)
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield signals
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
