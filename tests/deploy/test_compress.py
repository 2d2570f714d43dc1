"""Pruning and int8: the zeros reach the ONNX file; too much pruning costs return (a check refuses it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from stable_baselines3.common.env_util import make_vec_env

from recurrent_rl.algo.build import build_model
from recurrent_rl.config.loader import load_config
from recurrent_rl.deploy import (
    PolicyModule,
    compare,
    copy_policy,
    export_onnx,
    latency_us,
    make_session,
    play,
    prune,
    quantize_int8,
    record_inputs,
)
from recurrent_rl.vecenv.build import build_vec_env
from tests.helpers.export_setups import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

torch.set_num_threads(1)

TMAZE = "RecurrentRL/TMaze-v0"
CORRIDOR = {"corridor_length": 4}


def _pruned_weight_arrays(data: bytes) -> list[np.ndarray]:
    """The ONNX initializers holding LSTM (W, R) and Linear (Gemm/MatMul B) weights."""
    model = onnx.load_from_string(data)
    inits = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    names = []
    for node in model.graph.node:
        if node.op_type == "LSTM":
            names += [node.input[1], node.input[2]]
        elif node.op_type in ("Gemm", "MatMul") and node.input[1] in inits:
            names.append(node.input[1])
    return [inits[name] for name in names]


@pytest.fixture(scope="module")
def trained_tmaze() -> Any:
    """configs/tmaze.yaml on plain RecurrentPPO, corridor 4, until it solves it: ~16k steps, 10-20 s."""
    overrides = [f"env.kwargs.corridor_length={CORRIDOR['corridor_length']}", "algo.implementation=sb3"]
    cfg = load_config(CONFIGS / "tmaze.yaml", overrides).config
    model = build_model(cfg, build_vec_env(cfg.env, cfg.algo, n_envs=cfg.env.n_envs, seed=0, training=True))
    for _ in range(10):
        model.learn(4096, reset_num_timesteps=False)
        _, result = record_inputs(PolicyModule(model.policy), _eval_env(), 40, seed=1)
        if result.success_rate is not None and result.success_rate >= 0.95:
            return model
    pytest.fail(f"TMaze did not train: success {result.success_rate} after {model.num_timesteps} steps")


def _eval_env() -> Any:
    return make_vec_env(TMAZE, n_envs=4, seed=0, env_kwargs=CORRIDOR)


def test_prune_50_percent_leaves_half_zeros_in_the_onnx_initializers() -> None:
    setup = build(
        TMAZE, "MlpLstmPolicy", policy_kwargs={"lstm_hidden_size": 32, "net_arch": {"pi": [32], "vf": [32]}}
    )
    policy = setup.model.policy
    critic_before = policy.lstm_critic.weight_hh_l0.clone()
    sparsity = prune(policy, 0.5)
    assert set(sparsity) == {
        "lstm_actor.weight_ih_l0",
        "lstm_actor.weight_hh_l0",
        "mlp_extractor.policy_net.0.weight",
        "action_net.weight",
    }
    torch.testing.assert_close(policy.lstm_critic.weight_hh_l0, critic_before)  # the critic is not touched
    assert not hasattr(policy.lstm_actor, "weight_hh_l0_orig")  # made permanent
    data = export_onnx(PolicyModule(policy, setup.tap.observation_space))
    arrays = _pruned_weight_arrays(data)
    assert len(arrays) == 4  # W and R of the LSTM, two Gemm weights
    zeros, total = sum(int((a == 0).sum()) for a in arrays), sum(a.size for a in arrays)
    assert abs(zeros / total - 0.5) <= 1.0 / total + 1e-9
    # the pruned LSTM is what both runtimes run
    module = PolicyModule(policy, setup.tap.observation_space)
    steps, _ = record_inputs(module, setup.raw_env(), 2)
    assert compare(module, make_session(data), steps).ok()


def test_prune_fraction_is_checked() -> None:
    setup = build(TMAZE, "MlpLstmPolicy")
    with pytest.raises(ValueError, match="fraction=1.5"):
        prune(setup.model.policy, 1.5)


def test_pruning_99_percent_loses_return_and_int8_keeps_it(trained_tmaze: Any) -> None:
    module = PolicyModule(trained_tmaze.policy)
    data = export_onnx(module)
    base = play(make_session(data), _eval_env(), 60, seed=2)
    assert base.success_rate is not None and base.success_rate >= 0.9

    int8 = quantize_int8(data)
    ops = {node.op_type for node in onnx.load_from_string(int8).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops and "Gemm" not in ops
    assert len(int8) < len(data)
    quantized = play(make_session(int8), _eval_env(), 60, seed=2)
    assert quantized.success_rate is not None and quantized.success_rate >= 0.9

    policy = copy_policy(trained_tmaze.policy)
    feeds = module.example_inputs(batch=4)
    np.testing.assert_array_equal(PolicyModule(policy).run(feeds)["logits"], module.run(feeds)["logits"])
    sparsity = prune(policy, 0.99)
    assert min(sparsity.values()) > 0.9
    pruned = play(make_session(export_onnx(PolicyModule(policy))), _eval_env(), 60, seed=2)
    print(
        f"success: float {base.success_rate}, int8 {quantized.success_rate}, 99% pruned {pruned.success_rate}"
    )
    assert pruned.mean_return < base.mean_return - 0.5  # what a tolerance check would refuse
    assert pruned.success_rate is not None and pruned.success_rate < 0.8


def test_latency_us_accepts_sessions_and_callables() -> None:
    setup = build(TMAZE, "MlpLstmPolicy")
    feeds = setup.module.example_inputs(batch=1)
    session = make_session(export_onnx(setup.module))
    assert 0 < latency_us(session, feeds, n=20, repeats=2, warmup=2) < 1e5
    assert 0 < latency_us(lambda **kw: setup.module.run(kw), feeds, n=5, repeats=1, warmup=1) < 1e6
    assert 0 < latency_us(lambda x: x, [1], n=5, repeats=1, warmup=1) < 1e4
