"""End to end through the CLI: train -> run folder -> evaluate --json -> TensorBoard event tags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from recurrent_rl.config.loader import load_config
from tests.helpers.cli import TINY_TMAZE, run_cli


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("train")
    (workdir / "tiny.yaml").write_text(TINY_TMAZE)
    done = run_cli(
        "train", "tiny.yaml", "--set", "algo.gamma=0.95", "--seed", "3", "--runs-dir", "out", cwd=workdir
    )
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    return run_dir if run_dir.is_absolute() else workdir / run_dir


def test_run_folder_holds_every_artifact(trained_run: Path) -> None:
    assert trained_run.parent.name == "tiny" and trained_run.parent.parent.name == "out"
    for name in (
        "config.yaml",
        "command.txt",
        "versions.json",
        "model.zip",
        "best_model.zip",
        "evaluations.json",
        "summary.json",
    ):
        assert (trained_run / name).is_file(), name
    assert list((trained_run / "checkpoints").glob("model_*_steps.zip"))
    assert list((trained_run / "tb").glob("events.out.tfevents.*"))

    resolved = yaml.safe_load((trained_run / "config.yaml").read_text())
    assert resolved["algo"]["gamma"] == 0.95 and resolved["train"]["seed"] == 3
    assert load_config(trained_run / "config.yaml").config.algo.gamma == 0.95  # loads again as is
    assert "--set algo.gamma=0.95" in (trained_run / "command.txt").read_text()
    versions = json.loads((trained_run / "versions.json").read_text())
    assert {
        "python",
        "torch",
        "stable-baselines3",
        "sb3-contrib",
        "gymnasium",
        "git_commit",
    } <= versions.keys()

    summary = json.loads((trained_run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["total_timesteps"] >= 256 and summary["wall_time_s"] > 0 and summary["fps"] > 0
    history = json.loads((trained_run / "evaluations.json").read_text())
    for record in (summary["final_eval"], summary["best_eval"], *history):  # one evaluation record shape
        assert set(record) == EVAL_RECORD_KEYS, record
        assert 0.0 <= record["success_rate"] <= 1.0
    assert summary["final_eval"]["timesteps"] == summary["total_timesteps"]
    assert [entry["timesteps"] for entry in history] == sorted(entry["timesteps"] for entry in history)
    assert len(history) >= 2


EVAL_RECORD_KEYS = {
    "timesteps",
    "mean_return",
    "std_return",
    "success_rate",
    "success_ci95",
    "mean_length",
    "n_episodes",
}


def test_evaluate_json(trained_run: Path) -> None:
    done = run_cli("evaluate", trained_run, "--episodes", "6", "--json", cwd=trained_run)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == EVAL_RECORD_KEYS
    assert report["n_episodes"] == 6 and report["timesteps"] == 256  # the model's training steps
    low, high = report["success_ci95"]
    assert 0.0 <= low <= report["success_rate"] <= high <= 1.0


def test_evaluate_table_and_checkpoint_and_video(trained_run: Path, tmp_path: Path) -> None:
    checkpoint = sorted((trained_run / "checkpoints").glob("*.zip"))[0]
    done = run_cli(
        "evaluate",
        checkpoint,
        "--episodes",
        "2",
        "--stochastic",
        "--video",
        tmp_path / "ep.gif",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "success rate" in done.stdout and "return" in done.stdout
    assert (tmp_path / "ep.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    done = run_cli("evaluate", trained_run, "--episodes", "1", "--render", "ansi", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) > 4


def test_tensorboard_events_have_the_expected_tags(trained_run: Path) -> None:
    events = EventAccumulator(str(trained_run / "tb"), size_guidance={"tensors": 0, "scalars": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    expected = {
        "rollout/ep_rew_mean",
        "rollout/success_rate",
        "train/loss",
        "train/entropy_loss",
        "time/fps",
        "eval/mean_return",
        "eval/success_rate",
        "eval/mean_ep_length",
    }
    assert expected <= scalars, expected - scalars
    assert "config/text_summary" in events.PluginTagToContent("text")
    hparams = events.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(hparams)
    assert b"algo.learning_rate" in hparams["_hparams_/session_start_info"]


def test_envs_lists_every_registered_id(tmp_path: Path) -> None:
    done = run_cli("envs", cwd=tmp_path)
    assert done.returncode == 0
    assert "RecurrentRL/TMaze-v0" in done.stdout and "RecurrentRL/CartPoleNoVel-v1" in done.stdout
