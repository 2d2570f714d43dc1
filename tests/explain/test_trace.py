"""trace_episodes: the recomputed LSTM is nn.LSTM, the actions are predict's, episodes replay exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from recurrent_rl.evaluation.episodes import evaluate
from recurrent_rl.explain import Clamp, Trace, explain, trace_episodes
from recurrent_rl.explain.probes import START_BASIS, VISIBLE_BASIS, steps_since_visible
from tests.helpers.explain import TMAZE_KWARGS, vec_env_factory

CARTPOLE = "RecurrentRL/CartPoleNoVel-v1"
TMAZE = "RecurrentRL/TMaze-v0"


def untrained(env_id: str, n_layers: int = 1, n_envs: int = 4, **kwargs: Any) -> tuple[Any, VecEnv]:
    vec_env = vec_env_factory(env_id, n_envs, **kwargs)()
    policy_kwargs = {"lstm_hidden_size": 16, "n_lstm_layers": n_layers}
    model = RecurrentPPO(
        "MlpLstmPolicy", vec_env, n_steps=16, seed=0, device="cpu", policy_kwargs=policy_kwargs
    )
    return model.policy, vec_env


@pytest.mark.parametrize("n_layers", [1, 2])
def test_recomputed_states_equal_nn_lstm(n_layers: int) -> None:
    policy, vec_env = untrained(CARTPOLE, n_layers)
    trace = trace_episodes(policy, vec_env, n_episodes=6, seed=0)
    assert trace.gates["c"].shape == (trace.n_steps, n_layers, 16)
    lstm = policy.lstm_actor
    with th.no_grad():
        for episode in range(trace.n_episodes):
            rows = trace.episode == episode
            x = th.as_tensor(trace.observations[rows])  # MlpLstmPolicy: the features are the observation
            output, _ = lstm(x[:, None, :])
            np.testing.assert_allclose(output[:, 0].numpy(), trace.h[rows, -1], atol=1e-6)
            state = (th.zeros(n_layers, 1, 16), th.zeros(n_layers, 1, 16))
            for t in range(len(x)):
                _, state = lstm(x[t][None, None], state)
                np.testing.assert_allclose(state[0][:, 0].numpy(), trace.h[rows][t], atol=1e-6)
                np.testing.assert_allclose(state[1][:, 0].numpy(), trace.gates["c"][rows][t], atol=1e-6)
    # The recorded gates satisfy the LSTM equations.
    i, f, g, o, c = (trace.gates[name] for name in "ifgoc")
    c_prev = np.where((trace.step > 0)[:, None, None], np.roll(c, 1, axis=0), 0.0)
    np.testing.assert_allclose(c, f * c_prev + i * g, atol=1e-6)
    np.testing.assert_allclose(trace.h, o * np.tanh(c), atol=1e-6)
    assert ((i > 0) & (i < 1)).all() and (np.abs(g) < 1).all()


def test_actions_are_predict_deterministic_actions() -> None:
    policy, _ = untrained(TMAZE, corridor_length=3)
    vec_env = vec_env_factory(TMAZE, 1, corridor_length=3)()
    vec_env.seed(5)
    obs, state, starts = vec_env.reset(), None, np.ones(1, dtype=bool)
    actions: list[int] = []
    for _ in range(3):  # three episodes with predict, the way the evaluation loop plays them
        done = False
        while not done:
            action, state = policy.predict(obs, state, starts, deterministic=True)
            obs, _, dones, _ = vec_env.step(action)
            actions.append(int(action[0]))
            done = starts = dones
    trace = trace_episodes(policy, vec_env_factory(TMAZE, 1, corridor_length=3)(), n_episodes=3, seed=5)
    assert trace.actions.tolist() == actions


def test_episodes_are_sorted_and_replay_identically() -> None:
    policy, vec_env = untrained(TMAZE, corridor_length=4)
    first = trace_episodes(policy, vec_env, n_episodes=10, seed=3)
    assert sorted(set(first.episode.tolist())) == list(range(10))
    for episode in range(10):
        rows = first.episode == episode
        assert first.step[rows].tolist() == list(range(rows.sum()))
        assert first.dones[rows].tolist() == [False] * (rows.sum() - 1) + [True]
        assert first.episode_length[episode] == rows.sum()
        # The hidden state belongs to the observation: TMaze's cue is the cue shown on the first step.
        assert (first.hidden_state["cue"][rows] == first.observations[rows][0, 0]).all()
    assert np.isin(first.episode_success, [0.0, 1.0]).all()
    second = trace_episodes(policy, vec_env, n_episodes=10, seed=3)
    for name in ("observations", "actions", "rewards", "h"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.gates["c"], second.gates["c"])


def test_trace_plays_the_episodes_of_evaluate() -> None:
    policy, vec_env = untrained(CARTPOLE)  # 4 envs; 10 episodes: two envs play 3, two play 2
    vec_env.seed(2)
    evaluated = evaluate(policy, vec_env, 10)
    trace = trace_episodes(policy, vec_env, n_episodes=10, seed=2)
    assert sorted(trace.episode_length.tolist()) == sorted(evaluated.lengths)
    assert sorted(trace.episode_return.tolist()) == sorted(evaluated.returns)


def test_steps_since_visible() -> None:
    policy, vec_env = untrained(TMAZE, corridor_length=4)
    trace = trace_episodes(policy, vec_env, n_episodes=4, seed=0)
    since, basis = steps_since_visible(trace, "cue")
    assert basis == VISIBLE_BASIS and (since == trace.step).all()  # the cue is shown on step 0 only
    cartpole_trace = trace_episodes(*untrained(CARTPOLE), n_episodes=2, seed=0)
    since, basis = steps_since_visible(cartpole_trace, "cart_velocity")
    assert basis == START_BASIS and (since == cartpole_trace.step).all()


def test_clamp_zeroes_the_cells_while_held() -> None:
    policy, vec_env = untrained(TMAZE, **TMAZE_KWARGS)
    cells = np.array([1, 7])
    trace = trace_episodes(policy, vec_env, n_episodes=8, seed=0, clamp=Clamp(cells, key="cue"))
    held = trace.step >= 1
    c = trace.gates["c"]
    assert (c[held][:, -1, cells] == 0).all() and (trace.h[held][:, -1, cells] == 0).all()
    assert (c[~held][:, -1, cells] != 0).all()
    assert (c[held][:, -1, 2] != 0).all()


def test_save_npz_without_pickle(tmp_path: Any) -> None:
    policy, vec_env = untrained(TMAZE, corridor_length=2)
    trace: Trace = trace_episodes(policy, vec_env, n_episodes=3, seed=0)
    with np.load(trace.save_npz(tmp_path / "trace.npz"), allow_pickle=False) as data:
        np.testing.assert_array_equal(data["c"], trace.gates["c"])
        assert str(data["memory"]) == "lstm"
        np.testing.assert_array_equal(data["hidden_state.cue"], trace.hidden_state["cue"])
        assert {"i", "f", "g", "o", "h", "hidden_state_visible.cue", "episode_success"} <= set(data.files)


def test_vecnormalize_is_frozen_while_tracing() -> None:
    vec_env = VecNormalize(vec_env_factory(CARTPOLE, 2)())
    vec_env.reset()
    model = RecurrentPPO("MlpLstmPolicy", vec_env, n_steps=16, seed=0, device="cpu")
    count = vec_env.obs_rms.count
    trace = trace_episodes(model, vec_env, n_episodes=2, seed=0)
    assert vec_env.training and vec_env.obs_rms.count == count
    assert (trace.rewards == 1.0).all()  # the original rewards, not the normalised ones


def test_memoryless_policy_is_refused(tmp_path: Any) -> None:
    model = PPO("MlpPolicy", vec_env_factory(TMAZE, 1)(), n_steps=16, batch_size=16, device="cpu")
    for call in (
        lambda: explain(model.policy, vec_env_factory(TMAZE, 1), 2, 0, tmp_path),
        lambda: trace_episodes(model, vec_env_factory(TMAZE, 1)(), 2),
    ):
        with pytest.raises(ValueError) as error:
            call()
        assert "memoryless" in str(error.value) and "\n" not in str(error.value)
    assert not list(tmp_path.iterdir())
