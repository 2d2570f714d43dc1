"""What pruning and int8 cost: return, success, file size and latency of the exported TMaze and CartPoleNoVel
policies, trained here with the shipped configs' hyperparameters::

    python benchmarks/compression_study.py [--episodes 100] [--out benchmarks/results/compression.md]

Both agents are built from the shipped configs by recurrent_rl's own builders. TMaze (corridor 10,
configs/tmaze.yaml) trains until 50 evaluation episodes reach 98% success (~45k steps);
CartPoleNoVel (configs/cartpole_novel.yaml: VecNormalize, zoo hyperparameters) trains 100k steps (a couple
of minutes). Each variant (global L1 pruning of the actor's LSTM and Linear weights at 0/50/80/90%, int8
dynamic quantization, both) is exported to ONNX and played for ``--episodes`` episodes with onnxruntime
alone (same seed for all variants); latency is the IOBinding stepper at batch 1, one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import onnxruntime as ort
import torch
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import envs  # noqa: E402,F401  (registers RecurrentRL/ ids)
from recurrent_rl.algo.build import build_model  # noqa: E402
from recurrent_rl.config.loader import load_config  # noqa: E402
from recurrent_rl.deploy import (  # noqa: E402
    ObsNormalization,
    OrtPolicy,
    PolicyModule,
    compressed_size,
    copy_policy,
    export_onnx,
    latency_us,
    make_session,
    play,
    prunable_weights,
    prune,
    quantize_int8,
    record_inputs,
)
from recurrent_rl.vecenv.build import build_vec_env  # noqa: E402

VARIANTS: list[tuple[str, float, bool]] = [
    ("float32", 0.0, False),
    ("pruned 50%", 0.5, False),
    ("pruned 80%", 0.8, False),
    ("pruned 90%", 0.9, False),
    ("int8", 0.0, True),
    ("pruned 50% + int8", 0.5, True),
]


CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def build(config: str) -> tuple[Any, VecEnv]:
    """The agent and training env of a shipped config, seed 0, built as ``recurrent-rl train`` builds them."""
    cfg = load_config(CONFIGS / config).config
    venv = build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=0, training=True)
    return build_model(cfg, venv), venv


def train_tmaze() -> tuple[PolicyModule, dict[str, Any], int]:
    model, _ = build("tmaze.yaml")
    kwargs = {"corridor_length": 10}
    eval_env = make_vec_env("RecurrentRL/TMaze-v0", n_envs=10, seed=10_000, env_kwargs=kwargs)
    while model.num_timesteps < 150_000:
        model.learn(5120, reset_num_timesteps=False)
        _, result = record_inputs(PolicyModule(model.policy), eval_env, 50, seed=10_000)
        print(f"  TMaze {model.num_timesteps} steps: success {result.success_rate:.2f}", flush=True)
        if (result.success_rate or 0.0) >= 0.98:
            break
    return PolicyModule(model.policy), {"id": "RecurrentRL/TMaze-v0", "kwargs": kwargs}, model.num_timesteps


def train_cartpole() -> tuple[PolicyModule, dict[str, Any], int]:
    model, venv = build("cartpole_novel.yaml")
    assert isinstance(venv, VecNormalize)
    model.learn(100_000)
    rms: Any = venv.obs_rms
    stats = ObsNormalization(rms.mean.copy(), rms.var.copy(), venv.clip_obs, venv.epsilon)
    module = PolicyModule(model.policy, venv.observation_space, stats)
    return module, {"id": "RecurrentRL/CartPoleNoVel-v1", "kwargs": {}}, model.num_timesteps


def _variant(
    module: PolicyModule, env: dict[str, Any], episodes: int, label: str, fraction: float, int8: bool
) -> dict[str, Any]:
    policy = copy_policy(module.policy)
    sparsity = prune(policy, fraction)
    variant = PolicyModule(policy, module.observation_space, module.obs_paths[0].stats)
    data = export_onnx(variant)
    if int8:
        data = quantize_int8(data)
    session = make_session(data)
    venv: VecEnv = make_vec_env(env["id"], n_envs=10, seed=20_000, env_kwargs=env["kwargs"])
    result = play(session, venv, episodes, seed=20_000)
    stepper = OrtPolicy(make_session(data), batch=1)
    obs = np.zeros((1, *module.observation_space.shape), dtype=np.float32)
    start = np.zeros(1, np.float32)
    latency = latency_us(lambda: stepper.step(obs, start), [], n=3000, repeats=5)
    sizes = {name: getattr(owner, attribute).numel() for name, owner, attribute in prunable_weights(policy)}
    zeros, total = sum(sparsity[name] * size for name, size in sizes.items()), sum(sizes.values())
    return {
        "variant": label,
        "sparsity": zeros / total,
        "mean_return": result.mean_return,
        "std_return": float(np.std(result.returns)),
        "success": result.success_rate,
        "bytes": len(data),
        "zlib_bytes": compressed_size(data),
        "latency_us": latency,
    }


def markdown(
    results: dict[str, tuple[list[dict[str, Any]], int]],
    algo_name: str,
    episodes: int,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    minutes: float,
) -> str:
    lines = [
        "# Compression study: pruning and int8 on exported policies\n",
        f"Trained here with {algo_name} (seed 0), the shipped configs' hyperparameters; each variant "
        f"exported to ONNX and played for {episodes} episodes with onnxruntime alone (deterministic, LSTM "
        "state carried and reset at episode starts, same evaluation seed for every variant). Sparsity: zeros "
        "among the actor's LSTM and Linear weights (global L1 magnitude pruning). Size: the .onnx file, raw "
        "and zlib-compressed (dense storage: pruning only shows after compression). Latency: onnxruntime "
        "IOBinding stepper (`OrtPolicy`), batch 1, one thread, median of 5.\n",
        f"onnxruntime {ort.__version__}, torch {torch.__version__}; load average before "
        f"{' / '.join(f'{x:.1f}' for x in loads[0])}, after {' / '.join(f'{x:.1f}' for x in loads[1])}; "
        f"{minutes:.1f} min in all.\n",
        "| policy | variant | sparsity | return (mean ± std) | success | size (bytes) | zlib size "
        "| µs/step |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, (rows, steps) in results.items():
        for row in rows:
            success = "–" if row["success"] is None else f"{row['success']:.2f}"
            lines.append(
                f"| {name} ({steps:,} steps) | {row['variant']} | {row['sparsity']:.2f} | "
                f"{row['mean_return']:.3f} ± {row['std_return']:.3f} | {success} | {row['bytes']:,} | "
                f"{row['zlib_bytes']:,} | {row['latency_us']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "compression.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    gym.logger.min_level = 40
    algo_name = "FastRecurrentPPO (recurrent_rl's default implementation)"
    start, load_before = time.time(), os.getloadavg()
    results = {}
    for name, train in (("TMaze", train_tmaze), ("CartPoleNoVel", train_cartpole)):
        print(f"training {name} with {algo_name}", flush=True)
        module, env, steps = train()
        results[name] = ([_variant(module, env, args.episodes, *v) for v in VARIANTS], steps)
    text = markdown(
        results, algo_name, args.episodes, (load_before, os.getloadavg()), (time.time() - start) / 60
    )
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
