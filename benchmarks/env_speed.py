"""Steps per second of every registered RecurrentRL/ environment, and of each POMDP wrapper on CartPole-v1.

Random actions (pre-sampled, so sampling is not timed), resets included, one process::

    python benchmarks/env_speed.py [--steps N] [--vec N_ENVS]

prints a markdown table. Environments whose module does not exist yet are listed as skipped. With ``--vec``,
it compares instead, for every RecurrentRL/ env, a DummyVecEnv of ``N_ENVS`` Monitor-wrapped single envs with
the batched env (``env.vec_env: batched``), in CPU µs per env-step (best of 5 blocks).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import envs  # noqa: E402  (registers RecurrentRL/ ids)
from envs.wrappers import apply_wrappers  # noqa: E402

WRAPPER_ARGS: dict[str, dict[str, Any]] = {
    "mask_observation": {"indices": [1, 3]},
    "flicker": {"p": 0.5},
    "observation_noise": {"std": 0.1},
    "previous_action_reward": {},
}


def measure(make: Callable[[], gym.Env[Any, Any]], steps: int, seed: int = 0) -> tuple[float, int]:
    """(steps per second, episodes finished) over ``steps`` random-action steps."""
    env = make()
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    episodes = 0
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            episodes += 1
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed, episodes


def module_exists(env_id: str) -> bool:
    entry_point = gym.registry[env_id].entry_point
    return not isinstance(entry_point, str) or importlib.util.find_spec(entry_point.split(":")[0]) is not None


def wrapped_cartpole(name: str, kwargs: dict[str, Any]) -> gym.Env[Any, Any]:
    return apply_wrappers(gym.make("CartPole-v1"), [(name, kwargs)])


def vec_speed(env_id: str, kind: str, n_envs: int, steps: int) -> float:
    """CPU µs per env-step of ``n_envs`` copies of ``env_id`` in a ``kind`` vector env (random actions)."""
    from recurrent_rl.config.schema import AlgoConfig, EnvConfig
    from recurrent_rl.vecenv.build import build_vec_env

    venv = build_vec_env(
        EnvConfig(id=env_id), AlgoConfig(), n_envs=n_envs, seed=0, training=True, vec_env=kind
    )
    venv.action_space.seed(0)
    actions = [np.stack([venv.action_space.sample() for _ in range(n_envs)]) for _ in range(steps // n_envs)]
    venv.reset()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for action in actions:
            venv.step(action)
        best = min(best, time.process_time() - start)
    venv.close()
    return best / (len(actions) * n_envs) * 1e6


def compare_vec(n_envs: int, steps: int) -> None:
    print(f"DummyVecEnv vs batched env, {n_envs} envs, random actions, CPU µs per env-step (best of 5).\n")
    print("| environment | DummyVecEnv | batched | speed-up |")
    print("|---|---:|---:|---:|")
    for env_id in sorted(i for i in gym.registry if i.startswith(f"{envs.NAMESPACE}/")):
        dummy, batched = (vec_speed(env_id, kind, n_envs, steps) for kind in ("dummy", "batched"))
        print(f"| {env_id} | {dummy:.1f} | {batched:.1f} | {dummy / batched:.1f}x |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per environment (default 20000)")
    parser.add_argument("--vec", type=int, default=0, help="compare DummyVecEnv and batched envs of N copies")
    args = parser.parse_args(argv)
    if args.vec:
        compare_vec(args.vec, args.steps)
        return

    rows: list[tuple[str, str, str, str]] = []
    env_ids = sorted(i for i in gym.registry if i.startswith(f"{envs.NAMESPACE}/"))
    cases: list[tuple[str, Callable[[], gym.Env[Any, Any]] | None]] = [
        (env_id, partial(gym.make, env_id) if module_exists(env_id) else None) for env_id in env_ids
    ]
    cases.append(("CartPole-v1 (reference)", partial(gym.make, "CartPole-v1")))
    for name, kwargs in WRAPPER_ARGS.items():
        cases.append((f"CartPole-v1 + {name}", partial(wrapped_cartpole, name, kwargs)))
    for label, make in cases:
        if make is None:
            rows.append((label, "skipped (module not written yet)", "", ""))
            continue
        rate, episodes = measure(make, args.steps)
        rows.append((label, f"{rate:,.0f}", f"{1e6 / rate:.1f}", str(episodes)))

    print(
        f"Random actions, {args.steps} steps each, gym.make wrappers included, "
        f"Python {sys.version.split()[0]}.\n"
    )
    print("| environment | steps/s | us/step | episodes |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
