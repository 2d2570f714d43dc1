"""Exact ways to run a GRU for training on CPU, timed against each other in one run, one torch thread.

Training runs the memory over padded minibatches: forward and backward of a (T, B) sequence. ``nn.LSTM`` has
a oneDNN kernel on CPU, ``nn.GRU`` does not; this script times the exact alternatives for the GRU:

* ``nn.GRU``: the module itself (ATen's per-step cells, autograd through every operation);
* ``gru_cell loop``: ``torch.gru_cell`` per step from Python;
* ``projected loop``: the input projections of all steps in one matrix product, then the recurrence as
  plain tensor operations per step (autograd through every operation);
* ``projected loop, scripted``: the same loop compiled with ``torch.jit.script``;
* ``ATen forward, recomputed backward``: ``torch.gru`` without a graph, then in the backward pass the gates of
  all steps recomputed at once from the outputs, and the hand-derived loop back through time;
* ``HiddenRecurrence`` (ours, :mod:`recurrent_rl.algo.memory.gru_sequence`): the projections in one matrix
  product, the recurrence as one autograd node with a hand-derived backward loop.

``nn.LSTM`` (oneDNN) is the reference. Every candidate is checked against ``nn.GRU`` (outputs and gradients,
in float64, to 1e-9) before it is timed. Times are CPU time of this thread (steadier than wall time on a
shared machine), median of ``--repeats`` rounds; each round runs every candidate ``--calls`` times,
interleaved.
A second table times one step at batch ``n_envs`` without gradient (collection)::

    python benchmarks/bench_gru.py [--shapes 32x8,256x8,64x64,32x16] [--input 64] [--hidden 64]
        [--repeats 15] [--calls 20] [--out benchmarks/results/gru.md]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch as th
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recurrent_rl.algo.memory.gru_sequence import HiddenRecurrence, gru_sequence  # noqa: E402

Run = Callable[[th.Tensor, th.Tensor], th.Tensor]


def gru_cell_loop(gru: nn.GRU) -> Run:
    def run(x: th.Tensor, h0: th.Tensor) -> th.Tensor:
        h, outputs = h0[0], []
        for t in range(x.shape[0]):
            h = th.gru_cell(x[t], h, *gru.all_weights[0])
            outputs.append(h)
        return th.stack(outputs)

    return run


def projected_step_loop(
    gates_x: th.Tensor, h: th.Tensor, weight_hh: th.Tensor, bias_hh: th.Tensor
) -> th.Tensor:
    size = h.shape[1]
    outputs = []
    for t in range(gates_x.shape[0]):
        gates_h = th.addmm(bias_hh, h, weight_hh.t())
        rz = th.sigmoid(gates_x[t, :, : 2 * size] + gates_h[:, : 2 * size])
        new = th.tanh(gates_x[t, :, 2 * size :] + rz[:, :size] * gates_h[:, 2 * size :])
        h = (h - new) * rz[:, size:] + new
        outputs.append(h)
    return th.stack(outputs)


def projected_loop(gru: nn.GRU, loop: Callable[..., th.Tensor]) -> Run:
    def run(x: th.Tensor, h0: th.Tensor) -> th.Tensor:
        weight_ih, weight_hh, bias_ih, bias_hh = gru.all_weights[0]
        return loop(nn.functional.linear(x, weight_ih, bias_ih), h0[0], weight_hh, bias_hh)

    return run


class RecomputedBackward(th.autograd.Function):
    """One GRU layer: ATen's forward without a graph; the backward pass recomputes the gates of all steps at
    once from the saved outputs, then runs :class:`HiddenRecurrence`'s backward loop."""

    @staticmethod
    def forward(ctx: Any, x: th.Tensor, h0: th.Tensor, *weights: th.Tensor) -> th.Tensor:
        out, _ = th.gru(x, h0.unsqueeze(0), weights, True, 1, 0.0, False, False, False)
        ctx.save_for_backward(x, h0, out, *weights)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: th.Tensor) -> tuple[th.Tensor | None, ...]:  # type: ignore[override]
        x, h0, out, weight_ih, weight_hh, bias_ih, bias_hh = ctx.saved_tensors
        size = out.shape[2]
        h_prev = th.cat([h0.unsqueeze(0), out[:-1]])
        gates_x = nn.functional.linear(x, weight_ih, bias_ih)
        gates_h = nn.functional.linear(h_prev, weight_hh, bias_hh)
        rz = th.sigmoid(gates_x[..., : 2 * size] + gates_h[..., : 2 * size])
        new = th.tanh(gates_x[..., 2 * size :] + rz[..., :size] * gates_h[..., 2 * size :])
        inner = SavedContext(h0, out, rz, new, gates_h, weight_hh)
        d_gates_x, d_h0, d_weight_hh, d_bias_hh = HiddenRecurrence.backward(inner, grad_out)
        flat = d_gates_x.reshape(-1, 3 * size)
        d_weight_ih = flat.t() @ x.reshape(-1, x.shape[2])
        return d_gates_x @ weight_ih, d_h0, d_weight_ih, d_weight_hh, flat.sum(0), d_bias_hh


class SavedContext:
    """What :meth:`HiddenRecurrence.backward` reads from its autograd context."""

    def __init__(self, *saved: th.Tensor) -> None:
        self.saved_tensors = saved
        self.needs_input_grad = (True, True, True, True)


def candidates(gru: nn.GRU) -> dict[str, Run]:
    scripted = th.jit.script(projected_step_loop)
    return {
        "nn.GRU": lambda x, h0: gru(x, h0)[0],
        "gru_cell loop": gru_cell_loop(gru),
        "projected loop": projected_loop(gru, projected_step_loop),
        "projected loop, scripted": projected_loop(gru, scripted),
        "ATen forward, recomputed backward": lambda x, h0: RecomputedBackward.apply(
            x, h0[0], *gru.all_weights[0]
        ),
        "HiddenRecurrence (ours)": lambda x, h0: gru_sequence(gru, x, h0)[0],
    }


def gradients(run: Run, x: th.Tensor, h0: th.Tensor, module: nn.Module, weight: th.Tensor) -> list[th.Tensor]:
    x.grad = h0.grad = None
    module.zero_grad()
    output = run(x, h0)
    (output * weight).sum().backward()
    assert x.grad is not None and h0.grad is not None
    return [output.detach(), x.grad, h0.grad, *(p.grad for p in module.parameters() if p.grad is not None)]


def check(gru: nn.GRU, x: th.Tensor, h0: th.Tensor) -> None:
    """Every candidate's output and gradients equal nn.GRU's, or the script stops: in float64 to 1e-9 (the
    maths; in float32 a long sequence's weight gradients sum thousands of terms in different orders)."""
    gru, x, h0 = copy.deepcopy(gru).double(), x.detach().double(), h0.detach().double()
    x.requires_grad_(True)
    h0.requires_grad_(True)
    runs = candidates(gru)
    weight = th.randn(x.shape[0], x.shape[1], gru.hidden_size, dtype=th.float64)
    expected = gradients(runs["nn.GRU"], x, h0, gru, weight)
    for name, run in runs.items():
        for want, got in zip(expected, gradients(run, x, h0, gru, weight), strict=True):
            th.testing.assert_close(got, want, atol=1e-9, rtol=1e-9, msg=name)


def cpu_ms(call: Callable[[], object], calls: int) -> float:
    start = time.thread_time_ns()
    for _ in range(calls):
        call()
    return (time.thread_time_ns() - start) / calls / 1e6


def time_training(
    shape: tuple[int, int], size_in: int, hidden: int, repeats: int, calls: int
) -> dict[str, float]:
    """Median CPU ms of forward + backward per candidate (and nn.LSTM) at sequence shape (T, B)."""
    n_steps, batch = shape
    th.manual_seed(0)
    gru, lstm = nn.GRU(size_in, hidden), nn.LSTM(size_in, hidden)
    x = th.randn(n_steps, batch, size_in, requires_grad=True)
    h0 = th.randn(1, batch, hidden, requires_grad=True)
    check(gru, x, h0)
    runs = candidates(gru)

    def lstm_run(x: th.Tensor, h0: th.Tensor) -> th.Tensor:
        return lstm(x, (h0, th.zeros_like(h0)))[0]

    runs = {"nn.LSTM (oneDNN)": lstm_run, **runs}
    modules = {name: lstm if name.startswith("nn.LSTM") else gru for name in runs}

    def step(name: str) -> Callable[[], object]:
        return lambda: runs[name](x, h0).sum().backward()

    for name in runs:  # warm-up (the scripted loop profiles its first calls)
        cpu_ms(step(name), 3)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name in runs:
            modules[name].zero_grad()
            samples[name].append(cpu_ms(step(name), calls))
    return {name: statistics.median(values) for name, values in samples.items()}


def time_collection(batch: int, size_in: int, hidden: int, repeats: int, calls: int) -> dict[str, float]:
    """Median CPU µs of one step at batch ``batch`` without gradient: modules against their cell functions."""
    th.manual_seed(0)
    gru, lstm = nn.GRU(size_in, hidden), nn.LSTM(size_in, hidden)
    x, h = th.randn(batch, size_in), th.randn(1, batch, hidden)
    steps: dict[str, Callable[[], object]] = {
        "nn.LSTM, one step": lambda: lstm(x.unsqueeze(0), (h, h)),
        "torch.lstm_cell": lambda: th.lstm_cell(x, (h[0], h[0]), *lstm.all_weights[0]),
        "nn.GRU, one step": lambda: gru(x.unsqueeze(0), h),
        "torch.gru_cell": lambda: th.gru_cell(x, h[0], *gru.all_weights[0]),
    }
    samples: dict[str, list[float]] = {name: [] for name in steps}
    with th.no_grad():
        for _ in range(repeats):
            for name, call in steps.items():
                samples[name].append(1000 * cpu_ms(call, calls * 20))
    return {name: statistics.median(values) for name, values in samples.items()}


def load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def report(
    training: dict[tuple[int, int], dict[str, float]],
    collection: dict[str, float],
    args: argparse.Namespace,
    load: str,
) -> str:
    shapes = list(training)
    names = list(next(iter(training.values())))
    lines = [
        "# GRU kernels: exact ways to train a GRU on CPU",
        "",
        f"torch {th.__version__}, one thread, CPU capability {th.backends.cpu.get_cpu_capability()}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; input {args.input}, hidden "
        f"{args.hidden}, one layer; CPU ms of forward + backward, median of {args.repeats} rounds of "
        f"{args.calls} calls; load average before {load}, after {load_average()}.",
        "",
        "| candidate | " + " | ".join(f"(T={t}, B={b})" for t, b in shapes) + " |",
        "|---|" + "---:|" * len(shapes),
    ]
    for name in names:
        cells = []
        for shape in shapes:
            times = training[shape]
            cells.append(f"{times[name]:.2f} ms ({times[name] / times['nn.GRU']:.2f}x nn.GRU)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"One step at batch {args.batch} without gradient (collection), CPU µs:",
        "",
        "| step | µs |",
        "|---|---:|",
        *(f"| {name} | {value:.1f} |" for name, value in collection.items()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shapes", default="32x8,256x8,64x64,32x16", help="comma-separated TxB")
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8, help="batch of the collection step")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    th.set_num_threads(1)
    load = load_average()
    training = {}
    for text in args.shapes.split(","):
        n_steps, batch = (int(part) for part in text.split("x"))
        training[(n_steps, batch)] = time_training(
            (n_steps, batch), args.input, args.hidden, args.repeats, args.calls
        )
        print(text, {name: round(ms, 3) for name, ms in training[(n_steps, batch)].items()}, flush=True)
    collection = time_collection(args.batch, args.input, args.hidden, args.repeats, args.calls)
    table = report(training, collection, args, load)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
