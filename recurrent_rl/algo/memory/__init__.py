"""Recurrent memories behind one small interface (:class:`~recurrent_rl.algo.memory.base.Memory`).

:data:`MEMORIES` maps ``policy.memory`` to the class (checked against the config's Literal in
:mod:`recurrent_rl.algo.build`); :func:`memory_of` gives the memory of a policy's module; nothing else in the
package asks which cell a policy has. A further cell is one more class here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from recurrent_rl.algo.memory.base import Memory, States
from recurrent_rl.algo.memory.gru import GRUMemory
from recurrent_rl.algo.memory.lstm import LSTMMemory
from recurrent_rl.config.schema import MemoryName

__all__ = ["MEMORIES", "GRUMemory", "LSTMMemory", "Memory", "States", "memory_kind_of_weights", "memory_of"]

#: ``policy.memory`` value -> memory class.
MEMORIES: dict[MemoryName, type[Memory]] = {"lstm": LSTMMemory, "gru": GRUMemory}


def memory_of(module: nn.Module) -> Memory:
    """The memory of a recurrent module (a policy's ``lstm_actor`` or ``lstm_critic``)."""
    for memory_class in MEMORIES.values():
        if type(module) is memory_class.module_class:
            return memory_class(module)
    raise TypeError(f"{type(module).__name__} is not a known memory: expected one of {', '.join(MEMORIES)}")


def memory_kind_of_weights(state: Mapping[str, Any], prefix: str = "lstm_actor") -> type[Memory] | None:
    """The memory class whose weights ``state`` (a policy state dict) holds under ``prefix``, told from the
    shape of ``weight_hh_l0`` (``n_gates * hidden_size`` rows of ``hidden_size``); None: no such weights."""
    weight = state.get(f"{prefix}.weight_hh_l0")
    if weight is None or getattr(weight, "ndim", 0) != 2 or weight.shape[1] == 0:
        return None
    rows, columns = int(weight.shape[0]), int(weight.shape[1])
    return next((cls for cls in MEMORIES.values() if rows == cls.n_gates * columns), None)
