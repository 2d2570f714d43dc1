"""An exact GRU pass over a whole sequence for training on CPU, about twice as fast as ``nn.GRU`` there.

``nn.GRU`` has no oneDNN kernel on CPU: ATen runs it as a chain of small autograd operations per time step,
and the backward pass walks that graph node by node. Here the input projections of all steps are one matrix
product (``W_ih x + b_ih``, autograd as usual) and the recurrence over the hidden state is ONE autograd node,
:class:`HiddenRecurrence`: its forward loop (seven tensor operations per step) keeps the gates; its backward
pass computes the chain-rule factors of all steps at once, then walks back through time with two operations
per step, and gets the weight gradients of all steps as one matrix product. PyTorch's GRU (gate order r, z,
n)::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (h - n) * z + n   ( = (1 - z) * n + z * h )

with the module's own weights: an ``nn.GRU`` stays an ``nn.GRU`` (save, load, ONNX export unchanged).
Outputs and gradients equal ``nn.GRU``'s to float rounding (tested to 1e-5 in float32 and 1e-10 in float64);
``benchmarks/bench_gru.py`` measures it against ``nn.GRU`` and the other exact candidates.
"""

from __future__ import annotations

from typing import Any

import torch as th
from torch import nn


class HiddenRecurrence(th.autograd.Function):
    """``(gates_x, h0, weight_hh, bias_hh) -> outputs``: the recurrent part of one GRU layer.

    :param gates_x: (T, B, 3H) input projections ``W_ih x_t + b_ih`` of every step
    :param h0: (B, H) initial hidden state
    :param weight_hh: (3H, H) and ``bias_hh`` (3H,): the layer's recurrent weights
    :return: (T, B, H) the hidden state after every step
    """

    @staticmethod
    def forward(
        ctx: Any, gates_x: th.Tensor, h0: th.Tensor, weight_hh: th.Tensor, bias_hh: th.Tensor
    ) -> th.Tensor:
        n_steps, batch, three = gates_x.shape
        size = three // 3
        gates_h = gates_x.new_empty((n_steps, batch, three))  # W_hh h + b_hh of every step
        rz = gates_x.new_empty((n_steps, batch, 2 * size))
        new = gates_x.new_empty((n_steps, batch, size))
        out = gates_x.new_empty((n_steps, batch, size))
        # Views of every step, made once (indexing in the loop would cost more than the arithmetic).
        gh, gh_rz, gh_n = (
            gates_h.unbind(0),
            gates_h[..., : 2 * size].unbind(0),
            gates_h[..., 2 * size :].unbind(0),
        )
        gx_rz, gx_n = gates_x[..., : 2 * size].unbind(0), gates_x[..., 2 * size :].unbind(0)
        rz_t, r_t, z_t = rz.unbind(0), rz[..., :size].unbind(0), rz[..., size:].unbind(0)
        new_t, out_t = new.unbind(0), out.unbind(0)
        weight_t, h = weight_hh.t(), h0
        for t in range(n_steps):
            th.addmm(bias_hh, h, weight_t, out=gh[t])
            th.add(gx_rz[t], gh_rz[t], out=rz_t[t]).sigmoid_()
            th.addcmul(gx_n[t], r_t[t], gh_n[t], out=new_t[t]).tanh_()
            h = th.addcmul(new_t[t], z_t[t], h - new_t[t], out=out_t[t])
        ctx.save_for_backward(h0, out, rz, new, gates_h, weight_hh)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: th.Tensor) -> tuple[th.Tensor | None, ...]:
        h0, out, rz, new, gates_h, weight_hh = ctx.saved_tensors
        n_steps, batch, size = out.shape
        h_prev = th.cat([h0.unsqueeze(0), out[:-1]])
        r, z = rz[..., :size], rz[..., size:]
        n_factor = (1.0 - z) * (1.0 - new * new)  # d(n pre-activation) / dh'
        # dL/d[W_hr h, W_hz h, W_hn h + b_hn, h] of step t = factors[t] * dL/dh'_t, for all steps at once.
        factors = th.cat(
            [
                n_factor * gates_h[..., 2 * size :] * r * (1.0 - r),
                (h_prev - new) * z * (1.0 - z),
                n_factor * r,
                z,
            ],
            dim=-1,
        ).view(n_steps, batch, 4, size)
        # [W_hh; I]: one product gives dL/dh of the previous step, through the gates and through z * h.
        weight_ext = th.cat([weight_hh, th.eye(size, dtype=weight_hh.dtype, device=weight_hh.device)])
        d_h = out.new_empty((n_steps, batch, size))  # dL/dh'_t, all paths
        d_pre = out.new_empty((n_steps, batch, 4 * size))
        d_h_t, d_h_4, factors_t = d_h.unbind(0), d_h.unsqueeze(2).unbind(0), factors.unbind(0)
        d_pre_t, d_pre_4, grad_t = (
            d_pre.unbind(0),
            d_pre.view(n_steps, batch, 4, size).unbind(0),
            grad_out.unbind(0),
        )
        d_h_t[-1].copy_(grad_t[-1])
        for t in range(n_steps - 1, 0, -1):
            th.mul(factors_t[t], d_h_4[t], out=d_pre_4[t])
            th.addmm(grad_t[t - 1], d_pre_t[t], weight_ext, out=d_h_t[t - 1])
        th.mul(factors_t[0], d_h_4[0], out=d_pre_4[0])
        d_h0 = d_pre_t[0] @ weight_ext if ctx.needs_input_grad[1] else None
        flat = d_pre.view(-1, 4 * size)
        d_weight = (flat.t() @ h_prev.view(-1, size))[: 3 * size] if ctx.needs_input_grad[2] else None
        d_bias = flat.sum(0)[: 3 * size] if ctx.needs_input_grad[3] else None
        d_gates_x = th.cat([d_pre[..., : 2 * size], d_h * n_factor], dim=-1)
        return d_gates_x, d_h0, d_weight, d_bias


def fits_sequence_kernel(gru: nn.GRU) -> bool:
    """Whether :func:`gru_sequence` can run ``gru`` (else call the module itself)."""
    dropout_active = gru.training and gru.dropout > 0.0 and gru.num_layers > 1
    return gru.bias and not (gru.bidirectional or gru.batch_first or dropout_active)


def gru_sequence(gru: nn.GRU, inputs: th.Tensor, h0: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """``gru(inputs, h0)`` with :class:`HiddenRecurrence`: (T, B, in) and (layers, B, H) ->
    output (T, B, H) and final hidden state (layers, B, H)."""
    output, finals = inputs, []
    for layer in range(gru.num_layers):
        weight_ih, weight_hh, bias_ih, bias_hh = gru.all_weights[layer]
        gates_x = th.nn.functional.linear(output, weight_ih, bias_ih)
        output = HiddenRecurrence.apply(gates_x, h0[layer], weight_hh, bias_hh)
        finals.append(output[-1])
    return output, th.stack(finals)
