"""Bad sweep files: one ``recurrent-rl: error: file:line: ...`` line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from recurrent_rl.cli import main
from tests.helpers.sweeps import write_configs, write_sweep

GOOD = """\
name: bad
configs: [../tiny.yaml, ../tiny_ppo.yaml]
grid: {env.kwargs.corridor_length: [2, 3]}
seeds: [0, 1]
set: {train.total_timesteps: 64}
"""

# (what is wrong, (old text, new text), fragment of the error line)
CASES = [
    ("unknown key", ("seeds:", "seed:"), "bad.yaml:4:1: seed: unknown key (did you mean 'seeds'?)"),
    ("missing key", ("seeds: [0, 1]\n", ""), "seeds: required key is missing"),
    (
        "missing config",
        ("../tiny_ppo.yaml", "../nope.yaml"),
        "bad.yaml:2:1: configs: ../nope.yaml: config file not found",
    ),
    ("no configs", ("[../tiny.yaml, ../tiny_ppo.yaml]", "[]"), "bad.yaml:2:1: configs: got [], expected"),
    (
        "config twice",
        ("../tiny_ppo.yaml", "../tiny.yaml"),
        "bad.yaml:2:1: configs: ../tiny.yaml: a second config",
    ),
    (
        "empty grid",
        ("{env.kwargs.corridor_length: [2, 3]}", "{}"),
        "bad.yaml:3:1: grid: got {}, expected at least",
    ),
    (
        "empty grid values",
        ("[2, 3]}", "[]}"),
        "bad.yaml:3:8: grid.env.kwargs.corridor_length: got [], expected a non-empty",
    ),
    (
        "repeated grid value",
        ("[2, 3]}", "[2, 2]}"),
        "bad.yaml:3:8: grid.env.kwargs.corridor_length: got [2, 2], expected distinct",
    ),
    (
        "grid values not a list",
        ("[2, 3]}", "3}"),
        "bad.yaml:3:8: grid.env.kwargs.corridor_length: got 3, expected a valid list",
    ),
    (
        "grid key not a config key",
        ("env.kwargs.corridor_length", "algo.lerning_rate"),
        "bad.yaml:3:8: algo.lerning_rate: unknown key (did you mean 'learning_rate'?) (config ../tiny.yaml",
    ),
    (
        "grid key a section",
        ("env.kwargs.corridor_length", "algo"),
        "bad.yaml:3:8: grid.algo: expected a dotted config key",
    ),
    (
        "grid key the env does not take",
        ("corridor_length", "corridor_lenght"),
        "bad.yaml:3:8: env.kwargs: RecurrentRL/TMaze-v0:",
    ),
    (
        "grid value out of range",
        ("[2, 3]}", "[2, 0]}"),
        "bad.yaml:3:8: env.kwargs: RecurrentRL/TMaze-v0: corridor_length=0",
    ),
    (
        "grid value of a wrong type",
        ("env.kwargs.corridor_length: [2, 3]", "algo.n_epochs: [2, x]"),
        "bad.yaml:3:8: algo.n_epochs: got 'x'",
    ),
    (
        "seed in the grid",
        ("env.kwargs.corridor_length", "train.seed"),
        "bad.yaml:3:8: grid.train.seed: give seeds in the seeds list",
    ),
    (
        "set value out of range",
        ("total_timesteps: 64", "total_timesteps: -5"),
        "bad.yaml:5:7: train.total_timesteps: got -5, expected",
    ),
    (
        "set of the run folders",
        ("train.total_timesteps: 64", "logging.runs_dir: x"),
        "bad.yaml:5:7: set.logging.runs_dir: the sweep",
    ),
    (
        "set and grid",
        ("train.total_timesteps: 64", "env.kwargs.corridor_length: 4"),
        "bad.yaml:5:7: set.env.kwargs.corridor_length: also a grid key",
    ),
    ("repeated seed", ("[0, 1]", "[0, 0]"), "bad.yaml:4:1: seeds: got [0, 0], expected distinct seeds"),
    (
        "negative seed",
        ("[0, 1]", "[0, -1]"),
        "bad.yaml:4:12: seeds.1: got -1, expected greater than or equal to 0",  # at the list item
    ),
    ("bad name", ("name: bad", "name: ../up"), "bad.yaml:1:1: name: got '../up', expected a folder name"),
    ("yaml syntax", ("[2, 3]}", "[2, 3}"), "bad.yaml:3:"),
    ("not a mapping", (GOOD, "- a\n- b\n"), "bad.yaml:1:1: expected a mapping"),
]


@pytest.mark.parametrize(("case", "edit", "fragment"), CASES, ids=[case[0] for case in CASES])
def test_bad_sweep_file(
    case: str,
    edit: tuple[str, str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_configs(tmp_path)
    assert edit[0] in GOOD, case
    path = write_sweep(tmp_path, "bad", GOOD.replace(edit[0], edit[1]))
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(path.relative_to(tmp_path)), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recurrent-rl: error: configs/sweeps/"), err
    assert fragment in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()


def test_missing_sweep_file_and_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for argv, fragment in (
        (["sweep", "nope.yaml"], "nope.yaml: sweep file not found"),
        (["sweep"], "sweep: give a SWEEP.yaml file"),
        (["sweep", "nope.yaml", "--jobs", "0"], "--jobs 0: expected an integer >= 1"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("recurrent-rl: error:") == 1 and fragment in err, err
    assert not any(tmp_path.iterdir())


def test_dry_run_prints_the_runs_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_configs(tmp_path)
    path = write_sweep(tmp_path, "bad", GOOD)
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + 8 + 1 and out[-1] == "8 runs in runs/sweeps/bad"
    assert out[1].split()[:2] == ["start", "tiny/corridor_length=2-seed0"]
    assert not (tmp_path / "runs").exists()


SHIPPED = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted((SHIPPED / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_sweeps_load(path: Path) -> None:
    from recurrent_rl.experiments.sweep_file import load_sweep

    sweep = load_sweep(path)
    assert len(sweep.spec.seeds) >= 3 and sweep.points()


def test_the_suite_covers_every_shipped_config() -> None:
    from recurrent_rl.experiments.sweep_file import load_sweep

    suite = load_sweep(SHIPPED / "sweeps" / "suite.yaml")
    assert {path.resolve() for path in suite.configs} == {path.resolve() for path in SHIPPED.glob("*.yaml")}
    assert list(suite.spec.seeds) == [0, 1, 2, 3, 4]
