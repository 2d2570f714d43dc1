"""Speed of our FastRecurrentPPO and batched envs against plain sb3-contrib RecurrentPPO, in one process.

Two suites, each built from a shipped config exactly as ``recurrent-rl train`` builds it (same env, agent
and seed), one torch thread:

* ``cartpole``: ``configs/cartpole_novel.yaml`` (rl-baselines3-zoo's CartPoleNoVel settings: 8 envs, n_steps
  32, batch 256, 20 epochs, LSTM 64 with a critic LSTM, VecNormalize), 100k steps, then 20 deterministic
  evaluation episodes; memoryless PPO (``configs/cartpole_novel_ppo.yaml``) is the practical ceiling.
* ``pixel``: ``configs/pixel_memory_maze.yaml`` (small CNN, shared LSTM), 8192 steps, no evaluation.
* ``tmaze_long``: ``configs/tmaze_long.yaml`` (T-maze corridor 100, n_steps 256, 8 envs, critic LSTM),
  40960 steps, no evaluation: the suite with long rollouts, where ``algo.sequence_length`` matters.

Variants: plain sb3-contrib (``algo.implementation: sb3``) on ``DummyVecEnv`` (what a plain sb3-contrib user
runs), ours on ``DummyVecEnv`` (the algorithm's share), ours on the batched env (``env.vec_env: batched``,
the default ``auto`` picks it), PPO, ours with each training option on (``seq``: ``algo.sequence_length``
32, only in suites whose ``n_steps`` is at least 128; ``refresh``: ``algo.refresh_states: true``) and ours
with a GRU memory of the same size instead of the LSTM (``gru``: ``policy.memory: gru``)::

    python benchmarks/bench_recurrent_ppo.py [--suites cartpole,pixel,tmaze_long] [--cartpole-steps 100000]
        [--pixel-steps 8192] [--tmaze-long-steps 40960] [--variants plain,fast_dummy,fast,ppo,seq,refresh,gru]
        [--seed 0] [--out benchmarks/results/recurrent_ppo.md]

For each: steps/s, wall seconds in total, in ``collect_rollouts`` (and of that, in the env's ``step``), in
``train``, process CPU seconds (steadier than wall time when other jobs share the machine) and the ratios.
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

import sb3_contrib
import stable_baselines3
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recurrent_rl.algo.build import build_model  # noqa: E402
from recurrent_rl.config.loader import load_config  # noqa: E402
from recurrent_rl.vecenv.build import build_vec_env  # noqa: E402
from recurrent_rl.vecenv.normalization import sync_normalization  # noqa: E402

PLAIN, FAST_DUMMY, FAST, PPO, SEQ, REFRESH, GRU = (
    "plain",
    "fast_dummy",
    "fast",
    "ppo",
    "seq",
    "refresh",
    "gru",
)
SEQUENCE_LENGTH = 32  # the seq variant's algo.sequence_length (run where n_steps >= MIN_STEPS_FOR_SEQ)
MIN_STEPS_FOR_SEQ = 128
# key -> (label, overrides)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    PLAIN: ("sb3-contrib RecurrentPPO, DummyVecEnv", ["algo.implementation=sb3", "env.vec_env=dummy"]),
    FAST_DUMMY: ("FastRecurrentPPO, DummyVecEnv", ["env.vec_env=dummy"]),
    FAST: ("FastRecurrentPPO, batched env (ours)", ["env.vec_env=batched"]),
    PPO: ("PPO (memoryless), batched env", ["env.vec_env=batched"]),
    SEQ: (
        f"FastRecurrentPPO, sequence_length {SEQUENCE_LENGTH}, batched env",
        ["env.vec_env=batched", f"algo.sequence_length={SEQUENCE_LENGTH}"],
    ),
    REFRESH: (
        "FastRecurrentPPO, refresh_states, batched env",
        ["env.vec_env=batched", "algo.refresh_states=true"],
    ),
    GRU: ("FastRecurrentPPO, GRU memory, batched env", ["env.vec_env=batched", "policy.memory=gru"]),
}
# suite -> (config, PPO config or None, eval episodes)
SUITES: dict[str, tuple[str, str | None, int]] = {
    "cartpole": ("configs/cartpole_novel.yaml", "configs/cartpole_novel_ppo.yaml", 20),
    "pixel": ("configs/pixel_memory_maze.yaml", None, 0),
    "tmaze_long": ("configs/tmaze_long.yaml", None, 0),
}


@dataclass
class Result:
    label: str
    timesteps: int
    seconds: float
    cpu_seconds: float
    collect: float
    env: float
    train: float
    eval_return: str

    @property
    def fps(self) -> float:
        return self.timesteps / self.seconds


def add_timer(owner: Any, name: str, seconds: dict[str, float], key: str) -> None:
    """Wrap ``owner.name`` (on the instance); the wall seconds of its calls accumulate in ``seconds[key]``."""
    method = getattr(owner, name)

    def timed(*args: Any, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return _method(*args, **kwargs)
        finally:
            seconds[key] += time.perf_counter() - start

    setattr(owner, name, timed)


def innermost(venv: VecEnv) -> VecEnv:
    while hasattr(venv, "venv"):
        venv = venv.venv
    return venv


def run(config: str, variant: str, timesteps: int, seed: int, episodes: int) -> Result | None:
    """One variant on one config (None: the variant does not apply to it)."""
    label, overrides = VARIANTS[variant]
    cfg = load_config(ROOT / config, [*overrides, f"train.seed={seed}"]).config
    if variant == SEQ and cfg.algo.n_steps < MIN_STEPS_FOR_SEQ:
        return None
    env = build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=seed, training=True)
    model: BaseAlgorithm = build_model(cfg, env)
    seconds = {"collect": 0.0, "train": 0.0, "env": 0.0}
    add_timer(model, "collect_rollouts", seconds, "collect")
    add_timer(model, "train", seconds, "train")
    add_timer(innermost(model.get_env()), "step_wait", seconds, "env")  # type: ignore[arg-type]
    start, cpu_start = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=timesteps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    eval_return = "–"
    if episodes:
        eval_env = build_vec_env(
            cfg.env, cfg.algo, n_envs=1, seed=seed + 10_000, training=False, vec_env="dummy"
        )
        sync_normalization(env, eval_env)
        mean, std = evaluate_policy(model, eval_env, n_eval_episodes=episodes, deterministic=True)
        eval_return = f"{mean:.1f} ± {std:.1f}"
        eval_env.close()
    env.close()
    result = Result(
        label,
        model.num_timesteps,
        wall,
        cpu,
        seconds["collect"],
        seconds["env"],
        seconds["train"],
        eval_return,
    )
    print(
        f"{config} {label}: {result.fps:.0f} steps/s, {wall:.1f} s (CPU {cpu:.1f} s; "
        f"collect {result.collect:.1f}, "
        f"env {result.env:.1f}, train {result.train:.1f}), eval {eval_return}",
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


def ratios(results: dict[str, Result]) -> list[str]:
    lines = []
    ours, plain = results.get(FAST), results.get(PLAIN)
    if ours and plain:
        lines.append(
            f"- ours / sb3-contrib: **{ours.fps / plain.fps:.2f}x** steps/s end to end "
            f"({plain.cpu_seconds / ours.cpu_seconds:.2f}x in CPU time); "
            f"train() {plain.train / ours.train:.2f}x, "
            f"collect_rollouts() {plain.collect / ours.collect:.2f}x, "
            f"env step {plain.env / ours.env:.2f}x ({plain.env / plain.timesteps * 1e6:.1f} -> "
            f"{ours.env / ours.timesteps * 1e6:.1f} µs per env-step)."
        )
    dummy = results.get(FAST_DUMMY)
    if dummy and plain:
        lines.append(
            f"- the algorithm alone (both on DummyVecEnv): {dummy.fps / plain.fps:.2f}x steps/s "
            f"({plain.cpu_seconds / dummy.cpu_seconds:.2f}x in CPU time)."
        )
    ppo = results.get(PPO)
    if ours and ppo:
        lines.append(
            f"- memoryless PPO / ours: ours takes **{ppo.fps / ours.fps:.2f}x** the time of memoryless PPO "
            f"({ours.cpu_seconds / ppo.cpu_seconds:.2f}x in CPU time); train() {ours.train / ppo.train:.2f}x."
        )
    gru = results.get(GRU)
    for reference, name in ((ours, "our LSTM (batched env)"), (plain, "sb3-contrib's LSTM (DummyVecEnv)")):
        if gru and reference:
            lines.append(
                f"- GRU (ours, batched env) / {name}: **{gru.fps / reference.fps:.2f}x** steps/s "
                f"({reference.cpu_seconds / gru.cpu_seconds:.2f}x in CPU time); train() takes "
                f"{gru.train / reference.train:.2f}x the time, collect_rollouts() "
                f"{gru.collect / reference.collect:.2f}x."
            )
    for variant, option in ((SEQ, f"sequence_length {SEQUENCE_LENGTH}"), (REFRESH, "refresh_states")):
        on = results.get(variant)
        if ours and on:
            lines.append(
                f"- {option} / defaults (both ours, batched env): **{on.fps / ours.fps:.2f}x** steps/s "
                f"({ours.cpu_seconds / on.cpu_seconds:.2f}x in CPU time); train() takes "
                f"{on.train / ours.train:.2f}x the time."
            )
    return lines


def report(tables: dict[str, dict[str, Result]], args: argparse.Namespace, load_before: str) -> str:
    lines = [
        "# RecurrentPPO speed: sb3-contrib vs FastRecurrentPPO (batched envs, training options, GRU) vs PPO",
        "",
        f"One process, seed {args.seed}, **torch.set_num_threads(1)**; torch {th.__version__}, "
        f"stable-baselines3 {stable_baselines3.__version__}, sb3-contrib {sb3_contrib.__version__}, "
        f"Python {platform.python_version()}; "
        f"{machine()}; load average (1/5/15 min) before {load_before}, after {load_average()}.",
    ]
    for suite, results in tables.items():
        config, _, episodes = SUITES[suite]
        steps = next(iter(results.values())).timesteps
        lines += [
            "",
            f"## `{config}`, {steps} steps",
            "",
            "| implementation | steps/s | total s | collect s | (env step s) | train s | CPU s "
            f"| eval return ({episodes} det. episodes) |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in results.values():
            lines.append(
                f"| {r.label} | {r.fps:.0f} | {r.seconds:.1f} | {r.collect:.1f} | {r.env:.1f} | "
                f"{r.train:.1f} | {r.cpu_seconds:.1f} | {r.eval_return} |"
            )
        lines += ["", *ratios(results)]
    lines.append(
        "- Wall-clock figures move with other jobs on the machine (see the load average); CPU s is this "
        "process's CPU time, the steadier basis for comparing runs."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated: {', '.join(SUITES)}")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    parser.add_argument("--cartpole-steps", type=int, default=100_000)
    parser.add_argument("--pixel-steps", type=int, default=8192)
    parser.add_argument("--tmaze-long-steps", type=int, default=40_960)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/recurrent_ppo.md"))
    args = parser.parse_args()

    th.set_num_threads(1)
    load_before = load_average()
    tables: dict[str, dict[str, Result]] = {}
    for suite in args.suites.split(","):
        config, ppo_config, episodes = SUITES[suite]
        steps = getattr(args, f"{suite}_steps")
        tables[suite] = {}
        for variant in args.variants.split(","):
            if variant == PPO and ppo_config is None:
                continue
            source = ppo_config if variant == PPO and ppo_config else config
            result = run(source, variant, steps, args.seed, episodes)
            if result is not None:
                tables[suite][variant] = result
    table = report(tables, args, load_before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
