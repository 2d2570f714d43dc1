"""Two-armed bandit whose better arm switches at random: the regime must be inferred from history."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import Env, spaces

from envs._validation import check_choice, check_float, check_int


def memoryless_expected_return(
    policies: np.ndarray, p_good: float = 0.8, switch_prob: float = 0.02, episode_length: int = 100
) -> np.ndarray:
    """Exact expected returns of memoryless policies on :class:`SwitchingBanditEnv`.

    ``policies`` has shape ``(m, 5)`` (or ``(5,)``): the probability of pulling arm 0 given the observation
    "first step" (column 0) or "previous arm ``a``, previous reward ``r``" (column ``1 + 2a + r``).
    The joint law of (better arm, previous arm, previous reward) is propagated forward exactly.
    """
    pol = np.atleast_2d(np.asarray(policies, dtype=np.float64))
    m = pol.shape[0]
    both = np.stack([pol, 1.0 - pol], axis=-1)  # (m, 5, 2): P(action | observation)
    first = both[:, 0]  # (m, 2)
    after = both[:, 1:].reshape(m, 2, 2, 2)  # (m, prev arm, prev reward, action)
    pay = np.array([[p_good, 1.0 - p_good], [1.0 - p_good, p_good]])  # pay[z, a] = P(reward 1)
    outcome = np.stack([1.0 - pay, pay], axis=-1)  # (z, a, r)
    joint = 0.5 * np.einsum("ma,zar->mzar", first, outcome)
    total = joint[..., 1].sum(axis=(1, 2))
    for _ in range(1, episode_length):
        joint = (1.0 - switch_prob) * joint + switch_prob * joint[:, ::-1]
        joint = np.einsum("mzpq,mpqa,zar->mzar", joint, after, outcome)
        total += joint[..., 1].sum(axis=(1, 2))
    return total if np.ndim(policies) > 1 else total[:1]


class SwitchingBanditEnv(Env[np.ndarray, np.int64]):
    """
    ## Description

    A two-armed Bernoulli bandit with a hidden regime, in the spirit of reversal-learning and
    non-stationary bandit tasks. The better arm pays 1
    with probability ``p_good``, the other with ``1 - p_good``; after every pull the better arm swaps with
    probability ``switch_prob``. The agent sees only what it did and got on the previous step, so it has
    to accumulate evidence over several pulls to know which arm is currently better.

    **What is hidden:** which arm is better. One reward is weak evidence (likelihood ratio
    ``p_good / (1 - p_good)`` = 4 by default), so the agent must integrate the last several outcomes;
    the regime lasts ``1 / switch_prob`` = 50 steps on average, which is the useful memory horizon.

    ## Action Space

    `Discrete(2)`: the arm to pull.

    ## Observation Space

    A float32 `Box(0, 1, (4,))`:

    | Index | Observation                                   | Values |
    |-------|-----------------------------------------------|--------|
    | 0, 1  | one-hot arm pulled on the previous step       | {0, 1} |
    | 2     | reward received on the previous step          | {0, 1} |
    | 3     | first step of the episode (indices 0-2 are 0) | {0, 1} |

    The previous arm is part of the observation on purpose: the LSTM does not see its own sampled
    actions, so without it the reward would be uninterpretable.

    ## Rewards

    The pulled arm's payout, 0 or 1. Figures for the defaults (``p_good=0.8, switch_prob=0.02``,
    ``episode_length=100``):

    - **Optimal expected return: 74.06** (+-0.01; simulated, 10^6 episodes). Both arms pay with the
      complementary probabilities, so a pull of either arm is equally informative and the Bayes-optimal
      policy is greedy: track ``b = P(arm 0 is better)`` by Bayes' rule on each outcome, mix it with
      ``switch_prob``, pull arm 0 iff ``b > 1/2``. It pulls the better arm 90.1% of the time.
      An oracle that sees the regime would get ``100 * p_good = 80``, which no agent can reach.
    - **Best memoryless policy: 67.11** (exact, :func:`memoryless_expected_return`): win-stay,
      lose-shift, which pulls the better arm 78.5% of the time. All 32 deterministic memoryless policies
      are enumerated (the observation takes 5 values) and stochastic ones on a grid do no better.
      Never switching, or choosing at random, earns 50.

    The gap (about 7 reward per episode, 90% vs 78.5% better-arm pulls) is what memory buys. Making
    ``switch_prob`` larger shrinks it (0.05: 70.0 vs 66.0), as does ``p_good`` close to 1 (one outcome is
    then nearly conclusive) or close to 0.5 (nothing can be learnt).

    ## Starting State

    The better arm is arm 0 or arm 1 with probability 1/2 (from ``self.np_random``); the first
    observation is ``[0, 0, 0, 1]``.

    ## Episode End

    Termination after ``episode_length`` pulls (no time-limit wrapper is needed). There is no
    ``is_success``: a good agent still loses many pulls, and the fraction of better-arm pulls, reported as
    ``info["better_arm_fraction"]`` on the final step, is the meaningful score (0.90 optimal,
    0.785 memoryless).

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`):

    | Key          | Kind     | Value                                           | Visible |
    |--------------|----------|-------------------------------------------------|---------|
    | `better_arm` | discrete | the better arm for the next pull, 0 or 1        | never   |

    It is the regime after the swap that may follow a pull, i.e. the one the next pull is paid by.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("RecurrentRL/SwitchingBandit-v0", p_good=0.7, switch_prob=0.01)

    ```

    | Parameter        | Type        | Default | Description                                       |
    |------------------|-------------|---------|---------------------------------------------------|
    | `p_good`         | float       | `0.8`   | payout probability of the better arm, (0.5, 1]    |
    | `switch_prob`    | float       | `0.02`  | chance the better arm swaps after each pull, 0-1  |
    | `episode_length` | int         | `100`   | pulls per episode, 1-10000                        |
    | `render_mode`    | str or None | `None`  | `"ansi"` (text) or `"rgb_array"` (uint8 image)    |
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"better_arm": "discrete"}

    def __init__(
        self,
        p_good: float = 0.8,
        switch_prob: float = 0.02,
        episode_length: int = 100,
        render_mode: str | None = None,
    ) -> None:
        self.p_good = check_float("p_good", p_good, 0.5, 1.0, low_open=True)
        self.switch_prob = check_float("switch_prob", switch_prob, 0.0, 1.0)
        self.episode_length = check_int("episode_length", episode_length, 1, 10_000)
        self.render_mode = check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(4,), dtype=np.float32)
        self._obs = np.zeros(4, dtype=np.float32)
        self._better = 0
        self._t = 0
        self._on_better = 0  # pulls of the better arm so far
        self._total = 0.0
        self._last: tuple[int, int] | None = None  # (arm, reward) of the previous pull

    def _observe(self) -> np.ndarray:
        obs = self._obs
        obs.fill(0.0)
        if self._last is None:
            obs[3] = 1.0
        else:
            obs[self._last[0]] = 1.0
            obs[2] = float(self._last[1])
        return obs.copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw the better arm and start a new episode."""
        super().reset(seed=seed)
        self._better = int(self.np_random.integers(0, 2))
        self._t = 0
        self._on_better = 0
        self._total = 0.0
        self._last = None
        return self._observe(), self._hidden_info()

    def _hidden_info(self) -> dict[str, Any]:
        return {
            "hidden_state": {"better_arm": float(self._better)},
            "hidden_state_visible": {"better_arm": False},
        }

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Pull an arm; then the better arm may swap."""
        a = int(action)
        if a not in (0, 1):
            raise ValueError(f"action={action!r} is invalid: expected 0 or 1")
        good = a == self._better
        win = int(self.np_random.random() < (self.p_good if good else 1.0 - self.p_good))
        self._on_better += good
        self._total += win
        self._last = (a, win)
        if self.np_random.random() < self.switch_prob:
            self._better = 1 - self._better
        self._t += 1
        terminated = self._t >= self.episode_length
        info = self._hidden_info()
        if terminated:
            info["better_arm_fraction"] = self._on_better / self.episode_length
        return self._observe(), float(win), terminated, False, info

    def render(self) -> str | np.ndarray | None:
        """``ansi``: one line of text; ``rgb_array``: two arms (better one green, last pull marked)."""
        if self.render_mode == "ansi":
            last = "none" if self._last is None else f"arm {self._last[0]} -> {self._last[1]}"
            return (
                f"t={self._t}/{self.episode_length} better=arm {self._better} last={last} "
                f"total={self._total:g} better_pulls={self._on_better}\n"
            )
        if self.render_mode == "rgb_array":
            img = np.full((40, 48, 3), 30, dtype=np.uint8)
            for arm in (0, 1):
                x = 4 + arm * 24
                img[4:28, x : x + 16] = (60, 180, 60) if arm == self._better else (150, 150, 150)
            if self._last is not None:
                x = 4 + self._last[0] * 24
                img[32:38, x : x + 16] = (240, 220, 40) if self._last[1] else (200, 40, 40)
            return img
        return None
