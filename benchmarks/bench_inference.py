"""Per-step inference latency of a recurrent policy: SB3 ``model.predict`` against exported runtimes.

For the TMaze policy (configs/tmaze.yaml: LSTM 32, pi/vf [32], tanh) and the CartPoleNoVel policy
(configs/cartpole_novel.yaml: LSTM 64, pi/vf [64], ReLU, VecNormalize statistics built into the exports),
untrained (latency does not depend on the weights), one thread everywhere, at batch 1 and 64::

    python benchmarks/bench_inference.py [--out benchmarks/results/inference.md] [--quick]

Runtimes: ``model.predict`` (LSTM state and episode_start passed), the PyTorch module called directly,
``torch.jit.trace`` of it, onnxruntime float and int8 (``session.run(None, feeds)`` and the IOBinding stepper
``OrtPolicy``), the dynamo exporter's graph, and onnxruntime with its default session options and with
graph optimisations off (to show what the options buy). Figures
are the median (and min) of 7 interleaved repeats of the mean time per call; one call is one step of
all ``batch`` envs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import onnxruntime as ort
import sb3_contrib
import stable_baselines3
import torch
from sb3_contrib import RecurrentPPO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import envs  # noqa: E402,F401  (registers RecurrentRL/ ids)
from recurrent_rl.deploy import (  # noqa: E402
    ObsNormalization,
    OrtPolicy,
    PolicyModule,
    export_onnx,
    latency_us,
    make_session,
    quantize_int8,
)

POLICIES: dict[str, dict[str, Any]] = {
    "TMaze": {
        "env": "RecurrentRL/TMaze-v0",
        "normalize": False,
        "kwargs": {
            "lstm_hidden_size": 32,
            "net_arch": {"pi": [32], "vf": [32]},
            "activation_fn": torch.nn.Tanh,
        },
    },
    "CartPoleNoVel": {
        "env": "RecurrentRL/CartPoleNoVel-v1",
        "normalize": True,
        "kwargs": {
            "lstm_hidden_size": 64,
            "net_arch": {"pi": [64], "vf": [64]},
            "activation_fn": torch.nn.ReLU,
            "ortho_init": False,
        },
    },
}
BATCHES = (1, 64)
Runners = dict[str, Callable[[], Any]]
Results = dict[str, dict[int, list[float]]]  # runtime -> batch -> microseconds per call, one per repeat


def build(name: str) -> tuple[Any, PolicyModule]:
    spec = POLICIES[name]
    model = RecurrentPPO(
        "MlpLstmPolicy", gym.make(spec["env"]), policy_kwargs=spec["kwargs"], seed=0, device="cpu"
    )
    space = model.observation_space
    normalization = None
    if spec["normalize"]:
        size = int(np.prod(space.shape))
        normalization = ObsNormalization(np.full(size, 0.1), np.full(size, 2.0), 10.0, 1e-8)
    return model, PolicyModule(model.policy, space, normalization)


def timed(runners: dict[str, Callable[[], Any]], repeats: int, block_s: float) -> dict[str, list[float]]:
    """Microseconds per call of each runner, ``repeats`` blocks of ~``block_s`` seconds each, interleaved
    (runner A, B, C, A, B, C, ...) so that a burst of load from other jobs hits all runners alike."""
    sizes = {}
    for label, fn in runners.items():
        latency_us(fn, [], n=1, repeats=1, warmup=50)
        start = time.perf_counter()
        for _ in range(20):
            fn()
        sizes[label] = max(20, int(block_s / max((time.perf_counter() - start) / 20, 1e-7)))
    samples: dict[str, list[float]] = {label: [] for label in runners}
    for _ in range(repeats):
        for label, fn in runners.items():
            samples[label].append(latency_us(fn, [], n=sizes[label], repeats=1, warmup=0))
    return samples


def plain_session(data: bytes, level: str | None = None) -> ort.InferenceSession:
    """onnxruntime defaults (``level=None``: threads = cores, all optimisations) or 1 thread at ``level``."""
    if level is None:
        return ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def runners_for(model: Any, module: PolicyModule, exports: dict[str, bytes], batch: int) -> Runners:
    """One callable per runtime, each computing one step of ``batch`` envs on the same inputs."""
    feeds = module.example_inputs(batch)
    feeds["episode_start"][:] = 0.0
    tensors = [torch.as_tensor(feeds[n]) for n in module.input_names]
    bare = PolicyModule(model.policy, module.observation_space, module.paths[0].stats, with_logits=False)
    traced = torch.jit.trace(bare, tuple(tensors), check_trace=False)
    state, starts = (feeds["h"], feeds["c"]), feeds["episode_start"].astype(bool)
    runners: Runners = {
        "SB3 model.predict": lambda: model.predict(
            feeds["obs"], state=state, episode_start=starts, deterministic=True
        ),
        "PyTorch module (eager)": lambda: module(*tensors),
        "TorchScript (torch.jit.trace)": lambda: traced(*tensors),
    }

    def stepper(data: bytes) -> Callable[[], Any]:
        runner = OrtPolicy(make_session(data), batch)
        return lambda: runner.step(feeds["obs"], feeds["episode_start"])

    def run(session: ort.InferenceSession) -> Callable[[], Any]:
        return lambda: session.run(None, feeds)

    for label in ("float", "int8"):
        runners[f"onnxruntime {label}, session.run"] = run(make_session(exports[label]))
        runners[f"onnxruntime {label}, OrtPolicy (IOBinding)"] = stepper(exports[label])
    runners["onnxruntime float (dynamo export), OrtPolicy (IOBinding)"] = stepper(exports["dynamo"])
    runners["onnxruntime float, default SessionOptions, session.run"] = run(plain_session(exports["float"]))
    disabled = plain_session(exports["float"], "ORT_DISABLE_ALL")
    runners["onnxruntime float, 1 thread, ORT_DISABLE_ALL, session.run"] = run(disabled)
    return runners


def measure(name: str, quick: bool) -> Results:
    model, module = build(name)
    exports = {"float": export_onnx(module), "dynamo": export_onnx(module, exporter="dynamo")}
    exports["int8"] = quantize_int8(exports["float"])
    results: Results = {}
    for batch in BATCHES:
        runners = runners_for(model, module, exports, batch)
        with torch.no_grad():
            samples = timed(runners, repeats=3 if quick else 7, block_s=0.03 if quick else 0.1)
        for label, values in samples.items():
            results.setdefault(label, {})[batch] = values
            median, low = np.median(values), min(values)
            print(f"  {name} batch {batch}: {label}: median {median:.1f} us, min {low:.1f}", flush=True)
    return results


def table(all_results: dict[str, Results]) -> str:
    lines = [
        "| policy | runtime | batch 1: µs/step (min) | × predict "
        "| batch 64: µs/step (min) | µs/env | × predict |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, results in all_results.items():
        base = {batch: float(np.median(v)) for batch, v in results["SB3 model.predict"].items()}
        for label, times in results.items():
            b1, b64 = float(np.median(times[1])), float(np.median(times[64]))
            lines.append(
                f"| {name} | {label} | {b1:.1f} ({min(times[1]):.1f}) | {base[1] / b1:.1f}x | "
                f"{b64:.1f} ({min(times[64]):.1f}) | {b64 / 64:.2f} | {base[64] / b64:.1f}x |"
            )
    return "\n".join(lines)


def conditions(load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    before, after = (" / ".join(f"{x:.1f}" for x in load) for load in (load_before, load_after))
    return (
        f"torch {torch.__version__} (threads {torch.get_num_threads()}), onnxruntime {ort.__version__} "
        "(intra_op 1, inter_op 1, sequential, ORT_ENABLE_ALL unless the row says otherwise), "
        f"stable-baselines3 {stable_baselines3.__version__}, sb3-contrib {sb3_contrib.__version__}, "
        f"Python {platform.python_version()}; {cpu or platform.processor()}, {os.cpu_count()} CPUs; "
        f"load average (1/5/15 min) before {before}, after {after}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "inference.md")
    parser.add_argument("--quick", action="store_true", help="shorter loops (a check that the script works)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    all_results = {name: measure(name, args.quick) for name in POLICIES}
    load_after = os.getloadavg()
    body = table(all_results)
    goal = []
    for name, results in all_results.items():
        best = min(
            (float(np.median(t[1])), label)
            for label, t in results.items()
            if label in ("onnxruntime float, session.run", "onnxruntime float, OrtPolicy (IOBinding)")
        )
        ratio = float(np.median(results["SB3 model.predict"][1])) / best[0]
        goal.append(
            f"- {name}: fastest one-thread onnxruntime float at batch 1: {best[1]}, "
            f"**{best[0]:.1f} µs/step**, {ratio:.0f}x model.predict (goal: <= 50 µs, >= 13x)."
        )
    text = (
        "# Inference latency per step: model.predict vs exported policies\n\n"
        "Untrained policies with the architectures of configs/tmaze.yaml and configs/cartpole_novel.yaml "
        "(the CartPoleNoVel exports include VecNormalize's observation transform; model.predict does not, "
        "in training the env applies it). One call = one step of `batch` envs, greedy actions, LSTM state "
        "passed in and out. "
        f"Median (and min) over {3 if args.quick else 7} interleaved repeats of the mean time per call."
        f"{' Quick mode.' if args.quick else ''}\n\n"
        f"{conditions(load_before, load_after)}\n\n{body}\n\n" + "\n".join(goal) + "\n\n"
        "Wall-clock figures on a shared machine move with other jobs (see the load average).\n"
    )
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
