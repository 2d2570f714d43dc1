"""The greedy policy of an SB3 actor-critic as one ``nn.Module`` with explicit state, ready to export.

:class:`PolicyModule` takes raw env observations (one tensor per key of a Dict space) and returns the action
``policy.predict(..., deterministic=True)`` would return, plus the action logits (Discrete, MultiDiscrete,
MultiBinary) or the action mean (Box). Every piece of state is an explicit input and output:

* the actor memory's states, ``(n_layers, batch, hidden)``, named by the memory
  (:attr:`~recurrent_rl.algo.memory.base.Memory.state_names`): ``h``, ``c`` for an LSTM, ``h`` for a GRU;
* ``stack`` (``stack.<key>`` for Dict spaces) when ``frame_stack`` is set: the last ``k`` normalised frames,
  laid out as SB3's ``VecFrameStack`` lays them out (newest last along the stacking axis);
* ``episode_start``: ``(batch,)`` float, 1.0 on an episode's first step: zeroes that row's LSTM state and
  frame stack before the step, as sb3-contrib and ``VecFrameStack`` do.

The memory runs as the module itself (``nn.LSTM`` / ``nn.GRU``), which the ONNX exporters turn into the native
``LSTM`` / ``GRU`` op.

Observation pipeline, in the order of the project's vector env: VecNormalize (float64 arithmetic, as SB3) ->
frame stack -> channel-last to channel-first (``VecTransposeImage``) -> SB3's ``preprocess_obs`` -> extractor.

Inputs are positional in :attr:`PolicyModule.input_names` order: ``obs`` (or ``obs.<key>`` per key),
the memory's states (recurrent), the stacks, ``episode_start`` (recurrent or stacked). Outputs follow
:attr:`PolicyModule.output_names`: ``action``, ``logits`` (when ``with_logits``), then the new states named
``h_out`` (``c_out``), ``stack_out`` (``stack_out.<key>``): ONNX forbids an input and an output of one name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from recurrent_rl.algo.memory import Memory, memory_of
from recurrent_rl.deploy.parts import ActionHead, ObsNormalization, ObsPath, torch_dtype

__all__ = ["ObsNormalization", "PolicyModule", "state_output", "torch_dtype"]


def _sub(space: gym.Space, key: str) -> gym.Space:
    """``space[key]`` of a Dict space; ``space`` itself for the key ``""`` of a plain space."""
    return space[key] if isinstance(space, gym.spaces.Dict) and key else space


def state_output(name: str) -> str:
    """The output carrying the new value of state input ``name`` (ONNX names must be unique): ``h`` ->
    ``h_out``, ``stack.<key>`` -> ``stack_out.<key>``."""
    prefix, dot, key = name.partition(".")
    return f"{prefix}_out{dot}{key}"


class PolicyModule(nn.Module):
    """Greedy actor of an SB3 ``ActorCriticPolicy`` / sb3-contrib ``RecurrentActorCriticPolicy``.

    :param policy: the trained policy (its modules are shared, not copied)
    :param observation_space: the raw env's observation space, per frame and channel-last as the env gives it
        (default: the policy's own, i.e. no frame stack and no transpose)
    :param normalization: VecNormalize statistics; for Dict spaces a mapping key -> statistics
    :param frame_stack: ``env.frame_stack``: keep the last ``k`` frames as explicit ``stack`` state
    :param with_logits: also return ``logits`` as second output (for the ONNX check)
    """

    def __init__(
        self,
        policy: Any,
        observation_space: gym.Space | None = None,
        normalization: ObsNormalization | Mapping[str, ObsNormalization] | None = None,
        frame_stack: int | None = None,
        with_logits: bool = True,
    ) -> None:
        super().__init__()
        self._source = (policy,)  # a plain reference: the policy's critic must not become part of this module
        raw = policy.observation_space if observation_space is None else observation_space
        self.observation_space, self.action_space = raw, policy.action_space
        self.frame_stack, self.with_logits = frame_stack, with_logits
        self.dict_obs = isinstance(raw, gym.spaces.Dict)
        self.keys: list[str] = list(raw.spaces) if isinstance(raw, gym.spaces.Dict) else [""]
        stats = normalization if isinstance(normalization, Mapping) else {"": normalization}
        if self.dict_obs and isinstance(normalization, ObsNormalization):
            raise ValueError("Dict observations need a mapping key -> ObsNormalization")
        self.obs_paths = [
            ObsPath(
                _sub(raw, key),
                _sub(policy.observation_space, key),
                stats.get(key),
                frame_stack,
                policy.normalize_images,
            )
            for key in self.keys
        ]
        self.paths = nn.ModuleList(self.obs_paths)
        self.features_extractor = policy.pi_features_extractor
        self.rnn: nn.Module | None = getattr(policy, "lstm_actor", None)  # registered: exported with the rest
        self.memory: Memory | None = None if self.rnn is None else memory_of(self.rnn)
        self.head = ActionHead(policy)
        self.recurrent = self.memory is not None
        obs_names = [f"obs.{key}" if key else "obs" for key in self.keys]
        stack_names = [f"stack.{key}" if key else "stack" for key in self.keys] if frame_stack else []
        self.memory_state_names = list(self.memory.state_names) if self.memory is not None else []
        state = self.memory_state_names + stack_names
        self.input_names = obs_names + state + (["episode_start"] if state else [])
        self.output_names = (
            ["action"] + (["logits"] if with_logits else []) + [state_output(n) for n in state]
        )
        self.eval()  # no dropout or batch norm here; SB3 sets the training mode itself when it trains

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Inputs in :attr:`input_names` order; outputs in :attr:`output_names` order."""
        if len(inputs) != len(self.input_names):
            raise TypeError(f"expected inputs {self.input_names}, got {len(inputs)} tensors")
        n_keys = len(self.keys)
        rest = list(inputs[n_keys:])
        start = rest.pop() if rest else None
        n_states = len(self.memory_state_names)
        states, rest = rest[:n_states], rest[n_states:]
        processed, stacks = {}, []
        for i, (key, path) in enumerate(zip(self.keys, self.paths, strict=True)):
            processed[key], new_stack = path(inputs[i], rest[i] if rest else None, start)
            if new_stack is not None:
                stacks.append(new_stack)
        features = self.features_extractor(processed if self.dict_obs else processed[""])
        outputs: list[torch.Tensor] = []
        if self.memory is not None and start is not None:
            keep = (1.0 - start.to(torch.float32)).view(1, -1, 1)
            features, new_states = self.memory.export_step(features, tuple(keep * state for state in states))
            outputs = list(new_states)
        action, logits = self.head(features)
        result = [action] + ([logits] if self.with_logits else []) + outputs + stacks
        return result[0] if len(result) == 1 else tuple(result)

    @property
    def policy(self) -> Any:
        """The SB3 policy this module runs (its modules are shared, not copied)."""
        return self._source[0]

    def state_shapes(self, batch: int) -> dict[str, tuple[int, ...]]:
        """Shapes of the state inputs (the memory's, stacks) for ``batch`` envs."""
        shapes: dict[str, tuple[int, ...]] = {}
        if self.memory is not None:
            rnn = self.memory.module
            for name in self.memory_state_names:
                shapes[name] = (rnn.num_layers, batch, rnn.hidden_size)
        for key, path in zip(self.keys, self.obs_paths, strict=True):
            if self.frame_stack:
                shapes[f"stack.{key}" if key else "stack"] = (batch, *path.stack_shape)
        return shapes

    def initial_state(self, batch: int) -> dict[str, np.ndarray]:
        """Zero states (the state of a fresh episode) as numpy arrays."""
        out = {}
        for name, shape in self.state_shapes(batch).items():
            dtype = np.float32 if name in self.memory_state_names else self._stack_dtype(name)
            out[name] = np.zeros(shape, dtype=dtype)
        return out

    def obs_space(self, key: str) -> gym.Space:
        """The raw observation space of ``key`` (``""`` for a plain, non-Dict space)."""
        return _sub(self.observation_space, key)

    def _stack_dtype(self, name: str) -> Any:
        return self.obs_space(name.partition(".")[2]).dtype

    def obs_feeds(self, obs: np.ndarray | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Batched env observations (array or dict of arrays) as named inputs ``obs`` / ``obs.<key>``."""
        if self.dict_obs:
            assert isinstance(obs, Mapping)
            return {f"obs.{key}": np.asarray(obs[key]) for key in self.keys}
        return {"obs": np.asarray(obs)}

    def example_inputs(self, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
        """Random observations and states, episode starts on even rows: for tracing and checks."""
        rng = np.random.default_rng(seed)
        feeds: dict[str, np.ndarray] = {}
        for key in self.keys:
            space = self.obs_space(key)
            space.seed(int(rng.integers(2**31)))
            sample = np.stack([space.sample() for _ in range(batch)])
            dtype = np.int64 if isinstance(space, gym.spaces.Discrete) else space.dtype
            feeds[f"obs.{key}" if key else "obs"] = sample.astype(dtype)
        for name, state in self.initial_state(batch).items():
            noise = rng.uniform(0, 1, state.shape)
            feeds[name] = (noise * (255 if state.dtype == np.uint8 else 1)).astype(state.dtype)
        if "episode_start" in self.input_names:
            feeds["episode_start"] = (np.arange(batch) % 2 == 0).astype(np.float32)
        return feeds

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Call the module with named numpy inputs; return named numpy outputs (no gradients)."""
        tensors = [torch.as_tensor(np.asarray(feeds[name])) for name in self.input_names]
        with torch.no_grad():
            out = self(*tensors)
        outs = out if isinstance(out, tuple) else (out,)
        return {name: value.numpy() for name, value in zip(self.output_names, outs, strict=True)}
