"""Through the CLI: Gymnasium wrappers by import path (Gymnasium's own and one in a user's file next to the
config) train, evaluate and export; every bad wrapper is one ``file:line:column`` line, exit status 2, and
nothing written; check-env checks the env that training uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import files_under, run_cli

USER_WRAPPERS = '''\
import gymnasium as gym


def scaled(env, factor):
    """A function returning an env: observations times ``factor``."""
    space = env.observation_space
    box = gym.spaces.Box(space.low * factor, space.high * factor, dtype=space.dtype)
    return gym.wrappers.TransformObservation(env, lambda obs: (obs * factor).astype(space.dtype), box)


def not_an_env(env):
    return 42


class WrongShape(gym.ObservationWrapper):
    """Declares the env's space but returns one entry too many: training cannot use it."""

    def observation(self, observation):
        return observation[:-1]
'''

TINY = """\
env:
  id: RecurrentRL/TMaze-v0
  kwargs: {{corridor_length: 3}}
  max_episode_steps: 20
  n_envs: 2
  wrappers:
{wrappers}algo: {{n_steps: 16, batch_size: 16, n_epochs: 2}}
policy: {{lstm_hidden_size: 8}}
train: {{total_timesteps: 256, eval_freq: 128, n_eval_episodes: 4, checkpoint_freq: 0}}
logging: {{runs_dir: runs}}
"""

WRAPPERS = """\
    - flicker: {p: 0.1}
    - user_wrappers:scaled: {factor: 2.0}
    - gymnasium.wrappers:TimeAwareObservation: {flatten: true, normalize_time: true}
"""


def project(tmp_path: Path, wrappers: str, name: str = "cfg.yaml") -> Path:
    """A folder with the user's wrapper file and a config naming ``wrappers`` (YAML list items)."""
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "user_wrappers.py").write_text(USER_WRAPPERS)
    (folder / name).write_text(TINY.format(wrappers=wrappers))
    return folder / name


def test_third_party_wrappers_train_evaluate_and_export(tmp_path: Path) -> None:
    config = project(tmp_path, WRAPPERS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli("train", config, cwd=elsewhere)  # the user's file is found next to the config
    assert done.returncode == 0, done.stderr
    run_dir = elsewhere / done.stdout.strip().splitlines()[-1]
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())["env"]
    assert recorded["wrappers"] == [
        {"name": "flicker", "kwargs": {"p": 0.1}},
        {"name": "user_wrappers:scaled", "kwargs": {"factor": 2.0}},
        {
            "name": "gymnasium.wrappers:TimeAwareObservation",
            "kwargs": {"flatten": True, "normalize_time": True},
        },
    ]
    assert str(config.parent.resolve()) in recorded["search_path"]
    other = tmp_path / "other"
    other.mkdir()
    done = run_cli("evaluate", run_dir, "--episodes", "3", "--json", cwd=other)  # rebuilt from config.yaml
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_episodes"] == 3
    done = run_cli("export", run_dir, "--out", other / "policy.onnx", "--episodes", "2", cwd=other)
    assert done.returncode == 0, done.stderr
    sidecar = json.loads((other / "policy.json").read_text())
    assert "observation" in json.dumps(sidecar) and (other / "policy.onnx").stat().st_size > 0


BAD = [
    (
        "module not found",
        "- no_such_module_xyz:Wrap",
        "cannot import 'no_such_module_xyz': no no_such_module_xyz.py",
    ),
    (
        "attribute not found",
        "- gymnasium.wrappers:TimeAwareObservatio",
        "has no attribute 'TimeAwareObservatio'; did you mean TimeAwareObservation",
    ),
    (
        "an env class",
        "- gymnasium.envs.classic_control:CartPoleEnv",
        "'gymnasium.envs.classic_control:CartPoleEnv' is an env class, expected a gymnasium.Wrapper class",
    ),
    ("not callable", "- gymnasium.wrappers:__name__", "is a str, expected a gymnasium.Wrapper class"),
    (
        "refused arguments",
        "- gymnasium.wrappers:ClipReward: {min_rewards: 0}",
        "gymnasium.wrappers:ClipReward: TypeError: ClipReward.__init__() got an unexpected keyword argument "
        "'min_rewards'",
    ),
    (
        "returns no env",
        "- user_wrappers:not_an_env",
        "user_wrappers:not_an_env returned a int, expected a gymnasium.Env",
    ),
    (
        "unknown name",
        "- flickr: {p: 0.2}",
        "got {'flickr': {'p': 0.2}}, unknown wrapper 'flickr'; did you mean",
    ),
    ("our wrapper's argument", "- flicker: {p: 2}", "flicker: p=2 is out of range"),
]


@pytest.mark.parametrize(("item", "message"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_wrapper_is_one_line_and_writes_nothing(tmp_path: Path, item: str, message: str) -> None:
    config = project(tmp_path, f"    - flicker: {{p: 0.1}}\n    {item}\n", "bad.yaml")
    done = run_cli("train", "bad.yaml", cwd=config.parent)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("recurrent-rl: error: bad.yaml:8:7: env.wrappers.1: "), done.stderr
    assert message in done.stderr, done.stderr
    assert not files_under(config.parent / "runs")


MINIGRID_FACTORY = """\
import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid ids)
from minigrid.wrappers import ImgObsWrapper


def make(**kwargs):
    return ImgObsWrapper(gym.make("MiniGrid-MemoryS7-v0", **kwargs))
"""


@pytest.mark.parametrize(
    "env_section",
    [
        "  entry_point: minigrid_factory:make\n",  # the factory wraps the env it returns
        "  id: MiniGrid-MemoryS7-v0\n  import: minigrid\n  wrappers: [minigrid.wrappers:ImgObsWrapper]\n",
    ],
    ids=["factory", "wrappers"],
)
def test_check_env_checks_the_env_training_uses(tmp_path: Path, env_section: str) -> None:
    """MiniGrid's own observations carry a text mission that SB3 refuses; the env as built has none."""
    (tmp_path / "minigrid_factory.py").write_text(MINIGRID_FACTORY)
    (tmp_path / "cfg.yaml").write_text(f"env:\n{env_section}  n_envs: 2\npolicy: {{type: MlpLstmPolicy}}\n")
    done = run_cli("check-env", "cfg.yaml", "--steps", "300", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Box(0, 255, (7, 7, 3), uint8)" in done.stdout
    assert "checks             Stable-Baselines3, Gymnasium, seeding, random steps: passed" in done.stdout


def test_check_env_lists_advice_as_warnings(tmp_path: Path) -> None:
    """POPGym's CountRecall shares its info dict between calls: a Gymnasium remark, not a failure."""
    (tmp_path / "cfg.yaml").write_text(
        "env:\n  id: popgym-CountRecallEasy-v0\n  import: popgym\n  n_envs: 2\n"
    )
    done = run_cli("check-env", "cfg.yaml", "--steps", "200", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning")]
    assert any("(returned data not reused): The infos returned by" in line for line in warnings), done.stdout


def test_check_env_still_fails_on_an_env_training_cannot_use(tmp_path: Path) -> None:
    config = project(tmp_path, "    - user_wrappers:WrongShape\n")
    done = run_cli("check-env", config.name, cwd=config.parent)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "does not match the shape of the given observation space" in done.stderr, done.stderr
