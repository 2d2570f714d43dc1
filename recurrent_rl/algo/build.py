"""Build the agent a config describes (algorithm, policy, their arguments), and load a saved policy's weights
without unpickling anything."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

import gymnasium as gym
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import VecEnv, VecTransposeImage
from torch import nn

from recurrent_rl.algo.extractors import FEATURE_EXTRACTORS, MIN_IMAGE_SIDE, integer_features_kwargs
from recurrent_rl.algo.memory import MEMORIES, memory_kind_of_weights, memory_of
from recurrent_rl.artifacts import model_file
from recurrent_rl.config.schema import (
    ActivationName,
    Config,
    FeatureExtractorName,
    LinearSchedule,
    MemoryName,
)
from recurrent_rl.errors import UserError

#: ``policy.activation`` value -> activation class.
ACTIVATIONS: dict[ActivationName, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def check_registry(table: Iterable[Any], names: Any, what: str) -> None:
    """A class table must cover exactly the names its config Literal accepts."""
    if set(table) != set(get_args(names)):
        raise RuntimeError(f"{what}: the classes {sorted(table)} do not match the config's {get_args(names)}")


check_registry(ACTIVATIONS, ActivationName, "policy.activation")
check_registry(FEATURE_EXTRACTORS, FeatureExtractorName, "policy.features_extractor")
check_registry(MEMORIES, MemoryName, "policy.memory")


def algorithm_class(cfg: Config) -> type[OnPolicyAlgorithm]:
    """PPO, our FastRecurrentPPO, or sb3-contrib's RecurrentPPO (``implementation: sb3``)."""
    if cfg.algo.name == "ppo":
        return PPO
    if cfg.algo.implementation == "sb3":
        return RecurrentPPO
    from recurrent_rl.algo.fast_ppo import FastRecurrentPPO

    return FastRecurrentPPO


def policy_kwargs(cfg: Config, observation_space: gym.Space | None = None) -> dict[str, Any]:
    """The ``policy_kwargs`` for the SB3 constructor (for observations of ``observation_space``: a
    MultiDiscrete one gets an extractor with an ``int`` LSTM input size)."""
    policy = cfg.policy
    kwargs: dict[str, Any] = {
        "activation_fn": ACTIVATIONS[policy.activation],
        "ortho_init": policy.ortho_init,
    }
    if policy.net_arch is not None:
        kwargs["net_arch"] = policy.net_arch if isinstance(policy.net_arch, list) else dict(policy.net_arch)
    if policy.type.startswith("Cnn"):
        kwargs["features_extractor_class"] = FEATURE_EXTRACTORS[policy.features_extractor]
        if policy.features_dim is not None:
            kwargs["features_extractor_kwargs"] = {"features_dim": policy.features_dim}
        kwargs["normalize_images"] = policy.normalize_images
    if cfg.algo.name == "recurrent_ppo":
        if observation_space is not None and not policy.type.startswith("Cnn"):
            kwargs.update(integer_features_kwargs(observation_space))
        kwargs.update(
            lstm_hidden_size=policy.lstm_hidden_size,
            n_lstm_layers=policy.n_lstm_layers,
            enable_critic_lstm=policy.enable_critic_lstm,
            shared_lstm=policy.shared_lstm,
        )
        if policy.memory != "lstm":  # LSTM model files stay exactly sb3-contrib's (no extra keyword)
            kwargs["memory"] = policy.memory
    return kwargs


def _schedule(value: float | LinearSchedule | None) -> Any:
    return value if not isinstance(value, LinearSchedule) else value.model_copy()


def algorithm_kwargs(cfg: Config) -> dict[str, Any]:
    """Hyperparameters named exactly as the SB3 constructor arguments (FastRecurrentPPO's two more)."""
    algo = cfg.algo
    kwargs = {
        "learning_rate": _schedule(algo.learning_rate),
        "n_steps": algo.n_steps,
        "batch_size": algo.batch_size,
        "n_epochs": algo.n_epochs,
        "gamma": algo.gamma,
        "gae_lambda": algo.gae_lambda,
        "clip_range": _schedule(algo.clip_range),
        "clip_range_vf": _schedule(algo.clip_range_vf),
        "normalize_advantage": algo.normalize_advantage,
        "ent_coef": algo.ent_coef,
        "vf_coef": algo.vf_coef,
        "max_grad_norm": algo.max_grad_norm,
        "use_sde": algo.use_sde,
        "sde_sample_freq": algo.sde_sample_freq,
        "target_kl": algo.target_kl,
    }
    if algo.name == "recurrent_ppo" and algo.implementation == "fast":  # FastRecurrentPPO
        kwargs.update(sequence_length=algo.sequence_length, refresh_states=algo.refresh_states)
    return kwargs


def check_spaces(cfg: Config, observation_space: gym.Space, action_space: gym.Space) -> None:
    """Config choices that depend on the env's spaces, checked before a run folder exists."""
    if cfg.algo.use_sde and not isinstance(action_space, gym.spaces.Box):
        raise UserError(
            f"algo.use_sde: true needs a continuous (Box) action space; {cfg.env.name} has {action_space}"
        )
    is_image = isinstance(observation_space, gym.spaces.Box) and len(observation_space.shape) == 3
    if cfg.policy.type.startswith("Cnn") and not is_image:
        raise UserError(
            f"policy.type: {cfg.policy.type} needs image observations; {cfg.env.name} has {observation_space}"
        )
    if cfg.policy.type.startswith("Cnn") and isinstance(observation_space, gym.spaces.Box):
        extractor, min_side = cfg.policy.features_extractor, MIN_IMAGE_SIDE[cfg.policy.features_extractor]
        shape = observation_space.shape
        side = min(shape[1:] if is_image_space_channels_first(observation_space) else shape[:2])
        if side < min_side:
            raise UserError(
                f"policy.features_extractor: {extractor} needs images of at least {min_side}x{min_side} "
                f"pixels; {cfg.env.name} has {observation_space}"
            )
    if cfg.policy.type.startswith("MultiInput") != isinstance(observation_space, gym.spaces.Dict):
        raise UserError(
            f"policy.type: {cfg.policy.type} does not fit {cfg.env.name}'s observations {observation_space}"
        )


def add_forget_bias(policy: BasePolicy, value: float) -> None:
    """Add ``value`` to the bias of the gate that keeps the memory (LSTM: forget gate f; GRU: update gate z)
    of every memory of ``policy`` (actor, critic, every layer).

    That gate starts near sigmoid(0) = 0.5, so a unit halves its content every step; a bias ``b`` makes the
    kept share sigmoid(b).
    """
    for name in ("lstm_actor", "lstm_critic"):
        module = getattr(policy, name, None)
        if module is not None:
            memory_of(module).add_keep_bias(value)


def build_model(cfg: Config, env: VecEnv) -> OnPolicyAlgorithm:
    """The algorithm with its policy, seeded, on ``env`` (``policy.forget_bias`` applied)."""
    algo_cls = algorithm_class(cfg)
    model = algo_cls(
        cfg.policy.type,
        env,
        policy_kwargs=policy_kwargs(cfg, env.observation_space),
        seed=cfg.train.seed,
        device=cfg.train.device,
        verbose=0,
        **algorithm_kwargs(cfg),
    )
    if cfg.algo.name == "recurrent_ppo" and cfg.policy.forget_bias:
        add_forget_bias(model.policy, cfg.policy.forget_bias)
    return model


def build_policy(cfg: Config, observation_space: gym.Space, action_space: gym.Space) -> BasePolicy:
    """The policy alone, built from the config as the algorithm would build it (for evaluation)."""
    algo_cls = algorithm_class(cfg)
    policy_cls = algo_cls.policy_aliases[cfg.policy.type]
    if (
        isinstance(observation_space, gym.spaces.Box)
        and is_image_space(observation_space)
        and not is_image_space_channels_first(observation_space)
    ):
        # Training sees images through SB3's VecTransposeImage (channel-first), so the CNN was built for
        # that; the policy transposes channel-last observations itself (``maybe_transpose``).
        observation_space = VecTransposeImage.transpose_space(observation_space)
    lr = cfg.algo.learning_rate
    start = lr.start if isinstance(lr, LinearSchedule) else lr
    policy = policy_cls(
        observation_space,
        action_space,
        lambda _: start,
        use_sde=cfg.algo.use_sde,
        **policy_kwargs(cfg, observation_space),
    )
    device = "cpu" if cfg.train.device == "auto" else cfg.train.device
    return policy.to(device)


def load_policy_weights(policy: BasePolicy, model_zip: Path) -> None:
    """Load ``policy.pth`` from an SB3 model.zip with ``weights_only=True``: no pickle is executed."""
    state = model_file.read_tensors(model_zip, "policy.pth", policy.device)
    check_memory_kind(policy, state, model_zip)
    try:
        policy.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[1:3]) or str(error)
        raise UserError(
            f"{model_zip}: the model does not match the config's env and policy "
            "(spaces or architecture differ): "
            f"{detail}"
        ) from None
    policy.set_training_mode(False)


def check_memory_kind(policy: BasePolicy, state: dict[str, Any], model_zip: Path) -> None:
    """A model file whose memory (LSTM, GRU) is not the config's ``policy.memory``: one clear error."""
    module = getattr(policy, "lstm_actor", None)
    saved = memory_kind_of_weights(state)
    if module is not None and saved is not None and saved.name != memory_of(module).name:
        raise UserError(
            f"{model_zip}: the model's memory is {saved.name}, the config's policy.memory is "
            f"{memory_of(module).name}; use the config the model was trained with"
        )
