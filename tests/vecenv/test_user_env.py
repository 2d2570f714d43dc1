"""Your own environment, through the CLI: a Gymnasium env in a file next to the config trains with no setup.

The example of the README (configs/examples/blink: my_pomdp.py, blink.yaml, blink_ppo.yaml) is copied to a
temporary project folder; every command runs from other working directories, so the module is found
through the config's folder (or the folder the run recorded), never through the repository or PYTHONPATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_error, run_cli, start_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "examples" / "blink"

BROKEN_ENVS = '''\
"""Envs that break the Gymnasium API, one way each."""
import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Good(gym.Env):
    def __init__(self):
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self._t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs(self.np_random.random()), {}

    def step(self, action):
        self._t += 1
        return self._obs(self.np_random.random()), float(action), self._t >= 10, False, {}

    def _obs(self, value):
        return np.array([value, self._t / 10], dtype=np.float32)


class WrongDtype(Good):
    def _obs(self, value):
        return np.array([value, self._t / 10], dtype=np.float64)


class WrongShape(Good):
    def _obs(self, value):
        return np.array([value, self._t / 10, 0.0], dtype=np.float32)


class IgnoresSeed(Good):
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs(np.random.default_rng().random()), {}


class FourValues(Good):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated or truncated, info


class NaNObservation(Good):
    def _obs(self, value):
        return np.array([np.nan if self._t == 3 else value, self._t / 10], dtype=np.float32)
'''

RAISES_ON_IMPORT = """\
import gymnasium as gym


def scale():
    return 1 / 0


SCALE = scale()
"""


def _config(env: str, extra: str = "") -> str:
    return f"env:\n{env}  n_envs: 2\n{extra}algo:\n  n_steps: 16\n  batch_size: 16\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example next to its configs, plus broken envs, in a folder that is not the repository."""
    folder = tmp_path_factory.mktemp("project")
    for path in EXAMPLE.iterdir():
        if path.suffix in (".py", ".yaml"):
            shutil.copy(path, folder / path.name)
    (folder / "broken_envs.py").write_text(BROKEN_ENVS)
    (folder / "raises_on_import.py").write_text(RAISES_ON_IMPORT)
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory that holds none of the project's files."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


@pytest.fixture(scope="module")
def runs(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LSTM agent (``env.id: my_pomdp:Blink-v0``) and its memoryless twin (``env.entry_point``), trained
    at once from a folder that is not the project's."""
    cwd = tmp_path_factory.mktemp("train_cwd")
    runs_dir = tmp_path_factory.mktemp("runs")
    lstm = start_cli(
        "train",
        project / "blink.yaml",
        "--runs-dir",
        runs_dir,
        "--set",
        "train.total_timesteps=40000",
        cwd=cwd,
    )
    memoryless = start_cli(
        "train",
        project / "blink_ppo.yaml",
        "--runs-dir",
        runs_dir,
        "--set",
        "env.id=null",
        "--set",
        "env.entry_point=my_pomdp:Blink",
        "--set",
        "train.total_timesteps=10000",
        "--set",
        "train.eval_freq=0",
        cwd=cwd,
    )
    _finish(lstm), _finish(memoryless)
    return runs_dir


def _evaluate(target: Path, cwd: Path, episodes: int) -> tuple[dict, str]:
    done = run_cli("evaluate", target, "--episodes", episodes, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_lstm_learns_blink_and_the_memoryless_twin_cannot(runs: Path, elsewhere: Path) -> None:
    """Evaluated from yet another directory, through the experiment folders (their newest finished run)."""
    lstm, said = _evaluate(runs / "blink", elsewhere, 200)
    assert said.startswith(f"using run {runs / 'blink'}/"), said
    memoryless, _ = _evaluate(runs / "blink_ppo", elsewhere, 400)
    print(f"Blink success: LSTM {lstm['success_rate']:.3f}, memoryless {memoryless['success_rate']:.3f}")
    assert lstm["success_rate"] >= 0.95, lstm
    assert memoryless["success_rate"] <= 0.6, memoryless
    summary = json.loads(next((runs / "blink").glob("*/summary.json")).read_text())
    assert summary["status"] == "stopped_early", summary


def test_run_records_where_its_module_was_found(runs: Path, project: Path) -> None:
    config = next((runs / "blink_ppo").glob("*/config.yaml")).read_text()
    assert "entry_point: my_pomdp:Blink" in config and str(project) in config


def test_env_import_in_subprocess_workers(project: Path, elsewhere: Path, tmp_path: Path) -> None:
    """``env.import`` with SubprocVecEnv: the workers import the module from the recorded folder."""
    (project / "subproc.yaml").write_text(
        _config("  id: Blink-v0\n  import: my_pomdp\n  vec_env: subproc\n")
        + "train:\n  total_timesteps: 64\n  eval_freq: 0\n  checkpoint_freq: 0\n"
    )
    done = run_cli("train", project / "subproc.yaml", "--runs-dir", tmp_path / "runs", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    summary = json.loads((Path(done.stdout.strip().splitlines()[-1]) / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["final_eval"]["mean_length"] == 6.0, summary


def test_inspect_experiment_folder(runs: Path, elsewhere: Path) -> None:
    done = run_cli("inspect", runs / "blink", "--json", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "using run" in done.stderr
    assert json.loads(done.stdout)["env"]["id"] == "my_pomdp:Blink-v0"


def test_experiment_folder_without_finished_run(runs: Path, tmp_path: Path) -> None:
    run = tmp_path / "exp" / "r1"
    shutil.copytree(next((runs / "blink").iterdir()), run)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    done = run_cli("evaluate", tmp_path / "exp", cwd=tmp_path)
    assert_one_error(
        done.returncode, done.stderr, "no finished run in this experiment folder (1 interrupted)"
    )


def test_check_env_on_a_good_env(project: Path, elsewhere: Path) -> None:
    (project / "by_import.yaml").write_text(_config("  id: Blink-v0\n  import: my_pomdp\n"))
    done = run_cli("check-env", project / "by_import.yaml", "--steps", "600", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    for expected in (
        "observation space  Box(0.0, 1.0, (3,), float32)",
        "action space       Discrete(2)",
        "policy type        MlpLstmPolicy",
        "time limit         100 steps",
        "episode length     mean 6.0, min 6, max 6",
        "episode return     mean",
        "is_success         reported",
        "steps/s",
    ):
        assert expected in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("env_class", "fragment"),
    [
        ("WrongDtype", "does not match the data type"),
        ("WrongShape", "does not match the shape"),
        ("IgnoresSeed", "seed="),
        ("FourValues", "must return five values"),
        ("NaNObservation", "nan in "),
    ],
)
def test_check_env_on_broken_envs(project: Path, elsewhere: Path, env_class: str, fragment: str) -> None:
    (project / f"{env_class}.yaml").write_text(_config(f"  entry_point: broken_envs:{env_class}\n"))
    done = run_cli("check-env", project / f"{env_class}.yaml", cwd=elsewhere)
    assert_one_error(done.returncode, done.stderr, f"check-env: broken_envs:{env_class}: ")
    assert fragment in done.stderr.split(f"broken_envs:{env_class}: ", 1)[1].lower(), done.stderr


def test_check_env_passes_the_broken_envs_base(project: Path, elsewhere: Path) -> None:
    (project / "good.yaml").write_text(_config("  entry_point: broken_envs:Good\n"))
    done = run_cli("check-env", project / "good.yaml", "--steps", "200", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "is_success         not reported" in done.stdout and "time limit         none" in done.stdout


def test_module_that_raises_on_import(project: Path, elsewhere: Path) -> None:
    """The user's error, at the user's file and line; nothing is written."""
    (project / "raises.yaml").write_text(_config("  id: RecurrentRL/TMaze-v0\n  import: raises_on_import\n"))
    done = run_cli("train", project / "raises.yaml", "--runs-dir", elsewhere / "runs", cwd=elsewhere)
    where = f"{project / 'raises_on_import.py'}:5: ZeroDivisionError: division by zero"
    assert_one_error(
        done.returncode, done.stderr, f"env.import: importing 'raises_on_import' failed: {where}"
    )
    assert not (elsewhere / "runs").exists()


def test_module_not_found_names_the_folders_searched(project: Path, elsewhere: Path) -> None:
    (project / "missing.yaml").write_text(_config("  id: nowhere_to_be_found:Blink-v0\n"))
    done = run_cli("check-env", project / "missing.yaml", cwd=elsewhere)
    assert_one_error(done.returncode, done.stderr, "env.id: cannot import 'nowhere_to_be_found'")
    assert f"{project.resolve()}, {elsewhere.resolve()}" in done.stderr


def test_file_named_like_an_imported_module(tmp_path: Path, elsewhere: Path) -> None:
    """``envs.py`` next to the config would be shadowed by this project's ``envs`` package: say so."""
    (tmp_path / "envs.py").write_text((EXAMPLE / "my_pomdp.py").read_text())
    (tmp_path / "shadow.yaml").write_text(_config("  id: Blink-v0\n  import: envs\n"))
    done = run_cli("check-env", tmp_path / "shadow.yaml", cwd=elsewhere)
    assert_one_error(
        done.returncode, done.stderr, f"env.import: {tmp_path.resolve() / 'envs.py'} has the name"
    )
