"""How much of the T-maze cue reaches the junction through an untrained LSTM (README: memory horizon)::

    python benchmarks/lstm_gradient.py [--inits 100] [--hidden 32] [--forget-bias 0 3 5]

For each corridor length k, the policy's LSTM (PyTorch's default initialisation, then ``policy.forget_bias``
added as ``recurrent_rl.algo.build.add_forget_bias`` does) reads the T-maze observations of one episode: the
cue on step 0, the corridor flag for k - 1 steps, the junction flag on step k. Printed: the median over
``--inits`` initialisations of the norm of d h_k / d cue, the derivative of the LSTM output at the junction
with respect to the cue input, which is what the first policy updates have to learn from.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch import nn

CORRIDORS = (10, 20, 50, 100)
OBS_SIZE = 4  # TMaze with one cue: [cue, at start, in corridor, at junction]


def episode(corridor: int) -> torch.Tensor:
    """The observations of one T-maze episode up to the junction: (corridor + 1, 1, OBS_SIZE)."""
    obs = torch.zeros(corridor + 1, 1, OBS_SIZE, dtype=torch.float64)
    obs[0, 0, 1] = 1.0
    obs[1:corridor, 0, 2] = 1.0
    obs[corridor, 0, 3] = 1.0
    return obs


def cue_gradient(lstm: nn.LSTM, corridor: int) -> float:
    """|d h_k / d cue| for the cue +1 on the first step (forward-mode: one pass gives the whole vector)."""
    obs = episode(corridor)
    direction = torch.zeros_like(obs)
    direction[0, 0, 0] = 1.0
    obs[0, 0, 0] = 1.0

    def last_output(x: torch.Tensor) -> torch.Tensor:
        return lstm(x)[0][-1, 0]

    _, derivative = torch.func.jvp(last_output, (obs,), (direction,))
    return float(derivative.detach().norm())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inits", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--forget-bias", type=float, nargs="+", default=[0.0, 3.0, 5.0])
    args = parser.parse_args()
    print("| forget_bias | " + " | ".join(f"k = {k}" for k in CORRIDORS) + " |")
    print("|---|" + "---|" * len(CORRIDORS))
    for bias in args.forget_bias:
        values: dict[int, list[float]] = {k: [] for k in CORRIDORS}
        for seed in range(args.inits):
            torch.manual_seed(seed)
            lstm = nn.LSTM(OBS_SIZE, args.hidden).double()
            with torch.no_grad():
                lstm.bias_ih_l0[args.hidden : 2 * args.hidden] += bias
            for k in CORRIDORS:
                values[k].append(cue_gradient(lstm, k))
        print(f"| {bias:g} | " + " | ".join(f"{statistics.median(values[k]):.1e}" for k in CORRIDORS) + " |")


if __name__ == "__main__":
    main()
