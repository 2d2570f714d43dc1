"""The LSTM memory: sb3-contrib's own cell, driven exactly as before the memory interface existed.

PyTorch's gate order is i, f, g, o::

    i, f, o = sigmoid(.), g = tanh(.)    of  W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    c_t = f * c_{t-1} + i * g            h_t = o * tanh(c_t)

Training runs ``nn.LSTM`` (oneDNN on CPU) over a whole minibatch in one call; collection steps with
``torch.lstm_cell`` per layer (about half the cost of ``nn.LSTM`` for a single step); a reset inside a
sequence takes sb3-contrib's own per-step loop.
"""

from __future__ import annotations

from typing import cast

import torch as th
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from torch import nn

from recurrent_rl.algo.memory.base import Memory, States, reset


class LSTMMemory(Memory):
    """``nn.LSTM``: state ``(h, c)``; ``policy.forget_bias`` goes to the forget gate f."""

    module: nn.LSTM
    name = "lstm"
    module_class = nn.LSTM
    n_gates = 4
    state_names = ("h", "c")
    gates = ("i", "f", "g", "o", "c", "h")
    sigmoid_gates = ("i", "f", "o")
    memory_state = "c"
    keep_gate = "f"
    keep_block = 1  # i, [f], g, o
    panels = (("i", "input gate i"), ("f", "forget gate f"), ("o", "output gate o"), ("c", "cell state c"))

    def step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        hidden, cell = reset(states, episode_starts)
        output = features
        new_hidden, new_cell = [], []
        for layer, weights in enumerate(
            self.module.all_weights
        ):  # [weight_ih, weight_hh, (bias_ih, bias_hh)]
            output, layer_cell = th.lstm_cell(output, (hidden[layer], cell[layer]), *weights)
            new_hidden.append(output)
            new_cell.append(layer_cell)
        return output, (th.stack(new_hidden), th.stack(new_cell))

    def sequence(self, features_sequence: th.Tensor, states: States) -> tuple[th.Tensor, States]:
        output, (hidden, cell) = self.module(features_sequence, states)
        return output, (hidden, cell)

    def per_step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        """sb3-contrib's ``_process_sequence`` (one LSTM call per step when resets occur)."""
        result = RecurrentActorCriticPolicy._process_sequence(features, states, episode_starts, self.module)
        return cast(tuple[th.Tensor, States], result)

    def export_step(
        self, features: th.Tensor, states: tuple[th.Tensor, ...]
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        latent, (h, c) = self.module(features.unsqueeze(0), (states[0], states[1]))
        return latent.squeeze(0), (h, c)

    def recompute(
        self, x: th.Tensor, states: tuple[th.Tensor, ...], clamp: th.Tensor | None = None, layer: int = -1
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        lstm, (h, c) = self.module, states
        layer = layer % lstm.num_layers
        records, new_h, new_c = [], [], []
        for k in range(lstm.num_layers):
            z = x @ getattr(lstm, f"weight_ih_l{k}").T + h[k] @ getattr(lstm, f"weight_hh_l{k}").T
            if lstm.bias:
                z = z + getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
            zi, zf, zg, zo = z.chunk(4, dim=1)
            i, f, g, o = th.sigmoid(zi), th.sigmoid(zf), th.tanh(zg), th.sigmoid(zo)
            c_k = f * c[k] + i * g
            if clamp is not None and k == layer:
                c_k = c_k * clamp
            h_k = o * th.tanh(c_k)
            records.append(th.stack([i, f, g, o, c_k, h_k], dim=1))
            new_h.append(h_k)
            new_c.append(c_k)
            x = h_k
        return th.stack(records, dim=1), (th.stack(new_h), th.stack(new_c))

    def named_states(self, states: States) -> tuple[th.Tensor, ...]:
        return states

    def from_named(self, named: tuple[th.Tensor, ...]) -> States:
        return named[0], named[1]
