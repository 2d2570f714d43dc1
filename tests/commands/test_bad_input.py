"""Bad input gets one clear line on stderr, exit status 2, no traceback, and nothing written or overwritten.

CONFIG_CASES cover ``train CONFIG``; RUN_CASES cover commands on an existing run folder (evaluate, resume,
inspect, export), each applied to a damaged copy of one trained run.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import TINY_TMAZE, files_under, run_cli, snapshot

GOOD = TINY_TMAZE + "logging:\n  runs_dir: runs\n"

# name, config text (None: no file written), extra CLI arguments, expected message fragment
CONFIG_CASES = [
    (
        "yaml syntax",
        "env:\n  id: RecurrentRL/TMaze-v0\n  kwargs: {corridor_length: 3\nalgo: {}\n",
        [],
        "bad.yaml:4:5: YAML syntax error",
    ),
    ("tab indentation", "env:\n\tid: x\n", [], "bad.yaml:2:1: YAML syntax error"),
    ("top level not a mapping", "- a\n- b\n", [], "bad.yaml:1:1: expected a mapping of sections"),
    (
        "unknown key",
        GOOD.replace("n_epochs", "n_epoch"),
        [],
        "bad.yaml:8:3: algo.n_epoch: unknown key (did you mean 'n_epochs'?)",
    ),
    ("unknown section", GOOD + "trian: {}\n", [], "trian: unknown key (did you mean 'train'?)"),
    ("duplicate key", GOOD + "logging:\n  experiment: x\n", [], "logging: duplicate key"),
    (
        "wrong type",
        GOOD.replace("n_steps: 16", "n_steps: many"),
        [],
        "bad.yaml:6:3: algo.n_steps: got 'many', expected a valid integer",
    ),
    (
        "negative learning rate",
        GOOD + "",
        ["--set", "algo.learning_rate=-0.001"],
        "--set algo.learning_rate: algo.learning_rate: got -0.001, must be > 0",
    ),
    (
        "schedule written as code",
        GOOD,
        ["--set", "algo.learning_rate=lambda p: p"],
        "algo.learning_rate.lambda p: unknown key (valid keys: linear)",
    ),
    (
        "batch larger than a rollout",
        GOOD.replace("batch_size: 16", "batch_size: 64"),
        [],
        "algo.batch_size: got 64, expected at most algo.n_steps * env.n_envs = 16 * 2 = 32",
    ),
    (
        "recurrent policy with ppo",
        GOOD,
        ["--set", "algo.name=ppo"],
        "policy.type: got 'MlpLstmPolicy', expected one of MlpPolicy, CnnPolicy, MultiInputPolicy for ppo",
    ),
    (
        "unknown env id",
        GOOD.replace("RecurrentRL/TMaze-v0", "RecurrentRL/TMase-v0"),
        [],
        "env.id: unknown environment 'RecurrentRL/TMase-v0' (closest registered ids: RecurrentRL/TMaze-v0",
    ),
    (
        "missing import module",
        GOOD + "",
        ["--set", "env.import=no_such_module_xyz"],
        "env.import: cannot import 'no_such_module_xyz'",
    ),
    (
        "both env id and entry point",
        GOOD,
        ["--set", "env.entry_point=envs.tmaze:TMaze"],
        "env.entry_point: got 'envs.tmaze:TMaze', expected exactly one of env.id and env.entry_point",
    ),
    (
        "neither env id nor entry point",
        GOOD,
        ["--set", "env.id=null"],
        "--set env.id: env.id: expected env.id (a registered id, or module:EnvId) or env.entry_point",
    ),
    (
        "entry point not module:attr",
        GOOD,
        ["--set", "env.id=null", "--set", "env.entry_point=envs.tmaze.TMaze"],
        "env.entry_point: got 'envs.tmaze.TMaze', expected module:attr",
    ),
    (
        "entry point attribute missing",
        GOOD,
        ["--set", "env.id=null", "--set", "env.entry_point=envs.tmaze:NoSuchMaze"],
        "env.entry_point: 'envs.tmaze:NoSuchMaze': ",
    ),
    (
        "entry point module not found",
        GOOD,
        ["--set", "env.id=null", "--set", "env.entry_point=no_such_module_xyz:Env"],
        "env.entry_point: cannot import 'no_such_module_xyz': no no_such_module_xyz.py or "
        "no_such_module_xyz/ package in /",
    ),
    (
        "bad env kwarg value",
        GOOD.replace("corridor_length: 3", "corridor_length: 0"),
        [],
        "env.kwargs: RecurrentRL/TMaze-v0: corridor_length=0 is out of range: "
        "expected an integer in [1, 1000]",
    ),
    (
        "unknown env kwarg",
        GOOD.replace("corridor_length: 3", "corridor: 3"),
        [],
        "env.kwargs: RecurrentRL/TMaze-v0:",
    ),
    (
        "unknown wrapper",
        GOOD.replace("  n_envs: 2", "  n_envs: 2\n  wrappers:\n    - flickr: {p: 0.2}"),
        [],
        "bad.yaml:6:7: env.wrappers.0: got {'flickr': {'p': 0.2}}, unknown wrapper 'flickr'; did you mean",
    ),
    (
        "bad wrapper argument",
        GOOD.replace("  n_envs: 2", "  n_envs: 2\n  wrappers:\n    - flicker: {p: 1.5}"),
        [],
        "bad.yaml:6:7: env.wrappers.0: flicker: p=1.5 is out of range: expected a number in [0.0, 1.0]",
    ),
    (
        "unknown memory",
        GOOD.replace("  lstm_hidden_size: 8\n", "  lstm_hidden_size: 8\n  memory: transformer\n"),
        [],
        "bad.yaml:12:3: policy.memory: got 'transformer', expected 'lstm' or 'gru'",
    ),
    (
        "gru with sb3-contrib's RecurrentPPO",
        GOOD,
        ["--set", "policy.memory=gru"],
        "policy.memory: got 'gru', expected lstm with algo.implementation: sb3",
    ),
    ("--set without =", GOOD, ["--set", "algo.gamma"], "--set algo.gamma: expected KEY=VALUE"),
    (
        "--set bad path",
        GOOD,
        ["--set", "algo.gama=0.9"],
        "--set algo.gama: algo.gama: unknown key (did you mean 'gamma'?)",
    ),
    (
        "--set bad value",
        GOOD,
        ["--set", "algo.gamma=[0.9"],
        "--set algo.gamma: cannot parse value '[0.9' as YAML",
    ),
    (
        "--set into a value",
        GOOD,
        ["--set", "algo.gamma.x=1"],
        "--set algo.gamma.x: algo.gamma: got {'x': 1}, expected a valid number",
    ),
    ("missing config", None, [], "bad.yaml: config file not found"),
    ("base cycle", "base: bad.yaml\n", [], "base configs form a cycle"),
    ("unknown option", GOOD, ["--lr", "3"], "unrecognized arguments: --lr 3"),
]


@pytest.mark.parametrize(
    ("text", "extra", "fragment"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config(tmp_path: Path, text: str | None, extra: list[str], fragment: str) -> None:
    if text is not None:
        (tmp_path / "bad.yaml").write_text(text)
    done = run_cli("train", "bad.yaml", *extra, cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists(), "a run folder was created for bad input"


def test_unwritable_runs_dir(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "afile").write_text("not a folder")
    done = run_cli("train", "good.yaml", "--runs-dir", "afile", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "runs_dir 'afile': cannot create")
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_run_name_is_never_overwritten(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "good" / "mine"
    run.mkdir(parents=True)
    (run / "model.zip").write_bytes(b"precious")
    (tmp_path / "good.yaml").write_text(GOOD)
    done = run_cli("train", "good.yaml", "--run-name", "mine", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "already exists (runs are never overwritten)")
    assert (run / "model.zip").read_bytes() == b"precious"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("run")
    (workdir / "good.yaml").write_text(GOOD)
    done = run_cli("train", "good.yaml", "--run-name", "r", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return workdir / "runs" / "good" / "r"


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


def test_evaluate_missing_target(tmp_path: Path) -> None:
    done = run_cli("evaluate", "nowhere", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "nowhere: no such run folder or model file")


def test_evaluate_run_folder_without_model(run_dir: Path, tmp_path: Path) -> None:
    copy = _copy_run(run_dir, tmp_path)
    for model in [*copy.glob("*.zip"), *copy.glob("checkpoints/*.zip")]:
        model.unlink()
    done = run_cli("evaluate", copy, cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "no model in this run folder")


def test_evaluate_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "model.zip").write_bytes(b"x")
    done = run_cli("evaluate", tmp_path / "model.zip", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "no config.yaml in")


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "not a zip", "no policy", "empty"])
def test_evaluate_damaged_model(run_dir: Path, tmp_path: Path, damage: str) -> None:
    copy = _copy_run(run_dir, tmp_path)
    model = copy / "model.zip"
    data = model.read_bytes()
    if damage == "truncated":
        model.write_bytes(data[: len(data) // 2])
    elif damage == "corrupt":
        model.write_bytes(data[:200] + bytes(len(data) - 400) + data[-200:])
    elif damage == "not a zip":
        model.write_text("hello")
    elif damage == "empty":
        model.write_bytes(b"")
    else:
        with zipfile.ZipFile(model, "w") as archive:
            archive.writestr("data", "{}")
    before = files_under(copy)
    done = run_cli("evaluate", model, "--episodes", "2", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "model.zip")
    assert files_under(copy) == before


def test_evaluate_model_that_does_not_fit_the_env(run_dir: Path, tmp_path: Path) -> None:
    copy = _copy_run(run_dir, tmp_path)
    config = copy / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["env"]["kwargs"]["n_cues"] = 3  # a larger observation than the model was trained on
    config.write_text(yaml.safe_dump(data))
    done = run_cli("evaluate", copy, "--episodes", "2", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "does not match the config's env and policy")


def test_evaluate_bad_video_path(run_dir: Path, tmp_path: Path) -> None:
    done = run_cli("evaluate", run_dir, "--video", tmp_path / "x.avi", cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, "expected a .gif or .mp4 file name")


def _interrupted(run: Path) -> None:
    """Make the finished copy look like a run stopped by Ctrl-C (resumable)."""
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    (run / "model.zip").unlink()


def _no_checkpoint(run: Path) -> None:
    _interrupted(run)
    for path in (run / "checkpoints").iterdir():
        path.unlink()


def _truncated_checkpoint(run: Path) -> None:
    _interrupted(run)
    newest = sorted((run / "checkpoints").glob("*.zip"))[-1]
    newest.write_bytes(newest.read_bytes()[:1000])


def _normalize_on(run: Path) -> None:
    """The config says env.normalize, but the run has no statistics files (lost, or never written)."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["env"]["normalize"] = True
    (run / "config.yaml").write_text(yaml.safe_dump(config))


def _corrupt_statistics(run: Path) -> None:
    _normalize_on(run)
    (run / "vecnormalize.npz").write_bytes(b"PK\x03\x04 not really a zip")


def _unchanged(run: Path) -> None:
    pass


# name, damage to a copy of the trained run, command (RUN is the copy), expected message fragment
RUN_CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    (
        "resume a finished run",
        _unchanged,
        ["train", "--resume", "RUN"],
        "the run already finished (completed); nothing to resume",
    ),
    ("resume without checkpoint", _no_checkpoint, ["train", "--resume", "RUN"], "no checkpoint in"),
    (
        "resume a truncated checkpoint",
        _truncated_checkpoint,
        ["train", "--resume", "RUN"],
        "not a valid model file, truncated or corrupt",
    ),
    (
        "resume without statistics",
        lambda run: (_interrupted(run), _normalize_on(run)),
        ["train", "--resume", "RUN"],
        "_steps.npz: normalisation statistics not found (env.normalize is on)",
    ),
    (
        "resume with a config",
        _interrupted,
        ["train", "good.yaml", "--resume", "RUN"],
        "train --resume RUN_DIR takes no CONFIG",
    ),
    (
        "evaluate without statistics",
        _normalize_on,
        ["evaluate", "RUN", "--episodes", "1"],
        "vecnormalize.npz: normalisation statistics not found (env.normalize is on)",
    ),
    (
        "evaluate corrupt statistics",
        _corrupt_statistics,
        ["evaluate", "RUN", "--episodes", "1"],
        "vecnormalize.npz: not a valid statistics file",
    ),
    (
        "inspect a truncated model",
        lambda run: (run / "model.zip").write_bytes(b"PK\x03\x04"),
        ["inspect", "RUN"],
        "model.zip: not a valid model file, truncated or corrupt",
    ),
    (
        "export without statistics",
        _normalize_on,
        ["export", "RUN", "--out", "policy.pt"],
        "vecnormalize.npz: normalisation statistics not found",
    ),
    (
        "export over a file",
        lambda run: (run.parent / "policy.pt").write_text("mine"),
        ["export", "RUN", "--out", "policy.pt"],
        "policy.pt exists (use --force to overwrite)",
    ),
    (
        "export into a missing folder",
        _unchanged,
        ["export", "RUN", "--out", "nowhere/policy.pt"],
        "folder nowhere does not exist",
    ),
    (
        "export named like the sidecar",
        _unchanged,
        ["export", "RUN", "--out", "policy.json"],
        "--out policy.json: expected a .onnx (ONNX) or .pt (TorchScript) file name",
    ),
    (
        "export --prune out of range",
        _unchanged,
        ["export", "RUN", "--out", "policy.onnx", "--prune", "1.5"],
        "--prune 1.5: expected a fraction between 0 and 1",
    ),
    (
        "export --tolerance without compression",
        _unchanged,
        ["export", "RUN", "--out", "policy.onnx", "--tolerance", "0.1"],
        "with --prune and/or --quantize",
    ),
    (
        "export --quantize to TorchScript",
        _unchanged,
        ["export", "RUN", "--out", "policy.pt", "--quantize", "int8"],
        "--prune and --quantize need an ONNX file",
    ),
]

# name, command line, expected message fragment: arguments wrong before any file is read
ARGUMENT_CASES = [
    ("train without config", ["train"], "train: give a CONFIG file (or --resume RUN_DIR)"),
    (
        "resume with --set",
        ["train", "--resume", "somewhere", "--set", "algo.gamma=0.9"],
        "train --resume RUN_DIR takes no CONFIG, --set",
    ),
    (
        "evaluate zero episodes",
        ["evaluate", "somewhere", "--episodes", "0"],
        "argument --episodes: got 0, expected an integer in [1, 1000000]",
    ),
    (
        "inspect without target",
        ["inspect"],
        "inspect: the following arguments are required: RUN_DIR|MODEL_ZIP",
    ),
    ("export without --out", ["export", "somewhere"], "the following arguments are required: --out"),
    ("unknown command", ["fly"], "invalid choice: 'fly'"),
]


@pytest.mark.parametrize(
    ("command", "fragment"), [c[1:] for c in ARGUMENT_CASES], ids=[c[0] for c in ARGUMENT_CASES]
)
def test_bad_arguments(tmp_path: Path, command: list[str], fragment: str) -> None:
    done = run_cli(*command, cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, fragment)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("damage", "command", "fragment"), [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES]
)
def test_bad_run_folder(
    run_dir: Path, tmp_path: Path, damage: Callable[[Path], None], command: list[str], fragment: str
) -> None:
    copy = _copy_run(run_dir, tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD)
    damage(copy)
    before = snapshot(tmp_path)
    done = run_cli(*[str(copy) if part == "RUN" else part for part in command], cwd=tmp_path)
    _assert_bad_input(done.returncode, done.stderr, fragment)
    assert snapshot(tmp_path) == before, "bad input changed files"


@pytest.mark.parametrize("what", ["missing", "plain folder"])
def test_resume_of_something_that_is_not_a_run(tmp_path: Path, what: str) -> None:
    if what == "plain folder":
        (tmp_path / "plain").mkdir()
    target = tmp_path / ("missing" if what == "missing" else "plain")
    done = run_cli("train", "--resume", target, cwd=tmp_path)
    fragment = "no such run folder" if what == "missing" else "not a run folder (no config.yaml)"
    _assert_bad_input(done.returncode, done.stderr, fragment)
    assert files_under(tmp_path) == []


def _assert_bad_input(returncode: int, stderr: str, fragment: str) -> None:
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("recurrent-rl: error: ")
    assert fragment in lines[0], lines[0]
