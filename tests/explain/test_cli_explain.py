"""``recurrent-rl explain`` through the CLI: outputs, JSON, a memoryless run refused, nothing overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_error, run_cli, tiny_config


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("explain_cli")
    (folder / "lstm.yaml").write_text(tiny_config())
    memoryless = (
        tiny_config()
        .replace("algo:\n", "algo:\n  name: ppo\n")
        .replace("policy:\n", "policy:\n  type: MlpPolicy\n")
    )
    (folder / "ppo.yaml").write_text(memoryless)
    found = {}
    for name in ("lstm", "ppo"):
        done = run_cli("train", f"{name}.yaml", "--run-name", "r", cwd=folder)
        assert done.returncode == 0, done.stderr
        found[name] = folder / "runs" / name / "r"
    return found


def test_explain_writes_its_outputs_and_a_table(runs: dict[str, Path]) -> None:
    done = run_cli("explain", runs["lstm"], "--episodes", "20", cwd=runs["lstm"])
    assert done.returncode == 0, done.stderr
    out = runs["lstm"] / "explain"
    assert {"trace.npz", "summary.json", "gates.png", "probes.png"} <= {p.name for p in out.iterdir()}
    assert "probe cue" in done.stdout and "actor LSTM" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_episodes"] == 20 and summary["memory"] == {"kind": "lstm", "layers": 1, "cells": 8}
    again = run_cli("explain", runs["lstm"], "--episodes", "20", cwd=runs["lstm"])
    assert_one_error(again.returncode, again.stderr, "already holds")


def test_explain_json_to_another_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    done = run_cli(
        "explain", runs["lstm"], "--episodes", "12", "--json", "--out", tmp_path / "x", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [row["variable"] for row in summary["probes"]] == ["cue"]
    assert (tmp_path / "x" / "gates.png").is_file()


def test_a_memoryless_run_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    done = run_cli("explain", runs["ppo"], "--out", tmp_path / "y", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "memoryless")
    assert not (tmp_path / "y").exists()
