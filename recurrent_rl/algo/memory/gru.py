"""The GRU memory: ``nn.GRU`` weights and names, trained with an exact faster sequence pass on CPU.

PyTorch's gate order is r, z, n::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h

The state is ``h`` alone: in sb3-contrib's ``(hidden, cell)`` pair it is ``hidden``, and ``cell`` stays zero
(see :mod:`recurrent_rl.algo.memory.base`). The update gate z is the fraction of ``h`` kept, so
``policy.forget_bias`` goes to z's bias: +5 starts every unit keeping 99.3% of its state per step.
Training passes with gradient take :func:`~recurrent_rl.algo.memory.gru_sequence.gru_sequence` (about
twice as fast as ``nn.GRU`` on CPU, same results); collection steps with ``torch.gru_cell`` per layer.
"""

from __future__ import annotations

import torch as th
from torch import nn

from recurrent_rl.algo.memory.base import Memory, States, reset, to_batch, to_sequence
from recurrent_rl.algo.memory.gru_sequence import fits_sequence_kernel, gru_sequence


class GRUMemory(Memory):
    """``nn.GRU``: state ``h`` (``cell`` zero); ``policy.forget_bias`` goes to the update gate z."""

    module: nn.GRU
    name = "gru"
    module_class = nn.GRU
    n_gates = 3
    state_names = ("h",)
    gates = ("r", "z", "n", "h")
    sigmoid_gates = ("r", "z")
    memory_state = "h"
    keep_gate = "z"
    keep_block = 1  # r, [z], n
    panels = (
        ("r", "reset gate r"),
        ("z", "update gate z (kept share of h)"),
        ("n", "candidate n"),
        ("h", "state h"),
    )

    def _pair(self, hidden: th.Tensor) -> States:
        return hidden, th.zeros_like(hidden)

    def step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        hidden = reset(states, episode_starts)[0]
        if not self.steps_with_cells():
            output, new_hidden = self.module(features.unsqueeze(0), hidden)
            return output.squeeze(0), self._pair(new_hidden)
        output, new_hidden = features, []
        for layer, weights in enumerate(self.module.all_weights):  # [weight_ih, weight_hh, bias_ih, bias_hh]
            output = th.gru_cell(output, hidden[layer], *weights)
            new_hidden.append(output)
        return output, self._pair(th.stack(new_hidden))

    def sequence(self, features_sequence: th.Tensor, states: States) -> tuple[th.Tensor, States]:
        gru = self.module
        if th.is_grad_enabled() and fits_sequence_kernel(gru):
            output, hidden = gru_sequence(gru, features_sequence, states[0])
        else:  # without gradient ATen's own loop is the faster one
            output, hidden = gru(features_sequence, states[0])
        return output, self._pair(hidden)

    def per_step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        features_sequence, starts = to_sequence(features, episode_starts, states[0].shape[1])
        outputs = []
        for step_features, step_starts in zip(features_sequence, starts, strict=True):
            output, states = self.step(step_features, states, step_starts)
            outputs.append(output)
        return to_batch(th.stack(outputs)), states

    def export_step(
        self, features: th.Tensor, states: tuple[th.Tensor, ...]
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        latent, h = self.module(features.unsqueeze(0), states[0])
        return latent.squeeze(0), (h,)

    def recompute(
        self, x: th.Tensor, states: tuple[th.Tensor, ...], clamp: th.Tensor | None = None, layer: int = -1
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        gru, (h,) = self.module, states
        layer = layer % gru.num_layers
        records, new_h = [], []
        for k in range(gru.num_layers):
            gates_x = x @ getattr(gru, f"weight_ih_l{k}").T
            gates_h = h[k] @ getattr(gru, f"weight_hh_l{k}").T
            if gru.bias:
                gates_x = gates_x + getattr(gru, f"bias_ih_l{k}")
                gates_h = gates_h + getattr(gru, f"bias_hh_l{k}")
            x_r, x_z, x_n = gates_x.chunk(3, dim=1)
            h_r, h_z, h_n = gates_h.chunk(3, dim=1)
            r, z = th.sigmoid(x_r + h_r), th.sigmoid(x_z + h_z)
            n = th.tanh(x_n + r * h_n)
            h_k = (1.0 - z) * n + z * h[k]
            if clamp is not None and k == layer:
                h_k = h_k * clamp
            records.append(th.stack([r, z, n, h_k], dim=1))
            new_h.append(h_k)
            x = h_k
        return th.stack(records, dim=1), (th.stack(new_h),)

    def named_states(self, states: States) -> tuple[th.Tensor, ...]:
        return (states[0],)

    def from_named(self, named: tuple[th.Tensor, ...]) -> States:
        return self._pair(named[0])
