"""The exported module acts as ``predict(deterministic=True)``; onnxruntime acts as the module."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import onnx
import pytest
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

from recurrent_rl.deploy import (
    OrtPolicy,
    PolicyModule,
    compare,
    describe,
    export_onnx,
    make_session,
    play,
    raw_vec_env,
    record_inputs,
)
from tests.helpers.export_setups import build, compare_with_sb3, export_and_check, small_cnn

torch.set_num_threads(1)

TMAZE = "RecurrentRL/TMaze-v0"
CARTPOLE = "RecurrentRL/CartPoleNoVel-v1"
CARTPOLE_NET = {"lstm_hidden_size": 64, "net_arch": {"pi": [64], "vf": [64]}, "activation_fn": torch.nn.ReLU}
SMALL_NET = {"lstm_hidden_size": 16, "net_arch": {"pi": [16], "vf": [16]}}

SETUPS: dict[str, dict[str, Any]] = {
    "tmaze_lstm": {"env_id": TMAZE, "policy": "MlpLstmPolicy", "policy_kwargs": SMALL_NET},
    "cartpole_lstm_norm": {
        "env_id": CARTPOLE,
        "policy": "MlpLstmPolicy",
        "normalize": True,
        "policy_kwargs": CARTPOLE_NET,
    },
    "cartpole_lstm_norm_stack": {
        "env_id": CARTPOLE,
        "policy": "MlpLstmPolicy",
        "normalize": True,
        "frame_stack": 3,
        "policy_kwargs": SMALL_NET,
    },
    "pendulum_lstm_box": {
        "env_id": "RecurrentRL/PendulumNoVel-v1",
        "policy": "MlpLstmPolicy",
        "normalize": True,
        "policy_kwargs": {**SMALL_NET, "n_lstm_layers": 2},
    },
    "tmaze_ppo": {
        "env_id": TMAZE,
        "policy": "MlpPolicy",
        "recurrent": False,
        "policy_kwargs": {"net_arch": [16]},
    },
    "cartpole_ppo_norm_stack": {
        "env_id": CARTPOLE,
        "policy": "MlpPolicy",
        "recurrent": False,
        "normalize": True,
        "frame_stack": 4,
    },
    "dict_lstm_norm": {
        "env_id": CARTPOLE,
        "policy": "MultiInputLstmPolicy",
        "dict_obs": "discrete",
        "normalize": True,
        "policy_kwargs": SMALL_NET,
    },
    "dict_lstm_stack": {
        "env_id": TMAZE,
        "policy": "MultiInputLstmPolicy",
        "dict_obs": "box",
        "frame_stack": 2,
        "policy_kwargs": SMALL_NET,
    },
}


def _cnn_kwargs() -> dict[str, Any]:
    return {
        "features_extractor_class": small_cnn(),
        "features_extractor_kwargs": {"features_dim": 32},
        "lstm_hidden_size": 16,
        "net_arch": {"pi": [16], "vf": [16]},
        "shared_lstm": True,
        "enable_critic_lstm": False,
    }


@pytest.mark.parametrize("name", list(SETUPS))
def test_module_acts_as_predict_and_onnx_as_module(name: str) -> None:
    setup = build(**SETUPS[name])
    episode_ends = compare_with_sb3(setup, n_steps=80)
    assert episode_ends > 0 or name == "pendulum_lstm_box"  # resets are exercised (Pendulum: 200 steps)
    export_and_check(setup)
    assert all(p.requires_grad for p in setup.model.policy.parameters())  # the policy can still train


def test_cnn_lstm_channel_last_images_with_frame_stack() -> None:
    setup = build(
        "RecurrentRL/PixelMemoryMaze-v0", "CnnLstmPolicy", frame_stack=2, policy_kwargs=_cnn_kwargs()
    )
    assert setup.module.paths[0].transpose
    assert setup.module.initial_state(1)["stack"].dtype == np.uint8
    compare_with_sb3(setup, n_steps=40)
    export_and_check(setup, n_episodes=2)


def test_dynamo_exporter_gives_the_same_policy() -> None:
    setup = build(**SETUPS["cartpole_lstm_norm_stack"])
    data = export_onnx(setup.module, exporter="dynamo")
    model = onnx.load_from_string(data)
    assert "LSTM" in {node.op_type for node in model.graph.node}
    assert {p.key: p.value for p in model.metadata_props}["exporter"] == "dynamo"
    steps, _ = record_inputs(setup.module, setup.raw_env(), 2, seed=1)
    assert compare(setup.module, make_session(data), steps).ok()


def test_legacy_graph_is_one_lstm_op_per_layer() -> None:
    setup = build(**SETUPS["pendulum_lstm_box"])
    model = onnx.load_from_string(export_onnx(setup.module))
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("LSTM") == 2
    assert {p.key: p.value for p in model.metadata_props}["exporter"] == "legacy"


@pytest.mark.parametrize(
    "space",
    [gym.spaces.MultiDiscrete([3, 2, 4]), gym.spaces.MultiBinary(3), gym.spaces.Box(-1, 1, (2,))],
    ids=["multidiscrete", "multibinary", "box_sde_squashed"],
)
@pytest.mark.parametrize("recurrent", [True, False], ids=["lstm", "memoryless"])
def test_action_spaces(space: gym.Space, recurrent: bool) -> None:
    obs_space = gym.spaces.Box(-1, 1, (5,), np.float32)
    kwargs: dict[str, Any] = {"net_arch": {"pi": [8], "vf": [8]}}
    if isinstance(space, gym.spaces.Box):
        kwargs.update(use_sde=True, squash_output=True)
    if recurrent:
        kwargs["lstm_hidden_size"] = 8
        policy = RecurrentPPO.policy_aliases["MlpLstmPolicy"](obs_space, space, lambda _: 1e-3, **kwargs)
    else:
        policy = PPO.policy_aliases["MlpPolicy"](obs_space, space, lambda _: 1e-3, **kwargs)
    module = PolicyModule(policy)
    feeds = module.example_inputs(batch=6, seed=1)
    out = module.run(feeds)
    state = (feeds["h"], feeds["c"]) if recurrent else None
    action, _ = policy.predict(
        feeds["obs"], state=state, episode_start=feeds.get("episode_start"), deterministic=True
    )
    np.testing.assert_allclose(out["action"], action, atol=1e-6)
    session = make_session(export_onnx(module))
    got = dict(zip(module.output_names, session.run(None, feeds), strict=True))
    np.testing.assert_array_equal(got["action"], out["action"])
    np.testing.assert_allclose(got["logits"], out["logits"], atol=1e-5)


def test_ort_policy_carries_state_and_resets_at_episode_start() -> None:
    setup = build(**SETUPS["cartpole_lstm_norm_stack"])
    module = setup.module
    runner = OrtPolicy(make_session(export_onnx(module)), batch=2)
    steps, _ = record_inputs(module, setup.raw_env(), 2, seed=5)
    state = module.initial_state(2)
    runner.step(steps[0]["obs"], np.zeros(2))  # garbage state: the next episode_start must clear it
    for i, step in enumerate(steps):
        start = np.ones(2, np.float32) if i == 0 else step["episode_start"]
        want = module.run({**step, "episode_start": start, **state})
        action = runner.step(step["obs"], start)
        np.testing.assert_array_equal(action, want["action"])
        np.testing.assert_allclose(runner.outputs["logits"], want["logits"], atol=1e-4)
        state = {name: want[f"{name}_out"] for name in state}


def test_sidecar_describes_state_and_frame_stack() -> None:
    setup = build(**SETUPS["dict_lstm_stack"])
    spec = describe(setup.module, exporter="legacy")
    names = [entry["name"] for entry in spec["inputs"]]
    assert names == ["obs.flag", "obs.obs", "h", "c", "stack.flag", "stack.obs", "episode_start"]  # sorted
    assert [e["name"] for e in spec["outputs"]] == setup.module.output_names
    assert spec["inputs"][5]["shape"] == ["batch", 8]  # 2 frames of TMaze's 4 values
    assert spec["frame_stack"]["n_stack"] == 2 and "VecFrameStack" in spec["frame_stack"]["note"]
    assert spec["dict_observation_keys"] == ["flag", "obs"] and spec["exporter"] == "legacy"


def test_play_unwraps_normalize_and_frame_stack_layers() -> None:
    setup = build(**SETUPS["cartpole_lstm_norm_stack"])
    session = make_session(export_onnx(setup.module))
    wrapped = play(session, setup.venv, 4, seed=7)  # VecFrameStack(VecNormalize(...)): unwrapped to raw
    raw = play(session, setup.raw_env(), 4, seed=7)
    assert wrapped.returns == raw.returns
    inner = VecNormalize(DummyVecEnv([setup.make_env]))
    with pytest.raises(ValueError, match="VecNormalize sits below VecMonitor"):
        raw_vec_env(VecMonitor(inner))


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::DeprecationWarning")
def test_torchscript_trace_without_logits_keeps_the_old_signature() -> None:
    setup = build(**SETUPS["cartpole_lstm_norm"])
    module = PolicyModule(
        setup.model.policy, setup.tap.observation_space, setup.module.obs_paths[0].stats, with_logits=False
    )
    assert module.output_names == ["action", "h_out", "c_out"]
    feeds = module.example_inputs(batch=3)
    args = tuple(torch.as_tensor(feeds[name]) for name in module.input_names)
    traced = torch.jit.trace(module, args, check_trace=False)
    other = module.example_inputs(batch=5, seed=1)
    with torch.no_grad():
        action, h, c = traced(*(torch.as_tensor(other[name]) for name in module.input_names))
    want = module.run(other)
    np.testing.assert_array_equal(action.numpy(), want["action"])
    np.testing.assert_allclose(h.numpy(), want["h_out"], atol=1e-6)
    memoryless = PolicyModule(build(**SETUPS["tmaze_ppo"]).model.policy, with_logits=False)
    assert memoryless.input_names == ["obs"] and memoryless.output_names == ["action"]
    assert isinstance(memoryless(torch.zeros(2, 4)), torch.Tensor)


def test_module_and_torchscript_parts_do_not_need_onnx() -> None:
    code = (
        "import sys, recurrent_rl.deploy, recurrent_rl.deploy.module, recurrent_rl.deploy.spec; "
        "assert not {'onnx', 'onnxruntime'} & set(sys.modules), sorted(sys.modules); "
        "from recurrent_rl.deploy import PolicyModule, export_onnx; assert 'onnx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    import recurrent_rl.deploy as deploy

    assert sorted(deploy.__all__) == sorted(deploy._MODULE_OF)
