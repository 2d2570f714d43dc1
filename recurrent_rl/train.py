"""Training, top to bottom: check the config, create the run folder, build envs and agent, learn, save, evaluate."""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl import run_folder
from recurrent_rl.agent import algorithm_class, build_model, check_spaces
from recurrent_rl.callbacks import (
    CheckpointCallback,
    EvalCallback,
    FiniteGuard,
    NonFiniteError,
    RunMetadataCallback,
    checkpoint_name,
    save_checkpoint,
)
from recurrent_rl.config import Config, LinearSchedule
from recurrent_rl.config_loader import LoadedConfig, load_config
from recurrent_rl.environment import check_env_config, find_vec_normalize, make_vec_env
from recurrent_rl.errors import UserError
from recurrent_rl.evaluation import evaluate
from recurrent_rl.normalization import load_normalization, save_normalization

EVAL_SEED_OFFSET = 10_000
HPARAM_METRICS = ["eval/mean_return", "eval/success_rate", "eval/mean_ep_length"]


@dataclass(frozen=True)
class TrainOutcome:
    run_dir: Path
    status: str  # completed | stopped_early | interrupted | failed
    message: str = ""


def train(loaded: LoadedConfig, command: str, run_name: str | None = None) -> TrainOutcome:
    """Train a new run of ``loaded``; everything checkable is checked before the run folder exists."""
    cfg = loaded.config
    observation_space, action_space = check_env_config(cfg.env)
    check_spaces(cfg, observation_space, action_space)
    assert cfg.logging.experiment is not None  # the loader fills it in from the file name

    run_dir = run_folder.create_run_dir(Path(cfg.logging.runs_dir), cfg.logging.experiment, run_name)
    config_yaml = loaded.resolved_yaml()
    run_folder.atomic_write_text(run_dir / run_folder.CONFIG, config_yaml)
    run_folder.atomic_write_text(run_dir / run_folder.COMMAND, command + "\n")
    run_folder.atomic_write_json(run_dir / run_folder.VERSIONS, run_folder.versions())

    torch.set_num_threads(cfg.train.torch_threads)
    set_random_seed(cfg.train.seed)
    env = make_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=cfg.train.seed, training=True)
    model = build_model(cfg, env)
    return _learn_and_finish(cfg, model, env, run_dir, config_yaml, history=[], previous_wall_time=0.0)


def resume(run_dir: Path, command: str) -> TrainOutcome:
    """Continue ``run_dir`` from its newest checkpoint with the same config, timestep count and TensorBoard run."""
    if not run_dir.is_dir():
        raise UserError(f"--resume {run_dir}: no such run folder")
    config_path = run_dir / run_folder.CONFIG
    if not config_path.is_file():
        raise UserError(f"--resume {run_dir}: not a run folder (no {run_folder.CONFIG})")
    summary_path = run_dir / run_folder.SUMMARY
    previous = run_folder.read_json(summary_path) if summary_path.is_file() else {}
    if previous.get("status") in ("completed", "stopped_early"):
        raise UserError(f"--resume {run_dir}: the run already finished ({previous['status']}); nothing to resume")
    checkpoint = newest_checkpoint(run_dir)
    if checkpoint is None:
        raise UserError(f"--resume {run_dir}: no checkpoint in {run_dir / run_folder.CHECKPOINTS}")
    cfg = load_config(config_path).config
    check_env_config(cfg.env)
    with (run_dir / run_folder.COMMAND).open("a", encoding="utf-8") as handle:
        handle.write(command + "\n")

    torch.set_num_threads(cfg.train.torch_threads)
    set_random_seed(cfg.train.seed)
    env = make_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=cfg.train.seed + 1, training=True)
    vec_normalize = find_vec_normalize(env)
    if vec_normalize is not None:
        load_normalization(vec_normalize, checkpoint.with_suffix(".npz"))
    try:
        model = algorithm_class(cfg).load(checkpoint, env=env, device=cfg.train.device)
    except Exception as error:  # a damaged checkpoint is reported, not raised
        raise UserError(f"{checkpoint}: cannot load checkpoint ({type(error).__name__}: {error})") from None
    history_path = run_dir / run_folder.EVALUATIONS
    history = run_folder.read_json(history_path) if history_path.is_file() else []
    history = [entry for entry in history if entry["timesteps"] <= model.num_timesteps]
    config_yaml = config_path.read_text(encoding="utf-8")
    wall = float(previous.get("wall_time_s", 0.0))
    return _learn_and_finish(cfg, model, env, run_dir, config_yaml, history=history, previous_wall_time=wall)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the most timesteps (names carry zero-padded counts)."""
    found = sorted((run_dir / run_folder.CHECKPOINTS).glob("model_*_steps.zip"))
    return found[-1] if found else None


def _learn_and_finish(
    cfg: Config,
    model: OnPolicyAlgorithm,
    env: VecEnv,
    run_dir: Path,
    config_yaml: str,
    history: list[dict[str, Any]],
    previous_wall_time: float,
) -> TrainOutcome:
    train_cfg = cfg.train
    n_eval_envs = min(train_cfg.n_eval_episodes, cfg.env.n_envs)
    eval_env = make_vec_env(
        cfg.env, cfg.algo, n_envs=n_eval_envs, seed=train_cfg.seed + EVAL_SEED_OFFSET, training=False, vec_env="dummy"
    )
    model.set_logger(configure(str(run_dir / run_folder.TENSORBOARD), ["tensorboard", "csv"]))
    evaluation = EvalCallback(
        eval_env,
        run_dir,
        eval_freq=train_cfg.eval_freq,
        n_eval_episodes=train_cfg.n_eval_episodes,
        deterministic=train_cfg.eval_deterministic,
        stop_at=train_cfg.stop_at,
        history=history,
    )
    callbacks: list[BaseCallback] = [
        RunMetadataCallback(config_yaml, hparams(cfg), HPARAM_METRICS),
        FiniteGuard(),
        CheckpointCallback(run_dir, train_cfg.checkpoint_freq),
        evaluation,
    ]
    progress_bar = train_cfg.progress_bar if train_cfg.progress_bar is not None else sys.stderr.isatty()
    start_timesteps = model.num_timesteps
    remaining = train_cfg.total_timesteps - start_timesteps

    status, message = "completed", ""
    started = time.perf_counter()
    with _sigterm_as_interrupt():
        try:
            model.learn(remaining, callback=callbacks, progress_bar=progress_bar, reset_num_timesteps=False)
        except KeyboardInterrupt:
            status = "interrupted"
        except NonFiniteError as error:
            status, message = "failed", str(error)
    wall_time = time.perf_counter() - started
    if status == "completed" and evaluation.stopped_early:
        status = "stopped_early"

    if status == "interrupted":
        path = save_checkpoint(model, run_dir, checkpoint_name(model.num_timesteps))
        message = f"interrupted at {model.num_timesteps} timesteps; checkpoint {path}"
    elif status == "failed":
        last = newest_checkpoint(run_dir)
        message += f"; last good checkpoint: {last}" if last else "; no checkpoint had been written yet"
    else:
        vec_normalize = find_vec_normalize(env)
        if vec_normalize is not None:
            save_normalization(vec_normalize, run_dir / run_folder.NORMALIZATION)
        run_folder.save_model(model, run_dir / run_folder.MODEL)

    final_eval = None
    if status in ("completed", "stopped_early"):
        final = evaluate(model, _synced(eval_env, env), train_cfg.n_eval_episodes, train_cfg.eval_deterministic)
        final_eval = final.summary()
        evaluation.logger.record("eval/final_mean_return", final.mean_return)
        evaluation.logger.dump(model.num_timesteps)
    best = evaluation.best
    best_eval = {k: best[k] for k in ("mean_return", "std_return", "success_rate", "n_episodes")} if best else None
    trained = model.num_timesteps - start_timesteps
    summary = {
        "status": status,
        "message": message,
        "total_timesteps": model.num_timesteps,
        "wall_time_s": round(previous_wall_time + wall_time, 3),
        "fps": round(trained / wall_time, 1) if wall_time > 0 else None,
        "final_eval": final_eval,
        "best_eval": best_eval if best_eval is not None else final_eval,
        "seed": train_cfg.seed,
        "algorithm": type(model).__name__,
        "policy": type(model.policy).__name__,
    }
    run_folder.atomic_write_json(run_dir / run_folder.SUMMARY, summary)
    model.logger.close()
    eval_env.close()
    env.close()
    return TrainOutcome(run_dir=run_dir, status=status, message=message)


def _synced(eval_env: VecEnv, env: VecEnv) -> VecEnv:
    from stable_baselines3.common.vec_env import sync_envs_normalization

    sync_envs_normalization(env, eval_env)
    return eval_env


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
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM during training is handled like Ctrl-C: checkpoint, summary, exit 130."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
