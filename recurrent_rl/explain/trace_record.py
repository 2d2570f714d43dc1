"""The record of traced episodes: every step's observation, action, reward, gates and hidden state."""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from recurrent_rl.artifacts.atomic import atomic_write_bytes
from recurrent_rl.explain.lstm import GATES

#: The per-step rows :meth:`Trace.from_rows` assembles, in this order.
ROWS = ("obs", "action", "reward", "done", "episode", "step", "gates", "hidden", "visible")


@dataclass
class Trace:
    """Per-step records, sorted by (episode, step); arrays of shape ``[n_steps, ...]``.

    ``i, f, g, o, c, h`` have shape ``[n_steps, n_layers, n_cells]`` (after the step's update).
    ``hidden_state[key]`` / ``hidden_state_visible[key]`` describe the state at the time of the observation.
    Episode arrays (``episode_*``) have shape ``[n_episodes]``; success is NaN without ``is_success``.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray
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
        return int(self.c.shape[-1])

    def save_npz(self, path: str | Path) -> Path:
        """Write every array to a compressed ``.npz`` (no pickle): ``hidden_state.<key>`` etc."""
        arrays: dict[str, np.ndarray] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, dict):
                arrays.update({f"{field.name}.{key}": array for key, array in value.items()})
            else:
                arrays[field.name] = value
        path = Path(path)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def from_rows(cls, rows: dict[str, list[Any]], success: np.ndarray) -> Trace:
        """A trace from rows of steps (:data:`ROWS`, any order) and the episodes' successes (NaN: none)."""
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
            **{name: gates[:, :, j] for j, name in enumerate(GATES)},
            hidden_state=hidden,
            hidden_state_visible=visible,
            episode_return=np.bincount(episode, weights=rewards, minlength=len(success)),
            episode_length=np.bincount(episode, minlength=len(success)),
            episode_success=success,
        )
