"""``algo.sequence_length`` and ``algo.refresh_states`` through the CLI: bad values get one
``file:line:column`` line, exit 2 and no run folder; ``train --resume`` continues with the run's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recurrent_rl.artifacts import model_file
from tests.helpers.cli import assert_one_error, run_cli, tiny_config

EXPECTED_LENGTH = "expected null (n_steps) or an integer from 1 to algo.n_steps"

# name, lines added to the algo section of a tiny config (n_steps 16), expected message fragment
BAD_CASES = [
    ("zero", "  sequence_length: 0\n", f"bad.yaml:9:3: algo.sequence_length: got 0, {EXPECTED_LENGTH}"),
    ("negative", "  sequence_length: -1\n", f"bad.yaml:9:3: algo.sequence_length: got -1, {EXPECTED_LENGTH}"),
    (
        "above n_steps",
        "  sequence_length: 17\n",
        "bad.yaml:9:3: algo.sequence_length: got 17, expected null or an integer from 1 to algo.n_steps = 16",
    ),
    (
        "fraction",
        "  sequence_length: 1.5\n",
        f"bad.yaml:9:3: algo.sequence_length: got 1.5, {EXPECTED_LENGTH}",
    ),
    (
        "boolean",
        "  sequence_length: true\n",
        f"bad.yaml:9:3: algo.sequence_length: got True, {EXPECTED_LENGTH}",
    ),
    (
        "refresh a string",
        '  refresh_states: "yes"\n',
        "bad.yaml:9:3: algo.refresh_states: got 'yes', expected a valid boolean",
    ),
    (
        "refresh a number",
        "  refresh_states: 2\n",
        "bad.yaml:9:3: algo.refresh_states: got 2, expected a valid boolean",
    ),
    (
        "refresh with sb3",
        "  implementation: sb3\n  refresh_states: true\n",
        "bad.yaml:10:3: algo.refresh_states: got True, expected false with algo.implementation: sb3",
    ),
]


@pytest.mark.parametrize(("algo", "fragment"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_values_in_a_file(tmp_path: Path, algo: str, fragment: str) -> None:
    (tmp_path / "bad.yaml").write_text(tiny_config(extra_algo=algo))
    done = run_cli("train", "bad.yaml", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists(), "a run folder was created for bad input"


def test_bad_value_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(tiny_config())
    done = run_cli("train", "good.yaml", "--set", "algo.sequence_length=0", cwd=tmp_path)
    fragment = f"--set algo.sequence_length: algo.sequence_length: got 0, {EXPECTED_LENGTH}"
    assert_one_error(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists()


def test_resume_keeps_the_settings(tmp_path: Path) -> None:
    algo = "  sequence_length: 4\n  refresh_states: true\n"
    config = tiny_config(total_timesteps=128, eval_freq=64, checkpoint_freq=64, extra_algo=algo)
    (tmp_path / "seq.yaml").write_text(config)
    done = run_cli("train", "seq.yaml", "--run-name", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "runs" / "seq" / "r"
    # Make it a run stopped after its first checkpoint (64 steps).
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    (run / "model.zip").unlink()
    for checkpoint in (run / "checkpoints").glob("*.zip"):
        if checkpoint.name != "model_000000000064_steps.zip":
            checkpoint.unlink()
    done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = model_file.read_plain_data(run / "model.zip")
    assert data["num_timesteps"] == 128
    assert (data["sequence_length"], data["refresh_states"]) == (4, True)
