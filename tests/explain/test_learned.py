"""On trained agents: the T-maze cue lives in a few cells the policy needs; CartPole's velocities in h."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sb3_contrib import RecurrentPPO
from stable_baselines3.common.vec_env import DummyVecEnv

import envs
from recurrent_rl.explain import explain, format_table, probe_table, trace_episodes
from tests.helpers.explain import vec_env_factory

FILES = {"trace.npz", "summary.json", "gates.png", "probes.png"}


def test_explain_finds_the_tmaze_memory(
    tmaze_model: RecurrentPPO, tmaze_make: Callable[[], DummyVecEnv], tmp_path: Path
) -> None:
    result = explain(tmaze_model.policy, tmaze_make, n_episodes=200, seed=0, out_dir=tmp_path)
    summary = result.to_json()
    assert {path.name for path in tmp_path.iterdir()} == FILES
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    for name in ("gates.png", "probes.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    assert summary["outcome"]["success_rate"] >= 0.95, summary["outcome"]

    (cue,) = summary["probes"]
    print(
        "cue probe:", {k: cue[k] for k in ("obs", "h", "c", "chance")}, "at the junction:", cue["last_step"]
    )
    # At the junction (the last step) the observation says nothing about the cue; the cell state does.
    assert cue["last_step"]["c"] >= 0.95
    assert cue["last_step"]["obs"] <= 0.6
    assert cue["retention"]["basis"] == "steps since visible" and min(cue["retention"]["c"]) >= 0.95

    causal = summary["causal"]
    print("causal check:", {k: causal[k] for k in ("k", "no_clamp", "top_k", "random_k")})
    assert causal["k"] == 8 == len(summary["memory_cells"]["cells"])
    assert causal["top_k"]["success_rate"] <= 0.65
    assert causal["random_k"]["success_rate"] >= 0.9
    rows = format_table(result)
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in rows)
    assert any(label.startswith("success rate: no clamp") for label, _ in rows)


def test_cartpole_velocities_are_decoded_from_h(cartpole_model: RecurrentPPO) -> None:
    env_id = "RecurrentRL/CartPoleNoVel-v1"
    trace = trace_episodes(cartpole_model.policy, vec_env_factory(env_id)(), n_episodes=16, seed=0)
    rows = probe_table(trace, envs.hidden_state_kinds(env_id))
    print("velocity probes (R^2):", {row.variable: (row.obs, row.h, row.c) for row in rows})
    assert [row.variable for row in rows] == ["cart_velocity", "pole_angular_velocity"]
    for row in rows:
        assert row.metric == "r2"
        assert row.h >= 0.7 and row.h >= row.obs + 0.3, row
