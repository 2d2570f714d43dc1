"""``recurrent-rl export``: the deterministic policy as a TorchScript module that needs only torch to run.

The policy is rebuilt from the run's config and its weights read with ``weights_only=True``; the
normalisation statistics (``.npz``, no pickle) become constants of the module. The module takes raw env
observations and the LSTM states and returns the greedy action and the new states::

    policy = torch.jit.load("policy.pt")
    h = c = torch.zeros(n_layers, batch, hidden)           # shapes in policy.json
    action, h, c = policy(obs, h, c, episode_start)         # episode_start: 1.0 on an episode's first step

A memoryless policy (``algo.name: ppo``) takes only ``obs``. A JSON sidecar next to the module describes
inputs, outputs, spaces and statistics.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from torch import nn

from recurrent_rl.artifacts import model_file
from recurrent_rl.artifacts.atomic import atomic_write_bytes, atomic_write_json
from recurrent_rl.artifacts.run_folder import check_outputs
from recurrent_rl.artifacts.saved_run import SavedRun, restore
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.normalization import find_vec_normalize

FORMAT = "recurrent_rl.torchscript/1"


@dataclass(frozen=True)
class ObsNormalization:
    """VecNormalize's observation transform: ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``."""

    mean: np.ndarray
    var: np.ndarray
    clip: float
    epsilon: float


class _Head(nn.Module):
    """Observation preprocessing, features extractor and greedy action of an SB3 actor-critic policy."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor
    action_low: torch.Tensor
    action_high: torch.Tensor

    def __init__(
        self, policy: ActorCriticPolicy, normalization: ObsNormalization | None, env_space: gym.Space
    ) -> None:
        super().__init__()
        self.observation_space = policy.observation_space
        # Channel-last images: the policy was built for SB3's channel-first view and transposes them itself.
        self.transpose = env_space.shape != policy.observation_space.shape
        self.action_space = policy.action_space
        self.normalize_images = policy.normalize_images
        self.features_extractor = policy.pi_features_extractor
        self.policy_net = policy.mlp_extractor.policy_net
        self.action_net = policy.action_net
        self.normalize = normalization is not None
        if normalization is not None:
            std = np.sqrt(normalization.var + normalization.epsilon)
            self.register_buffer("obs_mean", torch.as_tensor(normalization.mean, dtype=torch.float64))
            self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float64))
            self.obs_clip = float(normalization.clip)
        if isinstance(self.action_space, gym.spaces.Box):
            low, high = self.action_space.low, self.action_space.high
            self.register_buffer("action_low", torch.as_tensor(low, dtype=torch.float32))
            self.register_buffer("action_high", torch.as_tensor(high, dtype=torch.float32))

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            scaled = (obs.to(torch.float64) - self.obs_mean) / self.obs_std
            obs = torch.clamp(scaled, -self.obs_clip, self.obs_clip).to(torch.float32)
        if self.transpose:
            obs = obs.permute(0, 3, 1, 2)
        processed = preprocess_obs(obs, self.observation_space, normalize_images=self.normalize_images)
        assert isinstance(processed, torch.Tensor)
        return self.features_extractor(processed)

    def action(self, latent: torch.Tensor) -> torch.Tensor:
        """The distribution's mode, as ``policy.predict(..., deterministic=True)`` returns it."""
        out = self.action_net(self.policy_net(latent))
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return torch.argmax(out, dim=1)
        if isinstance(space, gym.spaces.Box):
            clipped = torch.maximum(torch.minimum(out, self.action_high), self.action_low)
            return clipped.reshape((-1, *space.shape))
        if isinstance(space, gym.spaces.MultiDiscrete):
            parts = torch.split(out, [int(n) for n in space.nvec.flatten()], dim=1)
            modes = torch.stack([torch.argmax(part, dim=1) for part in parts], dim=1)
            return modes.reshape((-1, *space.shape))
        if isinstance(space, gym.spaces.MultiBinary):
            return (out > 0).to(torch.float32).reshape((-1, *space.shape))
        raise UserError(f"export: action space {space} is not supported")


class RecurrentPolicyModule(nn.Module):
    """``(obs, h, c, episode_start) -> (action, h, c)`` for an LSTM actor."""

    def __init__(self, policy: Any, normalization: ObsNormalization | None, env_space: gym.Space) -> None:
        super().__init__()
        self.head = _Head(policy, normalization, env_space)
        self.lstm = policy.lstm_actor

    def forward(
        self, obs: torch.Tensor, h: torch.Tensor, c: torch.Tensor, episode_start: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.head.features(obs)
        keep = (1.0 - episode_start.to(torch.float32)).view(1, -1, 1)
        output, (h, c) = self.lstm(features.unsqueeze(0), (keep * h, keep * c))
        return self.head.action(output.squeeze(0)), h, c


class PolicyModule(nn.Module):
    """``obs -> action`` for a memoryless actor."""

    def __init__(self, policy: Any, normalization: ObsNormalization | None, env_space: gym.Space) -> None:
        super().__init__()
        self.head = _Head(policy, normalization, env_space)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head.action(self.head.features(obs))


def export_policy(saved: SavedRun, out: Path, force: bool = False) -> dict[str, Any]:
    """Write ``out`` (TorchScript) and its ``.json`` sidecar for the policy of ``saved``."""
    sidecar = out.with_suffix(".json")
    if out.suffix == ".json":
        raise UserError(f"export --out {out}: that is the sidecar's name; give the module one like policy.pt")
    check_outputs([out, sidecar], force)
    cfg = saved.require_config()
    if cfg.env.frame_stack is not None:
        raise UserError("export: env.frame_stack is not supported (the module would have to stack frames)")
    with restore(saved) as restored:
        observation_space, action_space = restored.env.observation_space, restored.env.action_space
        policy = restored.policy
        normalization = obs_normalization(restored.env)
    if not isinstance(observation_space, gym.spaces.Box | gym.spaces.Discrete):
        raise UserError(f"export: observation space {observation_space} is not supported (Box, Discrete)")
    recurrent = hasattr(policy, "lstm_actor")
    module_class = RecurrentPolicyModule if recurrent else PolicyModule
    module: nn.Module = module_class(policy, normalization, observation_space).eval().requires_grad_(False)
    examples = _example_inputs(policy, observation_space, batch=2)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notice and tracer hints
        traced = torch.jit.trace(module, examples, check_trace=False)
        _check_same(module, traced, _example_inputs(policy, observation_space, batch=3, random=True))
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    spaces = (observation_space, action_space)
    description = _describe(cfg, saved.model, policy, spaces, normalization, out, recurrent)
    atomic_write_bytes(out, buffer.getvalue())
    atomic_write_json(sidecar, description)
    return description


def obs_normalization(env: Any) -> ObsNormalization | None:
    """The observation transform of ``env``'s VecNormalize layer (statistics loaded), if it has one."""
    vec_normalize = find_vec_normalize(env)
    if vec_normalize is None or not vec_normalize.norm_obs:
        return None
    rms: Any = vec_normalize.obs_rms
    return ObsNormalization(rms.mean, rms.var, vec_normalize.clip_obs, vec_normalize.epsilon)


def _example_inputs(
    policy: Any, space: gym.Space, batch: int, random: bool = False
) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)
    if isinstance(space, gym.spaces.Discrete):
        obs = torch.randint(int(space.start), int(space.start + space.n), (batch,), generator=generator)
    else:
        assert isinstance(space, gym.spaces.Box)
        dtype = torch.from_numpy(np.zeros(0, dtype=space.dtype)).dtype
        scale = 255 if dtype == torch.uint8 else 1
        obs = (torch.rand((batch, *space.shape), generator=generator) * scale).to(dtype)
    if not hasattr(policy, "lstm_actor"):
        return (obs,)
    lstm = policy.lstm_actor
    shape = (lstm.num_layers, batch, lstm.hidden_size)
    h = torch.rand(shape, generator=generator) if random else torch.zeros(shape)
    c = torch.rand(shape, generator=generator) if random else torch.zeros(shape)
    start = (torch.arange(batch) % 2).to(torch.float32) if random else torch.ones(batch)
    return obs, h, c, start


def _check_same(module: nn.Module, traced: Any, inputs: tuple[torch.Tensor, ...]) -> None:
    """The traced module must agree with the eager one on another batch size (catches baked-in shapes)."""
    expected, got = module(*inputs), traced(*inputs)
    pairs = zip(expected, got, strict=True) if isinstance(expected, tuple) else [(expected, got)]
    for want, have in pairs:
        close = want.shape == have.shape and torch.allclose(want.double(), have.double(), atol=1e-5)
        if not close:
            raise RuntimeError("export: the traced module disagrees with the policy; please report this")


def _tensor_spec(name: str, shape: list[Any], dtype: str, text: str) -> dict[str, Any]:
    return {"name": name, "shape": shape, "dtype": dtype, "description": text}


def _describe(
    cfg: Any,
    model: Path,
    policy: Any,
    spaces: tuple[gym.Space, gym.Space],
    normalization: ObsNormalization | None,
    out: Path,
    recurrent: bool,
) -> dict[str, Any]:
    """The sidecar: how to call the module, and what went into it."""
    observation_space, action_space = spaces
    obs_shape = ["batch", *(observation_space.shape or ())]
    obs_dtype = str(observation_space.dtype) if isinstance(observation_space, gym.spaces.Box) else "int64"
    inputs = [_tensor_spec("obs", obs_shape, obs_dtype, "raw env observations (normalised in the module)")]
    action_shape = ["batch", *(action_space.shape or ())]
    action_text = "greedy action, as policy.predict(deterministic=True)"
    outputs = [_tensor_spec("action", action_shape, _action_dtype(action_space), action_text)]
    state = None
    if recurrent:
        lstm = policy.lstm_actor
        state_shape = [lstm.num_layers, "batch", lstm.hidden_size]
        for name in ("h", "c"):
            inputs.append(_tensor_spec(name, state_shape, "float32", f"LSTM {name} state, zeros at first"))
        start_text = "1.0 on an episode's first step (resets that row's state), else 0.0"
        inputs.append(_tensor_spec("episode_start", ["batch"], "float32", start_text))
        for name in ("h", "c"):
            outputs.append(_tensor_spec(name, state_shape, "float32", "new LSTM state, pass it next step"))
        state = {"num_layers": lstm.num_layers, "hidden_size": lstm.hidden_size}
    data = model_file.read_plain_data(model)
    return {
        "format": FORMAT,
        "module": out.name,
        "recurrent": recurrent,
        "inputs": inputs,
        "outputs": outputs,
        "lstm_state": state,
        "observation_space": str(observation_space),
        "action_space": str(action_space),
        "normalization": None
        if normalization is None
        else {
            "obs_mean": normalization.mean.tolist(),
            "obs_var": normalization.var.tolist(),
            "clip": normalization.clip,
            "epsilon": normalization.epsilon,
            "applied_in_module": True,
        },
        "source": {
            "model": str(model),
            "env_id": cfg.env.id,
            "env_kwargs": cfg.env.kwargs,
            "policy": cfg.policy.type,
            "timesteps": model_file.timesteps(data),
        },
        "torch_version": torch.__version__,
    }


def _action_dtype(space: gym.Space) -> str:
    if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
        return "int64"
    return "float32"
