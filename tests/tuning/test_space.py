"""Search spaces: bad files answer with file:line (exit 2, nothing written); sampling covers every LSTM key
and never builds a config the loader rejects."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.space import Distribution, SearchSpace, default_space, load_space, sample
from tests.helpers.cli import assert_one_error, run_cli
from tests.helpers.tuning import write_tiny

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

BAD_SPACES = [
    (
        "algo.gamma: {uniform: [0.9, 0.99]}\nalgo.learning_rat: {uniform: [0.1, 0.2]}\n",
        2,
        "did you mean 'learning_rate'",
    ),
    ("algo.gamma: {loguniform: [0.9, 0.99]}\n", 1, "unknown distribution (did you mean 'log_uniform'?)"),
    ("algo.gamma: {normal: [0.9, 0.99]}\n", 1, "unknown distribution"),
    ("algo.gamma: {uniform: [0.99, 0.9]}\n", 1, "low < high"),
    ("algo.learning_rate: {log_uniform: [0.0, 0.1]}\n", 1, "low > 0"),
    ("algo.gamma: {uniform: [0.9, 1], choice: [0.9]}\n", 1, "expected one distribution"),
    ("algo.gamma: 0.9\n", 1, "expected one distribution"),
    ("algo.gamma: {choice: []}\n", 1, "at least one value"),
    ("algo.n_epochs: {int: [1.5, 4]}\n", 1, "algo.n_epochs.int"),
    ("algo.gamma: {uniform: [0.9, 1.5]}\n", 1, "value 1.5 is not valid"),
    ("policy.activation: {choice: [tanh, sigmoid]}\n", 1, "value 'sigmoid' is not valid"),
    ("algo.n_steps: {choice: [16, 0]}\n", 1, "value 0 is not valid"),
    ("algo: {choice: [1, 2]}\n", 1, "expected a dotted config key"),
    ("logging.runs_dir: {choice: [a, b]}\n", 1, "expected a dotted config key"),
    ("policy.critic: {choice: [separate, both]}\n", 1, "separate, shared, none"),
    ("policy.net_arch_width: {choice: [64, 0]}\n", 1, "integer widths >= 1"),
    (
        "env.kwargs.corridor_length: {int: [2, 5]}\nenv.kwargs.corridor_length: {int: [2, 6]}\n",
        2,
        "duplicate key",
    ),
    ("algo.gamma: {uniform: [0.9, 0.99]\n", 2, "YAML syntax error"),
    ("algo.learning_rate: {uniform: [0.0001, .inf]}\n", 1, "expected finite numbers"),
    ("algo.learning_rate: {log_uniform: [1.0e-5, .nan]}\n", 1, "expected finite numbers"),
    ("algo.n_epochs: {int: [1, 100000000000000000000]}\n", 1, "from -2**53 to 2**53"),
    ("algo.n_epochs: {int: [true, 4]}\n", 1, "expected [low, high] of numbers"),
    ("algo.learning_rate: {choice: [.nan, 0.001]}\n", 1, "finite numbers among the choices"),
    ("- algo.gamma\n", 1, "expected a mapping of dotted config keys"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), BAD_SPACES)
def test_bad_space_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    config = write_tiny(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(UserError) as caught:
        load_space(bad, load_config(config).data)
    message = str(caught.value)
    assert message.startswith(f"{bad}:{line}:"), message
    assert fragment in message, message


def test_bad_space_on_the_command_line_writes_nothing(tmp_path: Path) -> None:
    write_tiny(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "algo.gamma: {uniform: [0.9, 0.99]}\npolicy.lstm_size: {int: [8, 64]}\n"
    )
    done = run_cli("tune", "tiny.yaml", "--space", "bad.yaml", "--trials", "2", cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "bad.yaml:2:1: policy.lstm_size: unknown key")
    assert not (tmp_path / "runs").exists()
    for args, fragment in (
        (["--trials", "0"], "--trials 0"),
        (["--storage", "not a url"], "not a database URL"),
        (["--storage", "postgresql://nobody@127.0.0.1:1/x"], "cannot open the database"),
        (["--set", "algo.n_step=3"], "algo.n_step: unknown key"),
        (["--study", "../x"], "--study ../x"),
    ):
        done = run_cli("tune", "tiny.yaml", *args, cwd=tmp_path)
        assert_one_error(done.returncode, done.stderr, fragment)
    assert not (tmp_path / "runs").exists()


def test_default_space_samples_every_lstm_key_and_loads() -> None:
    space = default_space()
    loaded = load_config(CONFIGS / "cartpole_novel.yaml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    lstm_keys = {
        "algo.n_steps",  # the rollout length (and sequence length by default)
        "algo.sequence_length",
        "algo.refresh_states",
        "policy.memory",
        "policy.lstm_hidden_size",
        "policy.n_lstm_layers",
        "policy.forget_bias",
        "policy.enable_critic_lstm",
        "policy.shared_lstm",
        "policy.net_arch",
        "policy.activation",
    }
    critics, clamped, lengths, refresh, memories = set(), 0, set(), set(), set()
    for _ in range(40):
        trial = study.ask()
        sampled = sample(trial, space, loaded.config)
        assert lstm_keys <= sampled.values.keys()
        critics.add((sampled.values["policy.enable_critic_lstm"], sampled.values["policy.shared_lstm"]))
        clamped += bool(sampled.constrained)
        config = load_config(CONFIGS / "cartpole_novel.yaml", sampled.overrides).config  # never rejected
        assert config.algo.batch_size <= config.algo.n_steps * config.env.n_envs
        lengths.add(config.algo.sequence_length is None or config.algo.sequence_length < config.algo.n_steps)
        refresh.add(config.algo.refresh_states)
        memories.add(config.policy.memory)
        study.tell(trial, 0.0)
    assert critics == {(True, False), (False, True), (False, False)}
    assert lengths == refresh == {True, False}  # both options sampled on and off
    assert memories == {"lstm", "gru"}
    assert clamped > 0  # batch sizes above the rollout were clamped, and said so


def test_sequence_options_are_clamped_to_the_config() -> None:
    """sequence_length at most n_steps; neither option nor the GRU with implementation: sb3 (refused)."""
    loaded = load_config(CONFIGS / "cartpole_novel.yaml")  # n_steps 32
    space = SearchSpace(
        {
            "algo.sequence_length": Distribution.model_validate({"choice": [64]}),
            "algo.refresh_states": Distribution.model_validate({"choice": [True]}),
            "policy.memory": Distribution.model_validate({"choice": ["gru"]}),
        }
    )
    study = optuna.create_study()
    sampled = sample(study.ask(), space, loaded.config)
    assert sampled.values == {"algo.sequence_length": 32, "algo.refresh_states": True, "policy.memory": "gru"}
    assert sampled.constrained == ["algo.sequence_length 64 -> 32 (at most n_steps)"]
    sb3 = load_config(CONFIGS / "cartpole_novel.yaml", ["algo.implementation=sb3"])
    sampled = sample(study.ask(), space, sb3.config)
    assert sampled.values == {
        "algo.sequence_length": None,
        "algo.refresh_states": False,
        "policy.memory": "lstm",
    }
    assert len(sampled.constrained) == 3
    load_config(CONFIGS / "cartpole_novel.yaml", ["algo.implementation=sb3", *sampled.overrides])


SHIPPED_SPACES = {
    "cartpole_novel.yaml": ["cartpole_novel.yaml", "cartpole_flicker.yaml"],
    "pendulum_novel.yaml": ["pendulum_novel.yaml"],
    "pendulum_novel_narrow.yaml": ["pendulum_novel.yaml"],
    "pendulum_novel_seeds.yaml": ["pendulum_novel.yaml", "tuned/pendulum_novel.yaml"],
    "count_recall.yaml": ["count_recall.yaml"],
    "count_recall_seeds.yaml": ["count_recall.yaml"],
}


def test_shipped_spaces_and_tuned_configs_load() -> None:
    assert sorted(path.name for path in (CONFIGS / "spaces").glob("*.yaml")) == sorted(SHIPPED_SPACES)
    for space, bases in SHIPPED_SPACES.items():
        for base in bases:
            load_space(CONFIGS / "spaces" / space, load_config(CONFIGS / base).data)
    tuned = [path for path in (CONFIGS / "tuned").glob("*.yaml") if path.name != "verify.yaml"]
    assert tuned
    for path in tuned:
        text = path.read_text()
        assert "recurrent-rl tune " in text  # the command that found it
        load_config(path)
