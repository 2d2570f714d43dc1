"""The memory interface: the GRU's fast sequence pass, steps, resets, recomputed gates and keep bias equal
``nn.GRU`` (the LSTM's ``nn.LSTM``); a GRU's state travels as sb3-contrib's (h, c) pair with c zero."""

from __future__ import annotations

from typing import Any, get_args

import numpy as np
import pytest
import torch as th
from torch import nn

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.algo.memory import MEMORIES, GRUMemory, LSTMMemory, memory_kind_of_weights, memory_of
from recurrent_rl.algo.memory.gru_sequence import gru_sequence
from recurrent_rl.config.schema import MemoryName
from tests.helpers.fast_models import SMALL, TOL, cartpole_env


def test_registry_covers_the_config_names() -> None:
    assert set(MEMORIES) == set(get_args(MemoryName))
    assert isinstance(memory_of(nn.GRU(3, 4)), GRUMemory) and isinstance(memory_of(nn.LSTM(3, 4)), LSTMMemory)
    with pytest.raises(TypeError, match="not a known memory"):
        memory_of(nn.RNN(3, 4))


def _outputs_and_grads(run: Any, gru: nn.GRU, x: th.Tensor, h0: th.Tensor) -> list[th.Tensor]:
    x.grad = h0.grad = None
    gru.zero_grad()
    output, final = run(x, h0)
    weight = th.linspace(-1.0, 1.0, output.numel(), dtype=output.dtype).view_as(output)
    ((output * weight).sum() + 1.3 * final.sum()).backward()
    assert x.grad is not None and h0.grad is not None
    return [output.detach(), final.detach(), x.grad, h0.grad, *(p.grad for p in gru.parameters())]


@pytest.mark.parametrize(("dtype", "tolerance"), [(th.float64, 1e-10), (th.float32, 1e-5)])
@pytest.mark.parametrize(("n_layers", "n_steps", "batch"), [(1, 32, 8), (2, 7, 3), (1, 1, 4), (3, 64, 2)])
def test_gru_sequence_equals_nn_gru(
    dtype: th.dtype, tolerance: float, n_layers: int, n_steps: int, batch: int
) -> None:
    """Outputs, final states and every gradient (inputs, initial state, weights) of the fast recurrence."""
    th.manual_seed(n_layers + n_steps)
    gru = nn.GRU(5, 16, num_layers=n_layers).to(dtype)
    x = th.randn(n_steps, batch, 5, dtype=dtype, requires_grad=True)
    h0 = th.randn(n_layers, batch, 16, dtype=dtype, requires_grad=True)
    expected = _outputs_and_grads(gru, gru, x, h0)
    actual = _outputs_and_grads(lambda x, h0: gru_sequence(gru, x, h0), gru, x, h0)
    for want, got in zip(expected, actual, strict=True):
        th.testing.assert_close(got, want, atol=tolerance, rtol=tolerance)


def test_gru_sequence_passes_gradcheck() -> None:
    th.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2).double()
    x = th.randn(4, 2, 3, dtype=th.float64, requires_grad=True)
    h0 = th.randn(2, 2, 4, dtype=th.float64, requires_grad=True)
    assert th.autograd.gradcheck(lambda x, h0: gru_sequence(gru, x, h0)[0], (x, h0))


def _episodes_run_separately(gru: nn.GRU, features: th.Tensor, starts: th.Tensor, h0: th.Tensor) -> th.Tensor:
    """nn.GRU over each sequence, restarted from zero where an episode starts: (n_seq, length, hidden)."""
    outputs = []
    for seq in range(features.shape[0]):
        h, rows = h0[:, seq : seq + 1], []
        for t in range(features.shape[1]):
            h = h * (1.0 - starts[seq, t])
            out, h = gru(features[seq, t].view(1, 1, -1), h)
            rows.append(out.view(-1))
        outputs.append(th.stack(rows))
    return th.stack(outputs)


@pytest.mark.parametrize("reset_inside", [False, True])
def test_gru_process_resets_at_episode_starts(reset_inside: bool) -> None:
    """sb3-contrib's padded layout: one call (resets at sequence starts) or the per-step fallback (a reset
    inside); the cell half of the state pair stays zero."""
    th.manual_seed(1)
    gru = nn.GRU(6, 8, num_layers=2)
    n_seq, length = 3, 5
    starts = th.zeros(n_seq, length)
    starts[0, 0] = 1.0
    if reset_inside:
        starts[1, 2] = 1.0
    features = th.randn(n_seq, length, 6)
    h0 = th.randn(2, n_seq, 8)
    output, (hidden, cell) = memory_of(gru).process(
        features.reshape(n_seq * length, 6), (h0, th.randn(2, n_seq, 8)), starts.flatten()
    )
    expected = _episodes_run_separately(gru, features, starts, h0)
    th.testing.assert_close(output.view(n_seq, length, 8), expected, atol=TOL, rtol=TOL)
    th.testing.assert_close(hidden[-1], expected[:, -1], atol=TOL, rtol=TOL)
    assert th.equal(cell, th.zeros_like(cell))


def test_gru_step_equals_nn_gru_and_resets() -> None:
    """One step per env (collection): rows that start an episode see a zero state."""
    th.manual_seed(2)
    gru = nn.GRU(4, 8, num_layers=2)
    features, h0 = th.randn(3, 4), th.randn(2, 3, 8)
    starts = th.tensor([1.0, 0.0, 1.0])
    with th.no_grad():
        output, (hidden, cell) = GRUMemory(gru).step(features, (h0, th.ones_like(h0)), starts)
        expected, expected_hidden = gru(features.unsqueeze(0), h0 * (1.0 - starts).view(1, -1, 1))
    th.testing.assert_close(output, expected[0], atol=1e-6, rtol=1e-6)
    th.testing.assert_close(hidden, expected_hidden, atol=1e-6, rtol=1e-6)
    assert th.equal(cell, th.zeros_like(cell))


@pytest.mark.parametrize("memory_class", [GRUMemory, LSTMMemory])
def test_gates_recomputed_from_the_weights_equal_the_module(memory_class: Any) -> None:
    """What explain records: one step from the weights equals the torch module to 1e-6, every layer."""
    th.manual_seed(3)
    module = memory_class.build(5, 8, 2)
    memory = memory_class(module)
    x = th.randn(4, 5)
    named = tuple(th.randn(2, 4, 8) for _ in memory.state_names)
    with th.no_grad():
        records, new_named = memory.recompute(x, named)
        output, new_states = memory.export_step(x, named)
    assert records.shape == (4, 2, len(memory.gates), 8)
    assert memory.gates[-1] == "h"
    th.testing.assert_close(records[:, -1, -1], output, atol=1e-6, rtol=1e-6)
    for want, got in zip(new_states, new_named, strict=True):
        th.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)
    if memory_class is GRUMemory:
        r, z, n, h = records[:, 0].unbind(1)
        th.testing.assert_close(h, (1 - z) * n + z * named[0][0], atol=1e-6, rtol=1e-6)
        assert ((r > 0) & (r < 1) & (z > 0) & (z < 1)).all()


def test_clamp_zeroes_the_gru_state() -> None:
    memory = GRUMemory(nn.GRU(3, 6))
    clamp = th.ones(2, 6)
    clamp[:, [1, 4]] = 0.0
    with th.no_grad():
        records, (h,) = memory.recompute(th.randn(2, 3), (th.randn(1, 2, 6),), clamp)
    assert (h[0][:, [1, 4]] == 0).all() and (h[0][:, [0, 2, 3, 5]] != 0).all()
    assert th.equal(records[:, 0, -1], h[0])


@pytest.mark.parametrize("memory_class", [GRUMemory, LSTMMemory])
def test_keep_bias_goes_to_the_gate_that_keeps_the_state(memory_class: Any) -> None:
    """forget_bias: LSTM f and GRU z (the share of h kept: h' = (1 - z) n + z h); nothing else moves."""
    module = memory_class.build(3, 4, 2)
    before = {name: value.clone() for name, value in module.named_parameters()}
    memory_class(module).add_keep_bias(5.0)
    block = memory_class.gates.index(memory_class.keep_gate)
    for name, value in module.named_parameters():
        change = (value - before[name]).view(-1)
        if name.startswith("bias_ih"):
            expected = th.zeros(memory_class.n_gates, 4)
            expected[block] = 5.0
            th.testing.assert_close(change, expected.view(-1))
        else:
            assert not change.any(), name


def test_memory_kind_is_told_from_saved_weights() -> None:
    for memory_class in MEMORIES.values():
        state = {
            f"lstm_actor.{name}": value for name, value in memory_class.build(7, 5, 2).state_dict().items()
        }
        assert memory_kind_of_weights(state) is memory_class
    assert memory_kind_of_weights({}) is None


def _model(**memory: str) -> FastRecurrentPPO:
    kwargs: dict[str, Any] = dict(n_steps=16, batch_size=32, n_epochs=1, seed=0)
    return FastRecurrentPPO("MlpLstmPolicy", cartpole_env(2), policy_kwargs={**SMALL, **memory}, **kwargs)


def test_gru_cell_state_stays_zero_in_collection_and_predict() -> None:
    model = _model(memory="gru")
    assert isinstance(model.policy.lstm_actor, nn.GRU) and isinstance(model.policy.lstm_critic, nn.GRU)
    model.learn(64)
    buffer = model.rollout_buffer
    assert np.abs(buffer.hidden_states_pi).max() > 0.01 and np.abs(buffer.hidden_states_vf).max() > 0.01
    assert not buffer.cell_states_pi.any() and not buffer.cell_states_vf.any()
    observations = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    _, state = model.predict(observations, episode_start=np.array([True, True]))
    assert isinstance(state, tuple) and state[0].shape == state[1].shape == (1, 2, 16)
    assert np.abs(state[0]).max() > 0 and not state[1].any()
    _, again = model.predict(
        observations, state=(state[0], np.ones_like(state[1])), episode_start=np.zeros(2)
    )
    _, same = model.predict(observations, state=state, episode_start=np.zeros(2))
    np.testing.assert_array_equal(again[0], same[0])  # c is never read


def test_lstm_predict_api_is_unchanged() -> None:
    model = _model()
    assert type(model.policy.lstm_actor) is nn.LSTM and "memory" not in model.policy_kwargs
    observations = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    actions, state = model.predict(observations, episode_start=np.array([True, True]))
    assert actions.shape == (2,) and isinstance(state, tuple) and len(state) == 2
    assert state[0].shape == state[1].shape == (1, 2, 16) and np.abs(state[1]).max() > 0


def test_saved_gru_model_loads_with_its_memory(tmp_path: Any) -> None:
    model = _model(memory="gru")
    model.learn(32)
    model.save(tmp_path / "gru.zip")
    loaded = FastRecurrentPPO.load(tmp_path / "gru.zip", env=cartpole_env(2))
    assert isinstance(loaded.policy.lstm_actor, nn.GRU) and loaded.policy.memory == "gru"
    for name, value in model.policy.state_dict().items():
        assert th.equal(loaded.policy.state_dict()[name], value), name
    loaded.learn(32, reset_num_timesteps=False)
