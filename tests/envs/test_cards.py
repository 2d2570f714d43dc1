"""RepeatPrevious and CountRecall: API checks, seeding, pickling, and proof that they need memory."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

from envs.cards import CountRecallEnv, RepeatPreviousEnv, count_recall_memoryless_best
from tests.helpers.env_policies import (
    CountRecallMemory,
    RepeatPreviousMemory,
    TableMemoryless,
    assert_checkers_silent,
    assert_pickle_continues,
    assert_seeding,
    run_episode,
    without_hidden,
)

REPEAT = "RecurrentRL/RepeatPrevious-v0"
COUNT = "RecurrentRL/CountRecall-v0"
ACTIONS = [0, 1, 2, 3, 1, 1, 0, 2] * 20


def dealt_cards(env: gym.Env, episodes: int) -> np.ndarray:
    """The card sequences of seeded episodes (cards do not depend on actions), shape (episodes, T)."""
    out = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        cards, done = [], False
        while not done:
            cards.append(int(np.argmax(obs)))
            obs, _, done, truncated, _ = env.step(0)
            assert not truncated
        out.append(cards)
    return np.array(out)


def running_counts(cards: np.ndarray, n_cards: int, max_count: int) -> np.ndarray:
    """CountRecall targets: earlier appearances of each step's card, clipped."""
    onehot = np.eye(n_cards, dtype=np.int64)[cards]  # (episodes, T, n)
    before = np.cumsum(onehot, axis=1) - onehot
    return np.minimum(np.take_along_axis(before, cards[..., None], axis=2)[..., 0], max_count)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        (REPEAT, {}),
        (REPEAT, {"n_cards": 2, "k": 1, "episode_length": 2, "render_mode": "ansi"}),
        (REPEAT, {"n_cards": 8, "k": 32, "episode_length": 104, "render_mode": "rgb_array"}),
        (COUNT, {}),
        (COUNT, {"n_cards": 2, "episode_length": 1, "max_count": 1, "render_mode": "rgb_array"}),
        (COUNT, {"n_cards": 13, "episode_length": 208, "max_count": 15, "render_mode": "ansi"}),
    ],
)
def test_checkers_pass_without_warnings(env_id: str, kwargs: dict) -> None:
    assert_checkers_silent(env_id, **kwargs)


@pytest.mark.parametrize("env_id", [REPEAT, COUNT])
def test_seeding_and_pickling(env_id: str) -> None:
    assert_seeding(env_id, ACTIONS)
    assert_pickle_continues(env_id, ACTIONS, split=10)


def test_repeat_previous_rewards_and_info() -> None:
    env = RepeatPreviousEnv(n_cards=3, k=2, episode_length=5)
    obs, _ = env.reset(seed=1)
    cards = [int(np.argmax(obs))]
    answers = [0, 0, None, None, 2]  # None: answer right
    rewards, infos = [], []
    for t, answer in enumerate(answers):
        action = cards[t - 2] if answer is None else answer
        obs, reward, terminated, truncated, info = env.step(action)
        cards.append(int(np.argmax(obs)))
        rewards.append(reward)
        infos.append(info)
        assert terminated == (t == 4) and not truncated
    assert rewards[:2] == [0.0, 0.0]  # no target yet
    assert rewards[2:4] == [1 / 3, 1 / 3]
    assert rewards[4] == (1 / 3 if cards[2] == 2 else 0.0)
    assert [without_hidden(info) for info in infos[:4]] == [{}] * 4
    assert infos[4]["is_success"] == (cards[2] == 2)
    assert infos[4]["accuracy"] == pytest.approx(sum(rewards))


def test_count_recall_targets() -> None:
    env = CountRecallEnv(n_cards=2, episode_length=6, max_count=2)
    obs, _ = env.reset(seed=0)
    counts = [0, 0]
    for t in range(6):
        card = int(np.argmax(obs))
        assert env.target == min(counts[card], 2)
        obs, reward, terminated, _, info = env.step(min(counts[card], 2))
        assert reward == pytest.approx(1 / 6) and terminated == (t == 5)
        counts[card] += 1
    assert without_hidden(info) == {"is_success": True, "accuracy": 1.0}
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)


@pytest.mark.parametrize(("k", "episode_length"), [(4, 52), (32, 104), (64, 156)])  # POPGym Easy/Medium/Hard
def test_repeat_previous_memory_policy_is_optimal(k: int, episode_length: int) -> None:
    env = gym.make(REPEAT, k=k, episode_length=episode_length)
    for seed in range(50):
        ret, info = run_episode(env, RepeatPreviousMemory(k), seed=seed)
        assert ret == pytest.approx(1.0) and info["is_success"] and info["accuracy"] == 1.0


@pytest.mark.parametrize("kwargs", [{}, {"n_cards": 13, "episode_length": 208, "max_count": 15}])
def test_count_recall_memory_policy_is_optimal(kwargs: dict) -> None:
    env = gym.make(COUNT, **kwargs)
    n_cards, max_count = kwargs.get("n_cards", 4), kwargs.get("max_count", 8)
    for seed in range(50):
        ret, info = run_episode(env, CountRecallMemory(n_cards, max_count), seed=seed)
        assert ret == pytest.approx(1.0) and info["is_success"]


def test_repeat_previous_no_memoryless_policy_beats_chance() -> None:
    """All 4^4 maps from the current card to an answer score 1/n_cards (0.25), up to sampling noise."""
    env = RepeatPreviousEnv()
    cards = dealt_cards(env, 1000)
    k, n = env.k, env.n_cards
    maps = np.array(list(itertools.product(range(n), repeat=n)))  # (256, n)
    correct = maps[:, cards[:, k:]] == cards[None, :, :-k]  # (256, episodes, T - k)
    returns = correct.mean(axis=2)  # per policy and episode: the return
    assert returns.mean(axis=1).max() < 0.25 + 0.01  # sd of each mean ~0.002
    assert returns.mean(axis=1).min() > 0.25 - 0.01
    for i in (0, 27, 255):  # the offline evaluation is what the env pays
        policy = TableMemoryless(
            {np.eye(n, dtype=np.float32)[c].tobytes(): int(maps[i, c]) for c in range(n)}
        )
        for seed in range(3):
            assert run_episode(env, policy, seed=seed)[0] == pytest.approx(returns[i, seed])


def test_repeat_previous_chance_is_exact_on_a_small_case() -> None:
    """n_cards=2, k=1, T=3: every deterministic memoryless map scores exactly 1/2 over all card sequences."""
    for f in itertools.product(range(2), repeat=2):
        scores = [
            sum(f[seq[t]] == seq[t - 1] for t in (1, 2)) / 2 for seq in itertools.product(range(2), repeat=3)
        ]
        assert np.mean(scores) == 0.5


def test_count_recall_formula_matches_full_enumeration() -> None:
    """Exact best memoryless return for n_cards=3, T=5, max_count=2: all 3^5 deals x all 3^3 maps."""
    n, length, max_count = 3, 5, 2
    deals = np.array(list(itertools.product(range(n), repeat=length)))
    targets = running_counts(deals, n, max_count)
    best = max(
        float(np.mean(np.array(f)[deals] == targets))
        for f in itertools.product(range(max_count + 1), repeat=n)
    )
    assert count_recall_memoryless_best(n, length, max_count) == pytest.approx(best, abs=1e-12)


def test_count_recall_no_memoryless_policy_beats_the_bound() -> None:
    """The best of all 9^4 maps card -> answer, on sampled deals, matches the exact bound 0.12499."""
    env = CountRecallEnv()
    bound = count_recall_memoryless_best(env.n_cards, env.episode_length, env.max_count)
    assert bound == pytest.approx(0.12499, abs=1e-5)
    cards = dealt_cards(env, 1000)
    targets = running_counts(cards, env.n_cards, env.max_count)
    hits = np.zeros((env.n_cards, env.max_count + 1))
    np.add.at(hits, (cards, targets), 1)  # hits[c, v]: steps where card c has target v
    best_over_all_maps = hits.max(axis=1).sum() / cards.size  # the best map picks argmax_v per card
    assert best_over_all_maps < bound + 0.01
    assert best_over_all_maps > bound - 0.01
    always_zero = TableMemoryless({np.eye(4, dtype=np.float32)[c].tobytes(): 0 for c in range(4)})
    for seed in range(3):  # the offline evaluation is what the env pays
        ret = run_episode(env, always_zero, seed=seed)[0]
        assert ret == pytest.approx(np.mean(targets[seed] == 0))


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (RepeatPreviousEnv, {"k": 0}, "k=0 is out of range: expected an integer in [1, 1000]"),
        (RepeatPreviousEnv, {"n_cards": 1}, "n_cards=1 is out of range: expected an integer in [2, 64]"),
        (RepeatPreviousEnv, {"n_cards": 65}, "n_cards=65 is out of range: expected an integer in [2, 64]"),
        (
            RepeatPreviousEnv,
            {"k": 4, "episode_length": 4},
            "episode_length=4 is out of range: expected an integer in [5, 10000]",
        ),
        (
            RepeatPreviousEnv,
            {"k": 64, "episode_length": 52},
            "episode_length=52 is out of range: expected an integer in [65, 10000]",
        ),
        (CountRecallEnv, {"n_cards": 0}, "n_cards=0 is out of range: expected an integer in [2, 64]"),
        (
            CountRecallEnv,
            {"episode_length": 0},
            "episode_length=0 is out of range: expected an integer in [1, 10000]",
        ),
        (CountRecallEnv, {"max_count": 0}, "max_count=0 is out of range: expected an integer in [1, 1000]"),
        (CountRecallEnv, {"max_count": "8"}, "max_count='8' is invalid: expected an integer in [1, 1000]"),
        (CountRecallEnv, {"render_mode": "human"}, "render_mode='human' is invalid"),
    ],
)
def test_bad_arguments_raise(cls: type, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        cls(**kwargs)
    assert str(excinfo.value).startswith(message)


@pytest.mark.parametrize("cls", [RepeatPreviousEnv, CountRecallEnv])
def test_render(cls: type) -> None:
    text_env = cls(render_mode="ansi")
    text_env.reset(seed=0)
    assert isinstance(text_env.render(), str)
    image_env = cls(render_mode="rgb_array")
    image_env.reset(seed=0)
    done = False
    while not done:  # renders at every step, including after the last one
        image = image_env.render()
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        assert image.ndim == 3 and image.shape[2] == 3
        _, _, done, _, _ = image_env.step(0)
    assert cls().render() is None
