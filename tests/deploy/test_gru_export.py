"""A GRU policy exported: the native ONNX ``GRU`` op, inputs ``obs``, ``h``, ``episode_start`` and outputs
``action``, ``logits``, ``h_out``; it acts as ``predict``, onnxruntime acts as the module, resets at episode
starts; pruning and int8 work on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
import torch

from recurrent_rl.deploy import (
    compare,
    copy_policy,
    describe,
    export_onnx,
    make_session,
    prune,
    quantize_int8,
    record_inputs,
)
from tests.helpers.export_setups import build, compare_with_sb3, export_and_check, small_cnn

torch.set_num_threads(1)

TMAZE = "RecurrentRL/TMaze-v0"
CARTPOLE = "RecurrentRL/CartPoleNoVel-v1"
GRU_NET = {"memory": "gru", "lstm_hidden_size": 16, "net_arch": {"pi": [16], "vf": [16]}}

SETUPS: dict[str, dict[str, Any]] = {
    "tmaze_gru": {"env_id": TMAZE, "policy": "MlpLstmPolicy", "policy_kwargs": GRU_NET},
    "cartpole_gru_norm_stack_2_layers": {
        "env_id": CARTPOLE,
        "policy": "MlpLstmPolicy",
        "normalize": True,
        "frame_stack": 3,
        "policy_kwargs": {**GRU_NET, "n_lstm_layers": 2},
    },
    "dict_gru_norm": {
        "env_id": CARTPOLE,
        "policy": "MultiInputLstmPolicy",
        "dict_obs": "discrete",
        "normalize": True,
        "policy_kwargs": GRU_NET,
    },
    "pixel_gru_shared": {
        "env_id": "RecurrentRL/PixelMemoryMaze-v0",
        "policy": "CnnLstmPolicy",
        "policy_kwargs": {
            **GRU_NET,
            "features_extractor_class": small_cnn(),
            "features_extractor_kwargs": {"features_dim": 32},
            "shared_lstm": True,
            "enable_critic_lstm": False,
        },
    },
}


@pytest.mark.parametrize("name", list(SETUPS))
def test_gru_module_acts_as_predict_and_onnx_as_module(name: str) -> None:
    setup = build(**SETUPS[name])
    assert isinstance(setup.model.policy.lstm_actor, torch.nn.GRU)
    assert compare_with_sb3(setup, n_steps=60) > 0  # episode ends: resets are exercised
    export_and_check(setup, n_episodes=2)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_graph_is_one_native_gru_op_per_layer(exporter: str) -> None:
    setup = build(**SETUPS["cartpole_gru_norm_stack_2_layers"])
    data = export_onnx(setup.module, exporter=exporter)  # type: ignore[arg-type]
    model = onnx.load_from_string(data)
    ops = [node for node in model.graph.node if node.op_type in ("GRU", "LSTM")]
    assert [node.op_type for node in ops] == ["GRU", "GRU"]
    for node in ops:
        assert {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}[
            "linear_before_reset"
        ] == 1
    assert [arg.name for arg in model.graph.input] == ["obs", "h", "stack", "episode_start"]
    assert [arg.name for arg in model.graph.output] == ["action", "logits", "h_out", "stack_out"]
    steps, _ = record_inputs(setup.module, setup.raw_env(), 2, seed=1)
    assert compare(setup.module, make_session(data), steps).ok()


def test_onnx_gru_state_resets_at_episode_start() -> None:
    setup = build(**SETUPS["tmaze_gru"])
    session = make_session(export_onnx(setup.module))
    feeds = setup.module.example_inputs(batch=4, seed=2)
    assert set(feeds) == {"obs", "h", "episode_start"} and np.abs(feeds["h"]).min() > 0
    reset = session.run(None, {**feeds, "episode_start": np.ones(4, np.float32)})
    fresh = session.run(
        None, {**feeds, "h": np.zeros_like(feeds["h"]), "episode_start": np.zeros(4, np.float32)}
    )
    carried = session.run(None, {**feeds, "episode_start": np.zeros(4, np.float32)})
    for got, want in zip(reset, fresh, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert not np.allclose(carried[2], fresh[2])  # without a start the state is carried


def test_sidecar_names_the_gru_state() -> None:
    spec = describe(build(**SETUPS["tmaze_gru"]).module)
    assert [entry["name"] for entry in spec["inputs"]] == ["obs", "h", "episode_start"]
    assert [entry["name"] for entry in spec["outputs"]] == ["action", "logits", "h_out"]
    assert (
        spec["inputs"][1]["shape"] == [1, "batch", 16] and "GRU h state" in spec["inputs"][1]["description"]
    )
    assert spec["memory"] == {"kind": "gru", "num_layers": 1, "hidden_size": 16, "state": ["h"]}


def test_pruning_and_int8_of_a_gru_policy() -> None:
    setup = build(**SETUPS["tmaze_gru"])
    pruned = copy_policy(setup.model.policy)
    assert isinstance(pruned.lstm_actor, torch.nn.GRU)
    sparsity = prune(pruned, 0.5)
    assert {"lstm_actor.weight_ih_l0", "lstm_actor.weight_hh_l0"} <= sparsity.keys()
    assert sparsity["lstm_actor.weight_hh_l0"] > 0.0
    small = quantize_int8(export_onnx(setup.module))
    ops = {node.op_type for node in onnx.load_from_string(small).graph.node}
    assert "GRU" in ops and ops & {"MatMulInteger", "DynamicQuantizeMatMul"}  # the GRU op stays float
    feeds = setup.module.example_inputs(batch=2)
    outputs = make_session(small).run(None, feeds)
    assert outputs[0].shape == (2,) and outputs[2].shape == (1, 2, 16)
