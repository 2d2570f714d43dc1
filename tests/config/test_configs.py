"""Every shipped config loads, names a working env, and builds its agent (documented examples: tests/docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recurrent_rl.algo.build import build_model, check_spaces, policy_kwargs
from recurrent_rl.config.loader import load_config
from recurrent_rl.vecenv.build import build_vec_env, check_env_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def test_configs_are_shipped_for_every_environment_and_baseline() -> None:
    ids = {load_config(path).config.env.id for path in CONFIGS}
    import envs

    assert set(envs.descriptions()) <= ids
    names = {path.stem for path in CONFIGS}
    assert {
        "tmaze",
        "tmaze_ppo",
        "tmaze_framestack",
        "cartpole_novel_ppo",
        "cartpole_novel_framestack",
    } <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_builds(path: Path) -> None:
    cfg = load_config(path).config
    observation_space, action_space = check_env_config(cfg.env)
    check_spaces(cfg, observation_space, action_space)
    env = build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=0, training=True)
    try:
        model = build_model(cfg, env)
        assert model.n_steps == cfg.algo.n_steps
    finally:
        env.close()


@pytest.mark.parametrize("memory", ["lstm", "gru"])
@pytest.mark.parametrize("critic", ["enable_critic_lstm=true", "enable_critic_lstm=false"])
def test_forget_bias_shifts_only_the_forget_gates(critic: str, memory: str) -> None:
    """policy.forget_bias adds to the slice of the gate that keeps the memory in every memory (actor, critic,
    every layer): the LSTM's forget gate f, the GRU's update gate z, both PyTorch's second gate block."""
    import torch

    def lstm_biases(forget_bias: float) -> dict[str, torch.Tensor]:
        overrides = [f"policy.forget_bias={forget_bias}", "policy.n_lstm_layers=2", f"policy.{critic}"]
        overrides.append(f"policy.memory={memory}")
        cfg = load_config(ROOT / "configs" / "tmaze.yaml", overrides).config
        env = build_vec_env(cfg.env, cfg.algo, n_envs=2, seed=0, training=True)
        try:
            policy = build_model(cfg, env).policy
        finally:
            env.close()
        return {name: value.clone() for name, value in policy.state_dict().items() if "lstm" in name}

    plain, shifted = lstm_biases(0.0), lstm_biases(2.5)
    hidden = 32
    forget_slices = [name for name in plain if ".bias_ih_l" in name]
    assert len(forget_slices) == (4 if critic.endswith("true") else 2)  # 2 layers, actor (+ critic)
    for name, value in plain.items():
        delta = shifted[name] - value
        if name in forget_slices:
            assert torch.allclose(delta[hidden : 2 * hidden], torch.full((hidden,), 2.5)), name
            delta[hidden : 2 * hidden] = 0
        assert torch.count_nonzero(delta) == 0, name


def test_memory_is_ignored_by_memoryless_ppo() -> None:
    """Like the other memory keys, policy.memory is ignored when algo.name is ppo (baselines inherit it)."""
    cfg = load_config(ROOT / "configs" / "tmaze_ppo.yaml", ["policy.memory=gru"]).config
    assert cfg.policy.memory == "gru" and "memory" not in policy_kwargs(cfg)
    env = build_vec_env(cfg.env, cfg.algo, n_envs=2, seed=0, training=True)
    try:
        assert not hasattr(build_model(cfg, env).policy, "lstm_actor")
    finally:
        env.close()
