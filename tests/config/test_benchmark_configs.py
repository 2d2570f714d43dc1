"""The benchmark configs (configs/benchmarks/) load, build their env and agent, and pair as stated: each
memoryless twin differs from its LSTM config only in the algorithm and policy (and a frame stack); the
benchmark sweep files run every one of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from recurrent_rl.algo.build import build_model, check_spaces
from recurrent_rl.config.loader import load_config
from recurrent_rl.vecenv.build import build_vec_env, check_env_config

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "configs" / "benchmarks"
DEFAULTS = "popgym_defaults.yaml"  # a base only: it names no env
CONFIGS = sorted(path for path in FOLDER.glob("*.yaml") if path.name != DEFAULTS)
TWINS = [path for path in CONFIGS if path.stem.endswith(("_ppo", "_framestack"))]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_benchmark_config_loads_and_builds(path: Path) -> None:
    cfg = load_config(path).config
    check_spaces(cfg, *check_env_config(cfg.env))
    env = build_vec_env(cfg.env, cfg.algo, n_envs=1, seed=0, training=True)
    try:
        assert build_model(cfg, env).n_steps == cfg.algo.n_steps
    finally:
        env.close()


def _without(data: dict[str, Any], keys: set[tuple[str, str]]) -> dict[str, Any]:
    return {s: {k: v for k, v in section.items() if (s, k) not in keys} for s, section in data.items()}


@pytest.mark.parametrize("path", TWINS, ids=[p.stem for p in TWINS])
def test_twins_differ_only_in_memory(path: Path) -> None:
    lstm_name = path.name.replace("_ppo.yaml", ".yaml").replace("_framestack.yaml", ".yaml")
    twin, lstm = load_config(path), load_config(FOLDER / lstm_name)
    assert (twin.config.algo.name, lstm.config.algo.name) == ("ppo", "recurrent_ppo")
    assert twin.config.env.frame_stack == (4 if path.stem.endswith("_framestack") else None)
    ignored = {("algo", "name"), ("policy", "type"), ("env", "frame_stack"), ("logging", "experiment")}
    ignored |= {("train", "stop_at")}  # the LSTM may stop once it solves the task; a memoryless one cannot
    dump = [yaml.safe_load(loaded.resolved_yaml()) for loaded in (twin, lstm)]
    assert _without(dump[0], ignored) == _without(dump[1], ignored)  # LSTM keys too: inherited, unused


def test_sweep_files_run_every_benchmark_config() -> None:
    listed: set[Path] = set()
    for name in ("benchmarks.yaml", "benchmarks_novel.yaml"):
        sweep = yaml.safe_load((ROOT / "configs" / "sweeps" / name).read_text())
        listed |= {(ROOT / "configs" / "sweeps" / entry).resolve() for entry in sweep["configs"]}
        assert len(sweep["seeds"]) >= (5 if name == "benchmarks_novel.yaml" else 3)
    assert listed == {path.resolve() for path in CONFIGS}
