"""The shipped benchmark configs of MiniGrid-MemoryS7 and POPGym train a few thousand steps end to end,
then evaluate (MiniGrid's episode recorded as an MP4 and read back) and export. In-process, through
``main``."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import pytest

from recurrent_rl.cli import main

BENCHMARKS = Path(__file__).resolve().parents[2] / "configs" / "benchmarks"
SMALL = [
    "env.n_envs=2",
    "algo.n_steps=64",
    "algo.batch_size=64",
    "algo.n_epochs=2",
    "policy.lstm_hidden_size=16",
    "train.total_timesteps=2048",
    "train.eval_freq=1024",
    "train.n_eval_episodes=2",
    "train.checkpoint_freq=0",
    "logging.runs_dir=runs",
]


def train(config: str, capsys: pytest.CaptureFixture[str]) -> str:
    overrides = [item for key in SMALL for item in ("--set", key)]
    assert main(["train", str(BENCHMARKS / config), *overrides]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_minigrid_memory_trains_evaluates_with_video_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir = train("minigrid_memory_s7.yaml", capsys)
    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    assert summary["final_eval"]["success_rate"] is not None  # SuccessFromReturn reports it
    assert main(["evaluate", run_dir, "--episodes", "1", "--video", "episode.mp4"]) == 0
    assert "success rate" in capsys.readouterr().out
    frames = iio.imread(tmp_path / "episode.mp4", index=None)
    assert frames.ndim == 4 and frames.shape[0] >= 2 and frames.shape[3] == 3 and frames.std() > 0
    assert iio.immeta(tmp_path / "episode.mp4")["codec"] == "h264"
    assert main(["export", run_dir, "--out", "policy.onnx", "--episodes", "2"]) == 0
    assert "0 action mismatches" in capsys.readouterr().out


def test_popgym_autoencode_trains_evaluates_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its Tuple observation flattened, the previous action appended: import paths mixed with ours."""
    monkeypatch.chdir(tmp_path)
    run_dir = train("popgym_autoencode.yaml", capsys)
    assert main(["evaluate", run_dir, "--episodes", "3", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert -1.0 <= record["mean_return"] <= 1.0 and record["mean_length"] == 103  # POPGym's MMER scale
    assert main(["export", run_dir, "--out", "policy.onnx", "--episodes", "2"]) == 0
    assert "0 action mismatches" in capsys.readouterr().out
