"""Speed of our FastRecurrentPPO against sb3-contrib's RecurrentPPO and memoryless PPO.

One process, one env and one set of hyperparameters for all three: rl-baselines3-zoo's CartPoleNoVel-v1
settings (8 envs, n_steps 32, batch_size 256, n_epochs 20, gae_lambda 0.8, gamma 0.98, ent_coef 0, linear
learning rate 1e-3 and clip range 0.2, ReLU, ortho_init False, net_arch pi [64] vf [64], VecNormalize;
LSTM hidden size 64 with a separate critic LSTM), ``torch.set_num_threads(1)``::

    python benchmarks/bench_recurrent_ppo.py [--timesteps 100000] [--seed 0] \
        [--out benchmarks/results/recurrent_ppo.md] [--algos plain,fast,ppo]

Reports steps/s end to end, the time in ``collect_rollouts`` and in ``train`` (timed by wrapping both on
the instance), process CPU time (less sensitive to other jobs on a shared machine than wall time), the
mean return of 20 deterministic evaluation episodes after training, and the ratios. Writes a markdown
table to ``--out`` and prints it. ``--timesteps 20000`` is a quick mode (early training has shorter
episodes, hence more and shorter padded sequences, so speed-ups are smaller there).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import sb3_contrib
import stable_baselines3
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO  # noqa: E402

N_ENVS = 8
GAMMA = 0.98
HYPERPARAMS: dict[str, Any] = dict(
    n_steps=32,
    batch_size=256,
    n_epochs=20,
    gae_lambda=0.8,
    gamma=GAMMA,
    ent_coef=0.0,
    learning_rate=LinearSchedule(1e-3, 0.0, 1.0),  # zoo's lin_1e-3: 1e-3 * progress_remaining
    clip_range=LinearSchedule(0.2, 0.0, 1.0),
)
MLP_KWARGS: dict[str, Any] = dict(ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]))
LSTM_KWARGS: dict[str, Any] = dict(MLP_KWARGS, lstm_hidden_size=64, enable_critic_lstm=True)

ALGOS: dict[str, tuple[str, Callable[..., BaseAlgorithm], str, dict[str, Any]]] = {
    "plain": ("sb3-contrib RecurrentPPO", RecurrentPPO, "MlpLstmPolicy", LSTM_KWARGS),
    "fast": ("FastRecurrentPPO (ours)", FastRecurrentPPO, "MlpLstmPolicy", LSTM_KWARGS),
    "ppo": ("PPO (memoryless)", PPO, "MlpPolicy", MLP_KWARGS),
}


class NoVelocity(gym.ObservationWrapper):
    """CartPole-v1 with the cart and pole velocities (indices 1 and 3) zeroed, as the zoo's CartPoleNoVel."""

    def observation(self, observation: np.ndarray) -> np.ndarray:
        observation = observation.copy()
        observation[[1, 3]] = 0.0
        return observation


def make_env(seed: int) -> VecNormalize:
    vec_env = make_vec_env("CartPole-v1", n_envs=N_ENVS, seed=seed, wrapper_class=NoVelocity)
    return VecNormalize(vec_env, gamma=GAMMA)


@dataclass
class Result:
    name: str
    seconds: float
    cpu_seconds: float
    collect_seconds: float
    train_seconds: float
    timesteps: int
    eval_mean: float
    eval_std: float

    @property
    def steps_per_second(self) -> float:
        return self.timesteps / self.seconds

    @property
    def cpu_steps_per_second(self) -> float:
        return self.timesteps / self.cpu_seconds


def time_phases(model: BaseAlgorithm) -> dict[str, float]:
    """Wrap ``collect_rollouts`` and ``train`` on the instance; the returned dict accumulates seconds."""
    seconds = {"collect_rollouts": 0.0, "train": 0.0}
    for name in seconds:
        method = getattr(model, name)

        def timed(*args: Any, _method: Callable[..., Any] = method, _name: str = name, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                seconds[_name] += time.perf_counter() - start

        setattr(model, name, timed)
    return seconds


def evaluate(model: BaseAlgorithm, train_env: VecNormalize, seed: int, episodes: int) -> tuple[float, float]:
    """Mean and std return of deterministic episodes (LSTM states and episode starts passed along)."""
    eval_env = VecNormalize(
        make_vec_env("CartPole-v1", n_envs=1, seed=seed + 10_000, wrapper_class=NoVelocity),
        training=False,
        norm_reward=False,
    )
    eval_env.obs_rms = train_env.obs_rms
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=episodes, deterministic=True)
    return float(mean), float(std)


def run(key: str, timesteps: int, seed: int, eval_episodes: int) -> Result:
    name, algo, policy, policy_kwargs = ALGOS[key]
    env = make_env(seed)
    model = algo(policy, env, policy_kwargs=policy_kwargs, seed=seed, **HYPERPARAMS)
    phases = time_phases(model)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=timesteps)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    mean, std = evaluate(model, env, seed, eval_episodes)
    result = Result(
        name,
        seconds,
        cpu_seconds,
        phases["collect_rollouts"],
        phases["train"],
        model.num_timesteps,
        mean,
        std,
    )
    print(
        f"{name}: {result.steps_per_second:.0f} steps/s ({seconds:.1f} s, "
        f"collect {result.collect_seconds:.1f} s, train {result.train_seconds:.1f} s), "
        f"eval {mean:.1f} +- {std:.1f}",
        flush=True,
    )
    return result


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} CPUs"


def load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def report(results: dict[str, Result], args: argparse.Namespace, load_before: str) -> str:
    lines = [
        "# RecurrentPPO speed: sb3-contrib vs FastRecurrentPPO vs memoryless PPO",
        "",
        "CartPoleNoVel (CartPole-v1, velocities zeroed), rl-baselines3-zoo settings, "
        f"{args.timesteps} timesteps, seed {args.seed}, **torch.set_num_threads(1)** for all three, "
        "one process.",
        f"torch {th.__version__}, stable-baselines3 {stable_baselines3.__version__}, "
        f"sb3-contrib {sb3_contrib.__version__}, Python {platform.python_version()}; {machine()}; "
        f"load average (1/5/15 min) before {load_before}, after {load_average()}.",
        "",
        "| implementation | steps/s | total s | collect_rollouts s | train s | CPU s | CPU steps/s "
        f"| eval return ({args.eval_episodes} det. episodes) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results.values():
        lines.append(
            f"| {result.name} | {result.steps_per_second:.0f} | {result.seconds:.1f} | "
            f"{result.collect_seconds:.1f} | {result.train_seconds:.1f} | {result.cpu_seconds:.1f} | "
            f"{result.cpu_steps_per_second:.0f} | {result.eval_mean:.1f} ± {result.eval_std:.1f} |"
        )
    fast = results.get("fast")
    lines.append("")
    if fast and "plain" in results:
        plain = results["plain"]
        lines.append(
            f"- ours / sb3-contrib: **{fast.steps_per_second / plain.steps_per_second:.2f}x** steps/s "
            f"end to end ({plain.cpu_seconds / fast.cpu_seconds:.2f}x in CPU time); train() "
            f"{plain.train_seconds / fast.train_seconds:.2f}x, collect_rollouts() "
            f"{plain.collect_seconds / fast.collect_seconds:.2f}x."
        )
    if fast and "ppo" in results:
        ppo = results["ppo"]
        lines.append(
            f"- memoryless PPO / ours: ours takes **{ppo.steps_per_second / fast.steps_per_second:.2f}x** "
            f"the time of memoryless PPO ({fast.cpu_seconds / ppo.cpu_seconds:.2f}x in CPU time); train() "
            f"{fast.train_seconds / ppo.train_seconds:.2f}x, collect_rollouts() "
            f"{fast.collect_seconds / ppo.collect_seconds:.2f}x."
        )
    lines.append(
        "- Wall-clock figures move with other jobs on the machine (see the load average); CPU s is this "
        "process's CPU time, the steadier basis for comparing the three."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--algos", default="plain,fast,ppo", help="comma-separated subset of plain,fast,ppo")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/recurrent_ppo.md"))
    args = parser.parse_args()

    th.set_num_threads(1)
    load_before = load_average()
    results = {key: run(key, args.timesteps, args.seed, args.eval_episodes) for key in args.algos.split(",")}
    table = report(results, args, load_before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
