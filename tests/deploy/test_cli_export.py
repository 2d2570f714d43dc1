"""``recurrent-rl export`` via the CLI: ONNX checked against PyTorch and evaluate, compression, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.helpers.cli import assert_one_error, run_cli, tiny_config

LEARNS = """\
env:
  id: RecurrentRL/TMaze-v0
  kwargs: {corridor_length: 3}
  n_envs: 8
algo: {n_steps: 32, batch_size: 128, n_epochs: 4, learning_rate: 1.0e-3, ent_coef: 0.01}
policy: {lstm_hidden_size: 16, net_arch: {pi: [16], vf: [16]}}
train: {total_timesteps: 30000, eval_freq: 2048, n_eval_episodes: 20, stop_at: {success_rate: 1.0}}
"""
PIXELS = """\
env: {id: RecurrentRL/PixelMemoryMaze-v0, n_envs: 2, frame_stack: 2}
algo: {n_steps: 16, batch_size: 16, n_epochs: 1}
policy: {type: CnnLstmPolicy, features_extractor: small_cnn, lstm_hidden_size: 8, shared_lstm: true,
         enable_critic_lstm: false}
train: {total_timesteps: 64, eval_freq: 0, n_eval_episodes: 2, checkpoint_freq: 0}
"""


def _memoryless(text: str) -> str:
    return text.replace("algo:\n", "algo:\n  name: ppo\n").replace(
        "policy:\n", "policy:\n  type: MlpPolicy\n"
    )


CONFIGS = {
    "learns": LEARNS,
    "normalized_stack": tiny_config(extra_env="  normalize: true\n  frame_stack: 3\n"),
    "memoryless_normalized": _memoryless(tiny_config(extra_env="  normalize: true\n")),
    "pixels": PIXELS,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export_cli")
    for name, text in CONFIGS.items():
        (folder / f"{name}.yaml").write_text(text)
        done = run_cli("train", f"{name}.yaml", "--run-name", "r", cwd=folder)
        assert done.returncode == 0, done.stderr
    return {name: folder / "runs" / name / "r" for name in CONFIGS}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_export_onnx_is_checked_and_runs_in_onnxruntime(
    runs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "policy.onnx"
    done = run_cli("export", runs[name], "--out", out, "--episodes", "6", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 action mismatches" in done.stdout and "float32" in done.stdout
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["format"] == "onnx" and sidecar["check"]["action_mismatches"] == 0
    assert sidecar["check"]["mean_return"] == pytest.approx(
        sidecar["check"]["evaluate_mean_return"], abs=1e-4
    )
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [spec["name"] for spec in sidecar["inputs"]]
    feeds = {}
    for spec in sidecar["inputs"]:
        shape = [2 if dim == "batch" else dim for dim in spec["shape"]]
        feeds[spec["name"]] = np.zeros(shape, dtype=spec["dtype"])
    outputs = session.run(None, feeds)
    assert outputs[0].shape[0] == 2


def test_compression_is_measured_and_a_lossy_policy_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "small.onnx"
    done = run_cli(
        "export",
        runs["learns"],
        "--out",
        out,
        "--prune",
        "0.5",
        "--quantize",
        "int8",
        "--episodes",
        "20",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "pruned 50% + int8" in done.stdout
    compression = json.loads(out.with_suffix(".json").read_text())["compression"]
    assert compression["float_success_rate"] == 1.0  # the trained policy
    refused = tmp_path / "lossy.onnx"
    done = run_cli(
        "export", runs["learns"], "--out", refused, "--prune", "0.99", "--tolerance", "0.05", cwd=tmp_path
    )
    assert_one_error(done.returncode, done.stderr, "more than --tolerance 0.05", status=1)
    assert not refused.exists() and not refused.with_suffix(".json").exists()


def test_a_corrupt_model_writes_nothing(runs: dict[str, Path], tmp_path: Path) -> None:
    model = tmp_path / "run" / "model.zip"
    model.parent.mkdir()
    (model.parent / "config.yaml").write_text((runs["learns"] / "config.yaml").read_text())
    model.write_bytes((runs["learns"] / "model.zip").read_bytes()[:500])
    done = run_cli("export", model, "--out", tmp_path / "p.onnx", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "corrupt")
    assert not (tmp_path / "p.onnx").exists() and not (tmp_path / "p.json").exists()


def test_a_failed_check_writes_nothing(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """onnxruntime disagreeing with PyTorch (simulated): CheckFailed with the figures, no file."""
    from recurrent_rl.artifacts.saved_run import locate
    from recurrent_rl.deploy import check
    from recurrent_rl.deploy.from_run import ExportOptions, export_saved
    from recurrent_rl.errors import CheckFailed

    def disagrees(*args: object, **kwargs: object) -> check.CheckResult:
        return check.CheckResult(
            n_steps=10,
            action_mismatches=3,
            max_abs_action_diff=1.0,
            max_abs_logit_diff=0.5,
            max_abs_state_diff=0.1,
        )

    monkeypatch.setattr(check, "compare", disagrees)
    out = tmp_path / "p.onnx"
    with pytest.raises(CheckFailed, match="3 different actions in 10 steps"):
        export_saved(locate(runs["learns"]), out, ExportOptions(episodes=2))
    assert not out.exists() and not out.with_suffix(".json").exists()
