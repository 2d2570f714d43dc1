"""explain on a GRU policy: the recomputed r, z, n, h are nn.GRU's, the actions predict's; the memory state
probed, ranked and clamped is h; the files say which memory they describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.explain import Clamp, explain, format_table, trace_episodes
from tests.helpers.explain import TMAZE_KWARGS, vec_env_factory

CARTPOLE = "RecurrentRL/CartPoleNoVel-v1"
TMAZE = "RecurrentRL/TMaze-v0"


def untrained_gru(env_id: str, n_layers: int = 1, **kwargs: Any) -> tuple[Any, VecEnv]:
    vec_env = vec_env_factory(env_id, 4, **kwargs)()
    policy_kwargs = {"memory": "gru", "lstm_hidden_size": 16, "n_lstm_layers": n_layers}
    model = FastRecurrentPPO("MlpLstmPolicy", vec_env, n_steps=16, seed=0, policy_kwargs=policy_kwargs)
    return model.policy, vec_env


@pytest.mark.parametrize("n_layers", [1, 2])
def test_recomputed_gru_equals_nn_gru(n_layers: int) -> None:
    policy, vec_env = untrained_gru(CARTPOLE, n_layers)
    trace = trace_episodes(policy, vec_env, n_episodes=6, seed=0)  # also checked against predict each step
    assert trace.memory == "gru" and list(trace.gates) == ["r", "z", "n", "h"]
    assert (
        trace.h.shape == (trace.n_steps, n_layers, 16)
        and trace.state is trace.h
        and trace.keep is trace.gates["z"]
    )
    gru = policy.lstm_actor
    with th.no_grad():
        for episode in range(trace.n_episodes):
            rows = trace.episode == episode
            x = th.as_tensor(trace.observations[rows])  # MlpLstmPolicy: the features are the observation
            output, _ = gru(x[:, None, :])
            np.testing.assert_allclose(output[:, 0].numpy(), trace.h[rows, -1], atol=1e-6)
    r, z, n = (trace.gates[name] for name in "rzn")
    h_prev = np.where((trace.step > 0)[:, None, None], np.roll(trace.h, 1, axis=0), 0.0)
    np.testing.assert_allclose(trace.h, (1 - z) * n + z * h_prev, atol=1e-6)
    assert ((r > 0) & (r < 1) & (z > 0) & (z < 1)).all() and (np.abs(n) < 1).all()


def test_clamp_zeroes_gru_state_cells_while_held() -> None:
    policy, vec_env = untrained_gru(TMAZE, **TMAZE_KWARGS)
    cells = np.array([1, 7])
    trace = trace_episodes(policy, vec_env, n_episodes=8, seed=0, clamp=Clamp(cells, key="cue"))
    held = trace.step >= 1
    assert (trace.h[held][:, -1, cells] == 0).all()
    assert (trace.h[~held][:, -1, cells] != 0).all() and (trace.h[held][:, -1, 2] != 0).all()


def test_explain_files_describe_the_gru(tmp_path: Path) -> None:
    policy, _ = untrained_gru(TMAZE, **TMAZE_KWARGS)
    summary = explain(policy, vec_env_factory(TMAZE, 4, **TMAZE_KWARGS), 12, 0, tmp_path).to_json()
    assert summary["memory"] == {"kind": "gru", "layers": 1, "cells": 16}
    (cue,) = summary["probes"]
    assert cue["state"] == "h" and "c" not in cue and "c" not in cue["retention"]
    cells = summary["memory_cells"]
    assert cells["state"] == "h" and cells["keep_gate"] == "z" and 0 < cells["cells"][0]["mean_keep"] < 1
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    with np.load(tmp_path / "trace.npz", allow_pickle=False) as data:
        assert {"r", "z", "n", "h"} <= set(data.files) and "c" not in data.files
        assert str(data["memory"]) == "gru"
    for name in ("gates.png", "probes.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    rows = dict(
        format_table(explain(policy, vec_env_factory(TMAZE, 4, **TMAZE_KWARGS), 12, 0, tmp_path / "again"))
    )
    assert rows["actor GRU"] == "1 layer(s) x 16 cells" and "memory cells of h for cue (mean z)" in rows
