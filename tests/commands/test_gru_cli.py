"""A GRU config is a config: train (configs/tmaze_gru.yaml, corridor 5), inspect, evaluate, export (ONNX and
TorchScript, compressed), explain and resume work on it; a model file given with the other memory's config is
refused with one line, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml

from recurrent_rl.artifacts.saved_run import locate
from recurrent_rl.explain import causal_check, memory_cells, trace_episodes
from recurrent_rl.restore import restore
from tests.helpers.cli import assert_one_error, run_cli, snapshot, start_cli, tiny_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
GRU_SETTINGS = [
    "env.kwargs.corridor_length=5",
    "train.seed=0",
    "train.eval_freq=5000",
    "train.checkpoint_freq=5000",
    "train.total_timesteps=60000",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A GRU agent trained until it solves the corridor-5 T-maze (about 20k steps), and a tiny LSTM run."""
    workdir = tmp_path_factory.mktemp("gru")
    (workdir / "lstm.yaml").write_text(tiny_config(eval_freq=0, checkpoint_freq=128))
    overrides = [part for setting in GRU_SETTINGS for part in ("--set", setting)]
    processes = {
        "gru": start_cli("train", CONFIGS / "tmaze_gru.yaml", *overrides, "--run-name", "r", cwd=workdir),
        "lstm": start_cli("train", "lstm.yaml", "--run-name", "r", cwd=workdir),
    }
    for process in processes.values():
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    return {"gru": workdir / "runs" / "tmaze_gru" / "r", "lstm": workdir / "runs" / "lstm" / "r"}


def test_inspect_shows_the_memory(runs: dict[str, Path]) -> None:
    done = run_cli("inspect", runs["gru"], cwd=runs["gru"])
    assert done.returncode == 0, done.stderr
    assert "GRU(4->32)" in done.stdout and "critic GRU(4->32)" in done.stdout
    assert any(line.split() == ["memory", "gru"] for line in done.stdout.splitlines())


def test_trained_gru_exports_and_plays_evaluate_success(runs: dict[str, Path], tmp_path: Path) -> None:
    """The ONNX export (native GRU op) played by our onnxruntime loop gives evaluate's success (the export
    refuses to write otherwise)."""
    done = run_cli("export", runs["gru"], "--out", tmp_path / "gru.onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sidecar = json.loads((tmp_path / "gru.json").read_text())
    check = sidecar["check"]
    assert check["action_mismatches"] == 0 and check["mean_return"] == check["evaluate_mean_return"] == 1.0
    assert "float32              return 1.000, success 1.00" in done.stdout
    assert [entry["name"] for entry in sidecar["inputs"]] == ["obs", "h", "episode_start"]
    assert [entry["name"] for entry in sidecar["outputs"]] == ["action", "logits", "h_out"]
    assert sidecar["memory"]["kind"] == "gru"
    ops = [node.op_type for node in onnx.load(tmp_path / "gru.onnx").graph.node]
    assert ops.count("GRU") == 1 and "LSTM" not in ops
    small = tmp_path / "small.onnx"
    compressed = run_cli(
        "export", runs["gru"], "--out", small, "--prune", "0.2", "--quantize", "int8", cwd=tmp_path
    )
    assert compressed.returncode == 0, compressed.stderr
    assert "pruned 20% + int8" in compressed.stdout
    script = run_cli("export", runs["gru"], "--out", tmp_path / "script.pt", cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert json.loads((tmp_path / "script.json").read_text())["format"] == "torchscript"


def test_explain_finds_the_cue_in_the_gru_state(runs: dict[str, Path], tmp_path: Path) -> None:
    done = run_cli(
        "explain", runs["gru"], "--episodes", "100", "--json", "--out", tmp_path / "x", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["memory"] == {"kind": "gru", "layers": 1, "cells": 32}
    (cue,) = summary["probes"]
    assert cue["state"] == "h" and cue["last_step"]["h"] >= 0.95 and cue["last_step"]["obs"] <= 0.6
    assert summary["memory_cells"]["keep_gate"] == "z"
    # The GRU spreads the cue over more cells than the LSTM: a quarter of them (8) is not enough to clamp.
    with restore(locate(runs["gru"]), n_envs=8, seed=0) as restored:
        trace = trace_episodes(restored.policy, restored.env, 100, seed=0)
        order = memory_cells(trace, "cue", "discrete", 16).order
        causal = causal_check(restored.policy, restored.env, trace, "cue", np.array(order[:12]))
    print("GRU causal check, 12 cells:", causal.no_clamp, causal.top_k, causal.random_k)
    assert causal.no_clamp.success_rate == 1.0
    assert causal.top_k.success_rate is not None and causal.top_k.success_rate <= 0.65
    assert causal.random_k.success_rate is not None and causal.random_k.success_rate >= 0.9


def _interrupted(run: Path) -> None:
    """The run as Ctrl-C leaves it: status interrupted, no final model, checkpoints kept."""
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    (run / "model.zip").unlink()


def test_gru_run_resumes_from_its_checkpoint(runs: dict[str, Path], tmp_path: Path) -> None:
    run = Path(shutil.copytree(runs["gru"], tmp_path / "copy"))
    _interrupted(run)
    done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] in ("completed", "stopped_early") and (run / "model.zip").exists()
    assert summary["final_eval"]["success_rate"] >= 0.9


def _set_memory(run: Path, memory: str) -> None:
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["policy"]["memory"] = memory
    (run / "config.yaml").write_text(yaml.safe_dump(config))


@pytest.mark.parametrize(
    ("model", "command"),
    [
        ("gru", ["evaluate", "RUN", "--episodes", "2"]),
        ("gru", ["train", "--resume", "RUN"]),
        ("lstm", ["export", "RUN", "--out", "policy.onnx"]),
    ],
)
def test_model_with_the_other_memorys_config_is_refused(
    runs: dict[str, Path], tmp_path: Path, model: str, command: list[str]
) -> None:
    run = Path(shutil.copytree(runs[model], tmp_path / "copy"))
    other = "lstm" if model == "gru" else "gru"
    _set_memory(run, other)
    if command[0] == "train":
        _interrupted(run)
    before = snapshot(tmp_path)
    done = run_cli(*[str(run) if part == "RUN" else part for part in command], cwd=tmp_path)
    assert_one_error(
        done.returncode, done.stderr, f"the model's memory is {model}, the config's policy.memory is {other}"
    )
    assert snapshot(tmp_path) == before, "bad input changed files"
