"""The memory interface: what the rest of the package needs from a recurrent cell, one class per cell kind.

**State layout.** sb3-contrib carries a recurrent state as the LSTM pair ``(hidden, cell)`` everywhere: in
``collect_rollouts``, the rollout buffer (``hidden_states_*``, ``cell_states_*``), ``RNNStates``, and
``predict``, which takes and returns a ``(h, c)`` tuple of numpy arrays. Every memory keeps that plumbing: a
state is always a :data:`States` pair of ``(n_layers, batch, hidden_size)`` tensors. A memory with one state
tensor (the GRU) carries it as ``hidden`` and leaves ``cell`` at zero: it never reads it, and every method
below returns zeros there. So collection, the buffer, ``predict``, save and load stay sb3-contrib's, for the
price of a zero tensor per state. Where the state leaves the package (ONNX export, ``explain``) only the
memory's own tensors appear, named :attr:`Memory.state_names` (LSTM ``h``, ``c``; GRU ``h``).

**Interface.** A :class:`Memory` wraps one recurrent module (an ``nn.LSTM``, an ``nn.GRU``) and provides:
building the module (:meth:`Memory.build`), its initial state, one step at batch ``n_envs`` (collection,
evaluation), a pass over a padded minibatch in sb3-contrib's layout (:meth:`Memory.process`: one
:meth:`~Memory.sequence` call, or the per-step fallback when a sequence resets inside), the bias that makes
it keep its state (``policy.forget_bias``), one step through the module itself (what the ONNX export
traces into the native op) and its gates recomputed from the weights (``explain``). The registry in
:mod:`recurrent_rl.algo.memory` maps ``policy.memory`` to the class, and a module to its memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch as th
from torch import nn

#: sb3-contrib's recurrent state: ``(hidden, cell)``, each ``(n_layers, batch, hidden_size)``.
States = tuple[th.Tensor, th.Tensor]


def reset(states: States, episode_starts: th.Tensor) -> States:
    """``states`` zeroed where ``episode_starts`` (batch,) is 1.0, as sb3-contrib resets them."""
    keep = (1.0 - episode_starts).view(1, -1, 1)
    return keep * states[0], keep * states[1]


def to_sequence(features: th.Tensor, episode_starts: th.Tensor, n_seq: int) -> tuple[th.Tensor, th.Tensor]:
    """sb3-contrib's padded minibatch, sequence-major ``(n_seq * max_length, dim)``, as ``(max_length, n_seq,
    dim)`` features and ``(max_length, n_seq)`` episode starts."""
    features_sequence = features.reshape((n_seq, -1, features.shape[-1])).swapaxes(0, 1)
    return features_sequence, episode_starts.reshape((n_seq, -1)).swapaxes(0, 1)


def to_batch(output: th.Tensor) -> th.Tensor:
    """``(max_length, n_seq, hidden)`` -> sb3-contrib's sequence-major ``(n_seq * max_length, hidden)``."""
    return th.flatten(output.transpose(0, 1), start_dim=0, end_dim=1)


class Memory(ABC):
    """A recurrent module and what the package does with it (see the module docstring for the state layout).

    :param module: the recurrent module (an instance of :attr:`module_class`)
    """

    #: ``policy.memory`` value of this cell kind.
    name: ClassVar[str]
    #: The torch module class (its weights and their names are what model files store).
    module_class: ClassVar[type[nn.RNNBase]]
    #: Rows of ``weight_ih_l0`` per hidden unit (the gate blocks): tells the kind from saved weights.
    n_gates: ClassVar[int]
    #: The state tensors exported to ONNX and traced by ``explain``, in this order.
    state_names: ClassVar[tuple[str, ...]]
    #: What ``explain`` records per layer and step, in this order (the last is always ``h``).
    gates: ClassVar[tuple[str, ...]]
    #: The recorded gates that are sigmoids (values in [0, 1]).
    sigmoid_gates: ClassVar[tuple[str, ...]]
    #: The state that holds information across steps: probed, ranked and clamped by ``explain``.
    memory_state: ClassVar[str]
    #: The gate whose value is the fraction of :attr:`memory_state` kept from one step to the next.
    keep_gate: ClassVar[str]
    #: Which block of ``bias_ih`` (``n_gates`` blocks of ``hidden_size``) is the :attr:`keep_gate`'s.
    keep_block: ClassVar[int]
    #: The gates plot's panels: (recorded name, title).
    panels: ClassVar[tuple[tuple[str, str], ...]]

    def __init__(self, module: nn.RNNBase) -> None:
        self.module = module

    @classmethod
    def build(cls, input_size: int, hidden_size: int, num_layers: int, **kwargs: Any) -> nn.RNNBase:
        """A new module, initialised as torch initialises it (``kwargs``: sb3-contrib's ``lstm_kwargs``)."""
        factory: Callable[..., nn.RNNBase] = cls.module_class
        return factory(input_size, hidden_size, num_layers=num_layers, **kwargs)

    def initial_state(self, batch: int, device: th.device | str = "cpu") -> States:
        """Zero states for ``batch`` envs (a fresh episode)."""
        shape = (self.module.num_layers, batch, self.module.hidden_size)
        return th.zeros(shape, device=device), th.zeros(shape, device=device)

    def steps_with_cells(self) -> bool:
        """Whether one step can be computed with the cell functions, layer by layer (no projections,
        bidirection, batch-first layout or active dropout)."""
        module = self.module
        dropout_active = module.training and module.dropout > 0.0 and module.num_layers > 1
        return not (module.bidirectional or module.batch_first or module.proj_size > 0 or dropout_active)

    def process(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        """The pass over ``n_seq`` padded sequences with sb3-contrib's layout and results.

        One step (``n_seq`` rows) takes :meth:`step`. A minibatch whose sequences can only reset at their
        first step (what sb3-contrib's rollout buffer makes) is reset once and run with ONE :meth:`sequence`
        call; a reset in the middle of a sequence takes :meth:`per_step`.

        :param features: (n_seq * max_length, features_dim), sequence-major
        :param states: initial states, each (n_layers, n_seq, hidden_size)
        :param episode_starts: (n_seq * max_length,) 1.0 where the states must be reset
        :return: output (n_seq * max_length, hidden_size) and the final states
        """
        n_seq = states[0].shape[1]
        if features.shape[0] == n_seq and self.steps_with_cells():
            return self.step(features, states, episode_starts)
        features_sequence, starts = to_sequence(features, episode_starts, n_seq)
        if starts[1:].any():
            return self.per_step(features, states, episode_starts)
        output, final = self.sequence(features_sequence, reset(states, starts[0]))
        return to_batch(output), final

    @abstractmethod
    def step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        """One step for ``n_seq`` sequences: reset at ``episode_starts`` (n_seq,), then one cell per layer.

        :return: output (n_seq, hidden_size) and the new states
        """

    @abstractmethod
    def sequence(self, features_sequence: th.Tensor, states: States) -> tuple[th.Tensor, States]:
        """The module over ``(max_length, n_seq, features_dim)`` from ``states`` (no reset inside).

        :return: output (max_length, n_seq, hidden_size) and the final states
        """

    @abstractmethod
    def per_step(
        self, features: th.Tensor, states: States, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, States]:
        """:meth:`process` one step at a time, resetting wherever an episode starts (the fallback)."""

    def add_keep_bias(self, value: float) -> None:
        """Add ``value`` to the bias of :attr:`keep_gate` in every layer (``policy.forget_bias``): the gate
        starts near sigmoid(0) = 0.5, halving the state every step; a bias ``b`` makes it sigmoid(b)."""
        size = self.module.hidden_size
        start = self.keep_block * size
        for layer in range(self.module.num_layers):
            bias = getattr(self.module, f"bias_ih_l{layer}")
            with th.no_grad():
                bias[start : start + size] += value

    @abstractmethod
    def export_step(
        self, features: th.Tensor, states: tuple[th.Tensor, ...]
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        """One step through the module itself (the ONNX exporter turns it into the native op).

        :param features: (batch, features_dim)
        :param states: the :attr:`state_names` tensors, each (n_layers, batch, hidden_size), already reset
        :return: output (batch, hidden_size) and the new :attr:`state_names` tensors
        """

    @abstractmethod
    def recompute(
        self, x: th.Tensor, states: tuple[th.Tensor, ...], clamp: th.Tensor | None = None, layer: int = -1
    ) -> tuple[th.Tensor, tuple[th.Tensor, ...]]:
        """One step from the weights, every gate kept (``explain``).

        :param x: (batch, features_dim)
        :param states: the :attr:`state_names` tensors, each (n_layers, batch, hidden_size)
        :param clamp: (batch, hidden_size) multiplies the new :attr:`memory_state` of ``layer`` (0 zeroes)
        :return: the records (batch, n_layers, len(gates), hidden_size) in :attr:`gates` order and the new
            :attr:`state_names` tensors
        """

    @abstractmethod
    def named_states(self, states: States) -> tuple[th.Tensor, ...]:
        """The :attr:`state_names` tensors of an sb3-contrib state pair."""

    @abstractmethod
    def from_named(self, named: tuple[th.Tensor, ...]) -> States:
        """The sb3-contrib state pair of the :attr:`state_names` tensors (inverse of :meth:`named_states`)."""
