"""The record of traced episodes: every step's observation, action, reward, gates and hidden state."""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from recurrent_rl.algo.memory import MEMORIES, Memory
from recurrent_rl.artifacts.atomic import atomic_write_bytes
from recurrent_rl.config.schema import MemoryName

#: The per-step rows :meth:`Trace.from_rows` assembles, in this order.
ROWS = ("obs", "action", "reward", "done", "episode", "step", "gates", "hidden", "visible")


@dataclass
class Trace:
    """Per-step records, sorted by (episode, step); arrays of shape ``[n_steps, ...]``.

    ``memory`` names the actor's memory (``lstm``, ``gru``); ``gates`` holds what it records per layer
    (:attr:`~recurrent_rl.algo.memory.base.Memory.gates`: LSTM i, f, g, o, c, h; GRU r, z, n, h), each of
    shape ``[n_steps, n_layers, n_cells]`` (after the step's update).
    ``hidden_state[key]`` / ``hidden_state_visible[key]`` describe the state at the time of the observation.
    Episode arrays (``episode_*``) have shape ``[n_episodes]``; success is NaN without ``is_success``.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    memory: MemoryName
    gates: dict[str, np.ndarray]
    hidden_state: dict[str, np.ndarray]
    hidden_state_visible: dict[str, np.ndarray]
    episode_return: np.ndarray
    episode_length: np.ndarray
    episode_success: np.ndarray

    @property
    def n_steps(self) -> int:
        return len(self.step)

    @property
    def n_episodes(self) -> int:
        return len(self.episode_return)

    @property
    def n_cells(self) -> int:
        return int(self.h.shape[-1])

    @property
    def n_layers(self) -> int:
        return int(self.h.shape[1])

    @property
    def memory_class(self) -> type[Memory]:
        return MEMORIES[self.memory]

    @property
    def h(self) -> np.ndarray:
        """The hidden state ``h`` (the memory's output), ``[n_steps, n_layers, n_cells]``."""
        return self.gates["h"]

    @property
    def state(self) -> np.ndarray:
        """The state that holds the memory (LSTM ``c``, GRU ``h``): what probes, ranks and clamps target."""
        return self.gates[self.memory_class.memory_state]

    @property
    def keep(self) -> np.ndarray:
        """The gate that keeps the memory state (LSTM forget gate ``f``, GRU update gate ``z``)."""
        return self.gates[self.memory_class.keep_gate]

    def save_npz(self, path: str | Path) -> Path:
        """Write every array to a compressed ``.npz`` (no pickle): each gate under its name (``c``, ``z``),
        ``memory`` as a string, ``hidden_state.<key>`` etc."""
        arrays: dict[str, np.ndarray] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "gates":
                arrays.update(value)
            elif isinstance(value, dict):
                arrays.update({f"{field.name}.{key}": array for key, array in value.items()})
            else:
                arrays[field.name] = np.asarray(value)
        path = Path(path)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def from_rows(cls, rows: dict[str, list[Any]], success: np.ndarray, memory: Memory) -> Trace:
        """A trace from rows of steps (:data:`ROWS`, any order; a step's gates in ``memory.gates`` order)
        and the episodes' successes (NaN: none)."""
        episode, step = np.asarray(rows["episode"], dtype=np.int64), np.asarray(rows["step"], dtype=np.int64)
        order = np.lexsort((step, episode))
        gates = np.stack(rows["gates"])[order].astype(np.float32)  # (T, layers, 6, cells)
        keys = list(dict.fromkeys(key for hidden in rows["hidden"] for key in hidden))
        hidden = {
            k: np.array([d.get(k, np.nan) for d in rows["hidden"]], dtype=np.float64)[order] for k in keys
        }
        visible = {k: np.array([bool(d.get(k, False)) for d in rows["visible"]])[order] for k in keys}
        rewards = np.asarray(rows["reward"], dtype=np.float64)[order]
        episode, step = episode[order], step[order]
        return cls(
            observations=np.stack(rows["obs"])[order].astype(np.float32),
            actions=np.stack([np.asarray(a) for a in rows["action"]])[order],
            rewards=rewards,
            dones=np.asarray(rows["done"], dtype=bool)[order],
            episode=episode,
            step=step,
            memory=memory.name,  # type: ignore[arg-type]  # a registered class's name
            gates={name: gates[:, :, j] for j, name in enumerate(memory.gates)},
            hidden_state=hidden,
            hidden_state_visible=visible,
            episode_return=np.bincount(episode, weights=rewards, minlength=len(success)),
            episode_length=np.bincount(episode, minlength=len(success)),
            episode_success=success,
        )
