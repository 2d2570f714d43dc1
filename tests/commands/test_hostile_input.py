"""Issue 19, careless and hostile input (round two), through the CLI: each case gets one
``recurrent-rl: error:`` line naming what is wrong and where, exit 2, no traceback, nothing written or
overwritten, no half-made run folder; and ``report`` reads runs that differ in list or mapping settings.

The runs are trained once for the module (tiny TMaze trainings); every other case starts one command.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from recurrent_rl.artifacts.claims import Output, claim_outputs
from tests.helpers.cli import assert_one_error, files_under, run_cli, snapshot, start_cli, tiny_config
from tests.helpers.hostile import laughs, unwritable_folder

LISTS_SWEEP = """\
name: lists
configs: [tiny.yaml]
grid: {policy.net_arch: [[8], [16, 16]]}
seeds: [0]
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny.yaml`` and its experiment ``runs/tiny`` (``train.device: auto``): runs a, b (a ``net_arch``
    list), c (a learning-rate schedule); and the sweep ``runs/sweeps/lists`` over two ``net_arch`` lists."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "tiny.yaml").write_text(tiny_config())
    (folder / "lists.yaml").write_text(LISTS_SWEEP)
    started = [start_cli("sweep", "lists.yaml", "--jobs", "1", cwd=folder)]  # all at once: less waiting
    for name, setting in (
        ("a", "train.device=auto"),
        ("b", "policy.net_arch=[64, 64]"),
        ("c", "algo.learning_rate={linear: [0.001, 0.0]}"),
    ):
        sets = ["--set", setting, "--set", "train.device=auto"]
        started.append(start_cli("train", "tiny.yaml", "--run-name", name, *sets, cwd=folder))
    for process in started:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    return folder


@pytest.fixture(scope="module")
def run_dir(workdir: Path) -> Path:
    return workdir / "runs" / "tiny" / "a"


def assert_untouched(before: dict[str, bytes], folder: Path) -> None:
    assert snapshot(folder) == before, "bad input changed files"


# --- numbers in configs, --set and sweep files ---------------------------------------------------------

# name, file name, file text, CLI arguments after the command's file, expected fragment
NUMBER_CASES = [
    ("nan", "c.yaml", None, ["--set", "algo.learning_rate=nan"], "algo.learning_rate: got 'nan', expected a"),
    ("yaml .nan", "c.yaml", None, ["--set", "algo.learning_rate=.nan"], "algo.learning_rate: got nan,"),
    ("inf", "c.yaml", None, ["--set", "algo.learning_rate=.inf"], "algo.learning_rate: got inf,"),
    ("bool", "c.yaml", None, ["--set", "algo.learning_rate=true"], "algo.learning_rate: got True,"),
    (
        "nan in a schedule",
        "c.yaml",
        None,
        ["--set", "algo.learning_rate={linear: [1.0e-3, .nan]}"],
        "algo.learning_rate: got {'linear': [0.001, nan]}, expected a finite number > 0",
    ),
    ("clip_range nan", "c.yaml", None, ["--set", "algo.clip_range=.nan"], "algo.clip_range: got nan"),
    (
        "nan in the file",
        "c.yaml",
        tiny_config(extra_algo="  learning_rate: .nan\n"),
        [],
        "c.yaml:9:3: algo.learning_rate: got nan, expected a finite number > 0",
    ),
    (
        "sweep set nan",
        "s.yaml",
        "name: s\nconfigs: [c.yaml]\nseeds: [0]\nset: {algo.learning_rate: .nan}\n",
        ["--dry-run"],
        "s.yaml:4:7: algo.learning_rate: got nan, expected a finite number > 0",
    ),
    (
        "sweep grid schedule nan",
        "s.yaml",
        "name: s\nconfigs: [c.yaml]\nseeds: [0]\ngrid: {algo.clip_range: [0.2, {linear: [.nan, 0]}]}\n",
        ["--dry-run"],
        "s.yaml:4:8: algo.clip_range: got {'linear': [nan, 0]}, expected a finite number > 0",
    ),
    (
        "sweep seed bool",
        "s.yaml",
        "name: s\nconfigs: [c.yaml]\nseeds: [true]\n",
        ["--dry-run"],
        "seeds.0: got True",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "extra", "fragment"), [c[1:] for c in NUMBER_CASES], ids=[c[0] for c in NUMBER_CASES]
)
def test_numbers_are_finite_and_of_their_type(
    tmp_path: Path, name: str, text: str | None, extra: list[str], fragment: str
) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    if text is not None:
        (tmp_path / name).write_text(text)
    command = "sweep" if name == "s.yaml" else "train"
    done = run_cli(command, name, *extra, cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists(), "a run folder was made for bad input"


# --- YAML that attacks the loader ---------------------------------------------------------------------

BOMB_KWARGS = tiny_config().replace(
    "  kwargs: {corridor_length: 3}\n",
    "  kwargs:\n    corridor_length: 3\n    bomb:\n"
    + "".join(f"      {line}\n" for line in laughs(9).splitlines()),
)
# name, file given to train, its text (None: not written), expected fragment
YAML_CASES = [
    (
        "recursive alias",
        "c.yaml",
        tiny_config() + "x: &t {y: *t}\n",
        "c.yaml:18:4: YAML alias inside the node",
    ),
    ("billion laughs in env.kwargs", "c.yaml", BOMB_KWARGS, "too large once its aliases are expanded"),
    (
        "deep nesting",
        "c.yaml",
        tiny_config() + "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "nested too deeply",
    ),
    ("a device", "/dev/zero", None, "/dev/zero: not a regular file, expected a config file"),
    ("a huge file", "c.yaml", "# " + "x" * 2_000_000 + "\n", "larger than 1,000,000 bytes"),
]


@pytest.mark.parametrize(
    ("name", "text", "fragment"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_hostile_yaml_is_refused_at_once(tmp_path: Path, name: str, text: str | None, fragment: str) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    done = run_cli("train", name, cwd=tmp_path, timeout=60)  # the bomb built would take minutes and GBs
    assert_one_error(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists()


def test_hostile_yaml_in_a_sweep_file_and_a_set_value(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    (tmp_path / "s.yaml").write_text(
        "name: s\nconfigs: [c.yaml]\nseeds: [0]\nset:\n"
        + "".join(f"  {line}\n" for line in laughs(9).splitlines())
    )
    done = run_cli("sweep", "s.yaml", "--dry-run", cwd=tmp_path, timeout=60)
    assert_one_error(done.returncode, done.stderr, "s.yaml:")
    assert "too large once its aliases are expanded" in done.stderr
    bomb = "{" + laughs(9).replace("\n", ", ") + "}"
    done = run_cli("train", "c.yaml", "--set", f"env.kwargs.x={bomb}", cwd=tmp_path, timeout=60)
    assert_one_error(done.returncode, done.stderr, "--set env.kwargs.x: cannot parse value")
    assert files_under(tmp_path / "runs") == []


# --- flags: one seed range everywhere, bounded counts, finite floats, ports -----------------------------

SEED_COMMANDS = [
    ["train", "c.yaml"],
    ["evaluate", "RUN"],
    ["explain", "RUN"],
    ["check-env", "c.yaml"],
    ["export", "RUN", "--out", "p.onnx"],
]
FLAG_CASES = [
    *[  # the same range on every command
        (
            f"{command[0]} --seed -1",
            [*command, "--seed", "-1"],
            "--seed: got -1, expected an integer in [0, 2147483647]",
        )
        for command in SEED_COMMANDS
    ],
    (
        "train --seed 2**31",
        ["train", "c.yaml", "--seed", "2147483648"],
        "got 2147483648, expected an integer",
    ),
    (
        "evaluate --seed x",
        ["evaluate", "RUN", "--seed", "x"],
        "argument --seed: got 'x', expected an integer",
    ),
    (
        "explain --episodes huge",
        ["explain", "RUN", "--episodes", "1000000000000"],
        "argument --episodes: got 1000000000000, expected an integer in [10, 1000]",
    ),
    (
        "explain --episodes 5",
        ["explain", "RUN", "--episodes", "5"],
        "got 5, expected an integer in [10, 1000]",
    ),
    ("evaluate --episodes huge", ["evaluate", "RUN", "--episodes", "10000001"], "in [1, 1000000]"),
    ("export --episodes 0", ["export", "RUN", "--out", "p.onnx", "--episodes", "0"], "in [1, 1000]"),
    ("check-env --steps 0", ["check-env", "c.yaml", "--steps", "0"], "argument --steps: got 0"),
    (
        "export --tolerance nan",
        ["export", "RUN", "--out", "p.onnx", "--quantize", "int8", "--tolerance", "nan"],
        "argument --tolerance: got 'nan', expected a finite number",
    ),
    ("export --prune inf", ["export", "RUN", "--out", "p.onnx", "--prune", "inf"], "--prune: got 'inf'"),
    *[
        (
            f"tensorboard --port {port}",
            ["tensorboard", ".", f"--port={port}"],
            f"got {port}, expected an integer in [1, 65535]",
        )
        for port in ("-1", "0", "99999")
    ],
]


@pytest.mark.parametrize(("command", "fragment"), [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES])
def test_flag_values_are_checked_before_anything_is_read(
    tmp_path: Path, run_dir: Path, command: list[str], fragment: str
) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    done = run_cli(*[str(run_dir) if part == "RUN" else part for part in command], cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, fragment)
    assert [p.name for p in files_under(tmp_path)] == ["c.yaml"]


def test_tensorboard_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("tensorboard", ".", "--port", str(port), cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, f"tensorboard --port {port}: already in use on 127.0.0.1")


# --- run names ---------------------------------------------------------------------------------------

RUN_NAMES = [
    ("parent steps", "../../x", "holds a path separator"),
    ("absolute", "/abs/path", "holds a path separator"),
    ("newline", "a\nb", "holds a control character"),
    ("dot dot", "..", "starts with '.'"),
    ("hidden", ".x", "starts with '.'"),
    ("empty", "", "is empty"),
]


@pytest.mark.parametrize(("name", "fragment"), [c[1:] for c in RUN_NAMES], ids=[c[0] for c in RUN_NAMES])
def test_run_names_are_one_folder(tmp_path: Path, name: str, fragment: str) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (inner / "c.yaml").write_text(tiny_config())
    done = run_cli("train", "c.yaml", "--run-name", name, "--runs-dir", "runs", cwd=inner)
    assert_one_error(done.returncode, done.stderr, f"argument --run-name: got {name!r}, which {fragment}")
    assert [p.name for p in files_under(tmp_path)] == ["c.yaml"] and not (inner / "runs").exists()


# --- train.device --------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_refused_and_auto_records_the_device(tmp_path: Path, run_dir: Path) -> None:
    (tmp_path / "c.yaml").write_text(tiny_config())
    done = run_cli("train", "c.yaml", "--set", "train.device=cuda", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "c.yaml: train.device: got 'cuda', but this torch")
    (tmp_path / "s.yaml").write_text("name: s\nconfigs: [c.yaml]\nseeds: [0]\nset: {train.device: cuda}\n")
    done = run_cli("sweep", "s.yaml", "--dry-run", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "train.device: got 'cuda'")
    assert not (tmp_path / "runs").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["device"] == "cpu"  # train.device: auto, on this machine


# --- outputs: writable and free before the work, claimed while it runs ---------------------------------

# command, the output it would write (relative to the test folder)
OUTPUT_COMMANDS = [
    (["export", "RUN", "--out", "OUT/p.onnx"], "OUT/p.onnx", "export --out"),
    (["explain", "RUN", "--out", "OUT/explain", "--episodes", "10"], "OUT/explain", "explain --out"),
    (["evaluate", "RUN", "--video", "OUT/v.gif", "--episodes", "1"], "OUT/v.gif", "evaluate --video"),
    (["report", "EXPERIMENT", "--out", "OUT/report"], "OUT/report", "report --out"),
]


def _command(parts: list[str], run_dir: Path, out: Path) -> list[str]:
    names = {"RUN": str(run_dir), "EXPERIMENT": str(run_dir.parent)}
    return [names.get(part, part.replace("OUT", str(out))) for part in parts]


@pytest.mark.parametrize(
    ("command", "output", "flag"), OUTPUT_COMMANDS, ids=[c[0][0] for c in OUTPUT_COMMANDS]
)
def test_unwritable_outputs_are_refused_before_the_work(
    tmp_path: Path, run_dir: Path, command: list[str], output: str, flag: str
) -> None:
    unwritable = unwritable_folder(tmp_path)
    before = snapshot(run_dir.parent)
    done = run_cli(*_command(command, run_dir, unwritable), cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, f"{flag} {unwritable}/")
    assert f"cannot write in {unwritable}" in done.stderr
    assert_untouched(before, run_dir.parent)


@pytest.mark.parametrize(
    ("command", "output", "flag"), OUTPUT_COMMANDS, ids=[c[0][0] for c in OUTPUT_COMMANDS]
)
def test_an_output_another_command_is_writing_is_refused(
    tmp_path: Path, run_dir: Path, command: list[str], output: str, flag: str
) -> None:
    target = Path(output.replace("OUT", str(tmp_path)))
    files = None if target.suffix else ("report.md",)
    with claim_outputs("test", [Output(target, files)], force=False):  # the other command
        done = run_cli(*_command(command, run_dir, tmp_path), "--force", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, f"another command is writing {target} right now (process")
    assert files_under(tmp_path) == []


def test_two_exports_started_together_write_one_output(tmp_path: Path, run_dir: Path) -> None:
    first = start_cli("export", run_dir, "--out", "p.pt", cwd=tmp_path)
    second = start_cli("export", run_dir, "--out", "p.pt", cwd=tmp_path)
    outcomes = []
    for process in (first, second):
        _, err = process.communicate(timeout=300)
        outcomes.append((process.returncode, err))
    (ok, _), (refused, err) = sorted(outcomes)
    assert (ok, refused) == (0, 2), outcomes
    assert "another command is writing" in err or "p.pt exists (use --force to overwrite)" in err, err
    assert json.loads((tmp_path / "p.json").read_text())["file"] == "p.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.pt"]  # claims released


def test_a_stale_claim_of_a_killed_command_is_taken_over(tmp_path: Path, run_dir: Path) -> None:
    (tmp_path / ".p.pt.claim").write_text("999999999\n")  # left by a SIGKILL: no process holds its lock
    done = run_cli("export", run_dir, "--out", "p.pt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.pt"]


def test_evaluate_keeps_an_existing_video_unless_forced(tmp_path: Path, run_dir: Path) -> None:
    video = tmp_path / "v.gif"
    video.write_bytes(b"my video")
    done = run_cli("evaluate", run_dir, "--video", "v.gif", "--episodes", "1", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "evaluate --video v.gif: v.gif exists (use --force")
    assert video.read_bytes() == b"my video"
    done = run_cli("evaluate", run_dir, "--video", "v.gif", "--episodes", "1", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert video.read_bytes()[:6] == b"GIF89a"


# --- report ---------------------------------------------------------------------------------------------


def test_report_groups_runs_by_list_and_schedule_settings(workdir: Path, tmp_path: Path) -> None:
    done = run_cli("report", workdir / "runs" / "tiny", "--json", "--out", tmp_path / "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    groups = {json.dumps(g["grid"], sort_keys=True): g["runs"] for g in json.loads(done.stdout)["groups"]}
    assert len(groups) == 3 and all(len(runs) == 1 for runs in groups.values())
    points = [json.loads(key) for key in groups]
    assert {"policy.net_arch": [64, 64], "algo.learning_rate": 0.0003} in points
    assert any(point["algo.learning_rate"] == {"linear": [0.001, 0.0]} for point in points)
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert "| [64, 64] |" in markdown and "{linear: [0.001, 0.0]}" in markdown


def test_report_of_a_sweep_over_lists(workdir: Path, tmp_path: Path) -> None:
    sweep_dir = workdir / "runs" / "sweeps" / "lists"
    for path in (sweep_dir, sweep_dir / "tiny"):  # the sweep's index, and its runs as an experiment
        done = run_cli("report", path, "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        grids = sorted(json.dumps(g["grid"]) for g in json.loads(done.stdout)["groups"])
        assert grids == ['{"policy.net_arch": [16, 16]}', '{"policy.net_arch": [8]}']


def test_report_says_which_folders_it_skipped(workdir: Path, tmp_path: Path) -> None:
    experiment = tmp_path / "tiny"
    shutil.copytree(workdir / "runs" / "tiny", experiment)
    (experiment / "c" / "config.yaml").unlink()
    (experiment / "not-a-run").mkdir()
    done = run_cli("report", experiment, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["skipped"] == [
        {"folder": str(experiment / "c"), "reason": "no config.yaml"}
    ]
    done = run_cli("report", experiment, cwd=tmp_path)
    assert f"- `{experiment / 'c'}`: no config.yaml" in done.stdout


def _nan_final(data: Any) -> None:
    data["final_eval"]["mean_return"] = math.nan


def _inf_evaluation(data: Any) -> None:
    data[-1]["std_return"] = math.inf


def _overflow(data: Any) -> None:
    data["fps"] = "OVERFLOW"  # written as 1e999 below, which JSON readers take as infinity


# name, the damaged file of a copy of run a, the damage
NONFINITE = [
    ("NaN in final_eval", "summary.json", _nan_final),
    ("Infinity in an evaluation", "evaluations.json", _inf_evaluation),
    ("a number that overflows", "summary.json", _overflow),
]


@pytest.mark.parametrize(("name", "damage"), [c[1:] for c in NONFINITE], ids=[c[0] for c in NONFINITE])
def test_report_refuses_non_finite_records(
    run_dir: Path, tmp_path: Path, name: str, damage: Callable[[Any], None]
) -> None:
    copy = tmp_path / "tiny" / "a"
    shutil.copytree(run_dir, copy)
    data = json.loads((copy / name).read_text())
    damage(data)
    (copy / name).write_text(json.dumps(data).replace('"OVERFLOW"', "1e999"))
    done = run_cli("report", copy.parent, cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, f"{copy / name}: holds ")
    assert "not a finite number" in done.stderr


def test_report_keeps_an_earlier_report_unless_forced(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.md").write_text("my notes")
    done = run_cli("report", workdir / "runs" / "tiny", "--out", out, cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, f"report --out {out}: already holds report.md")
    assert (out / "report.md").read_text() == "my notes"
    done = run_cli("report", workdir / "runs" / "tiny", "--out", out, "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "report.md").read_text().startswith("# Report")
