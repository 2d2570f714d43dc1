"""The references cannot drift: the committed files are what ``scripts/gen_reference.py`` writes, every
config key has its description, and the tables copied from elsewhere match their source."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from recurrent_rl.config.schema import Config
from tests.helpers.docs import ROOT, parse

RUN_THE_SCRIPT = "is out of date: run python scripts/gen_reference.py and commit the result"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table_rows(path: Path, first_cell: str) -> list[str]:
    """The rows of the table (outside code blocks) whose header starts with ``first_cell``."""
    lines = [item.text for item in parse(path.read_text(encoding="utf-8"))[1]]
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_committed_references_are_what_the_script_writes(gen: ModuleType) -> None:
    for path, text in gen.expected_files(ROOT).items():
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(ROOT)} {RUN_THE_SCRIPT}"


def test_check_names_the_file_that_differs_and_writes_nothing(
    gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    for name in ("configuration.md", "cli.md"):
        shutil.copy(ROOT / "docs" / name, tmp_path / "docs" / name)
    assert gen.main(["--check"], root=tmp_path) == 0
    stale = (tmp_path / "docs" / "cli.md").read_text(encoding="utf-8").replace("--episodes", "--episode")
    (tmp_path / "docs" / "cli.md").write_text(stale, encoding="utf-8")
    capsys.readouterr()
    assert gen.main(["--check"], root=tmp_path) == 1
    out = capsys.readouterr().out
    assert "docs/cli.md differs" in out and "python scripts/gen_reference.py" in out
    assert "configuration.md" not in out
    assert (tmp_path / "docs" / "cli.md").read_text(encoding="utf-8") == stale
    assert gen.main([], root=tmp_path) == 0
    assert gen.main(["--check"], root=tmp_path) == 0


def test_the_generated_block_replaces_only_what_is_between_the_markers(gen: ModuleType) -> None:
    text = f"prose before\n{gen.BEGIN}\nstale | rows\n{gen.END}\nprose after\n"
    updated = gen.with_config_reference(text, Path("x.md"))
    assert updated.startswith(f"prose before\n{gen.BEGIN}\n")
    assert updated.endswith(f"{gen.END}\nprose after\n")
    assert "stale" not in updated and "| `env.n_envs` | integer, >= 1, <= 1024 | `8` |" in updated
    with pytest.raises(SystemExit, match="x.md: the markers"):
        gen.with_config_reference("no markers here\n", Path("x.md"))


def test_every_config_key_has_a_description_and_a_row(gen: ModuleType) -> None:
    block = gen.config_reference()
    keys = []
    for section, field in Config.model_fields.items():
        assert field.description, f"{section}: no description"
        for key, info in gen._keys(gen._models(field.annotation)[0], section):
            assert info.description, f"{key}: no description; give it Field(description=...)"
            assert f"| `{key}` |" in block
            keys.append(key)
    expected = {"env.import", "env.wrappers[].name", "env.normalize.clip_obs", "train.stop_at.success_rate"}
    assert expected <= set(keys) and "env.import_" not in keys
    assert "algo.learning_rate.linear" not in keys  # a one-key mapping is written inline in its type


def test_cli_reference_lists_every_visible_flag_and_no_hidden_one(gen: ModuleType) -> None:
    from recurrent_rl.cli import build_parser

    text = gen.cli_reference()
    for name, _, command in gen._subcommands(build_parser()):
        assert f"\n## {name}\n" in text
        for action in command._actions:
            for flag in (flag for flag in action.option_strings if flag not in ("-h", "--help")):
                assert (f"`{flag}" in text) == (action.help != "==SUPPRESS=="), flag
    assert "--worker" not in text and "--deadline" not in text


def test_readme_results_table_is_the_suite_table() -> None:
    readme = _table_rows(ROOT / "README.md", "config")
    suite = _table_rows(ROOT / "benchmarks" / "results" / "suite.md", "config")
    assert len(readme) == 14 and readme == suite, "README.md's results table differs from suite.md's"


def test_wrapper_table_names_every_wrapper() -> None:
    from envs.wrappers import WRAPPERS

    rows = _table_rows(ROOT / "docs" / "configuration.md", "name")
    assert {row.split("`")[1] for row in rows} == set(WRAPPERS)


def test_environment_table_names_every_registered_env() -> None:
    import envs

    rows = _table_rows(ROOT / "docs" / "environments.md", "id")
    assert [row.split("`")[1] for row in rows] == list(envs.descriptions())
