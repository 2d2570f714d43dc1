"""CartPole and Pendulum with the velocities hidden, exactly as rl-baselines3-zoo's ``*NoVel`` envs."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.envs.classic_control.pendulum import PendulumEnv, angle_normalize

from envs._validation import check_choice, check_float, check_int
from envs.wrappers import masked_box

__all__ = ["CartPoleNoVelEnv", "PendulumNoVelEnv"]

ObsType = npt.NDArray[np.float32]
RENDER_MODES = ["ansi", "rgb_array"]


def _hide(
    env: gym.Env[Any, Any],
    observation: ObsType,
    visible: npt.NDArray[np.intp],
    hidden: npt.NDArray[np.intp],
    noise_std: float,
) -> ObsType:
    """Zero ``hidden`` entries; add N(0, noise_std^2) noise (from ``env.np_random``) to ``visible`` ones."""
    out = np.array(observation, dtype=np.float32, copy=True)
    out[hidden] = 0.0
    if noise_std > 0.0:
        box = env.observation_space
        assert isinstance(box, gym.spaces.Box)
        noisy = out[visible] + env.np_random.normal(0.0, noise_std, size=visible.shape)
        out[visible] = np.clip(noisy, box.low[visible], box.high[visible])
    return out


def _warn_no_render_mode() -> None:
    """Gymnasium's warning for ``render()`` without a render mode (what CartPoleEnv and PendulumEnv do)."""
    gym.logger.warn(
        "You are calling render method without specifying any render mode. "
        'You can specify the render_mode at initialization, e.g. render_mode="rgb_array"'
    )


class CartPoleNoVelEnv(CartPoleEnv):
    """
    ## Description

    Gymnasium's ``CartPole-v1`` (balance a pole on a cart by pushing the cart left or right) where the
    agent sees only the cart position and the pole angle: the cart velocity and the pole angular velocity
    are replaced by 0.0, exactly as rl-baselines3-zoo's ``CartPoleNoVel-v1`` (``MaskVelocityWrapper``,
    indices 1 and 3), so returns compare with the zoo's published numbers (RecurrentPPO: 500).

    **What is hidden:** both velocities. **Memory:** short, a couple of steps: the velocities are the
    differences of consecutive positions/angles divided by ``tau = 0.02`` s, so a policy that remembers the
    previous observation (and action) can recover them; the return is only as good as that estimate over
    the whole 500-step episode.

    ## Action Space

    ``Discrete(2)``: 0 pushes the cart to the left, 1 to the right (as ``CartPole-v1``).

    ## Observation Space

    ``Box(4,)`` float32, the shape of ``CartPole-v1``:

    | Num | Observation           | Min     | Max    |
    |-----|-----------------------|---------|--------|
    | 0   | Cart Position         | -4.8    | 4.8    |
    | 1   | Cart Velocity         | always 0.0 (bounds -1, 1) |
    | 2   | Pole Angle            | -0.418  | 0.418  |
    | 3   | Pole Angular Velocity | always 0.0 (bounds -1, 1) |

    The zoo keeps CartPole's infinite bounds for the masked entries; here they are (-1, 1), which changes
    nothing for the agent (SB3 policies and ``VecNormalize`` ignore bounds) but keeps ``check_env`` quiet.
    With ``noise_std > 0`` the visible entries get Gaussian noise, clipped to the bounds above.

    ## Rewards

    +1 per step, including the terminating one (``sutton_barto_reward=True``: 0 per step, -1 on failure).
    **Optimal return:** 500 (balance until the time limit), reached by RecurrentPPO in the zoo.
    **Best memoryless return:** not known exactly; about 45-50: pushing towards the side the pole leans
    to gets 39, the best linear reactive policy on (x, theta) found by random search (deterministic or
    stochastic) 44-52, because without velocities a reactive policy cannot damp the oscillation
    (an estimate, not a bound).

    ## Starting State

    All four state variables uniform in (-0.05, 0.05) (``options={"low": .., "high": ..}`` as CartPole).

    ## Episode End

    1. Termination: pole angle beyond +-12 degrees or cart position beyond +-2.4.
    2. Truncation: 500 steps, by the ``TimeLimit`` of the registry (``max_episode_steps=500``).

    ``info["is_success"]``: success means balancing for ``success_steps`` steps (default 500, the
    registry's time limit, so success == reaching the time limit). The env counts its own steps (the
    ``TimeLimit`` wrapper is outside it) and reports the outcome as soon as it is decided: ``False`` on
    the step the pole falls before that, ``True`` on every step from step ``success_steps`` on. So it is
    present at every episode end under the registered limit; with a longer ``max_episode_steps`` it is
    also correct at the end, and missing only for an episode truncated before ``success_steps``.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`), both velocities of the state the returned observation was taken from:

    | Key                     | Kind       | Value                                   | Visible |
    |-------------------------|------------|-----------------------------------------|---------|
    | `cart_velocity`         | continuous | ``state[1]``, m/s (before masking)      | never   |
    | `pole_angular_velocity` | continuous | ``state[3]``, rad/s (before masking)    | never   |

    ## Arguments

    | Parameter             | Type          | Default | Description                                          |
    |-----------------------|---------------|---------|------------------------------------------------------|
    | `noise_std`           | float >= 0    | 0.0     | std of Gaussian noise on the visible entries         |
    | `success_steps`       | int >= 1      | 500     | steps to balance for ``is_success``                  |
    | `sutton_barto_reward` | bool          | False   | CartPole's alternative reward                        |
    | `render_mode`         | str or None   | None    | ``"ansi"`` or ``"rgb_array"`` (150x100, numpy-drawn) |

    ```python
    >>> import gymnasium as gym, envs
    >>> env = gym.make("RecurrentRL/CartPoleNoVel-v1")
    >>> obs, info = env.reset(seed=0)
    >>> float(obs[1]), float(obs[3])
    (0.0, 0.0)

    ```
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 50}
    VELOCITY_INDICES = (1, 3)
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"cart_velocity": "continuous", "pole_angular_velocity": "continuous"}

    def __init__(
        self,
        noise_std: float = 0.0,
        success_steps: int = 500,
        sutton_barto_reward: bool = False,
        render_mode: str | None = None,
    ) -> None:
        check_choice("render_mode", render_mode, [None, *RENDER_MODES])
        check_choice("sutton_barto_reward", sutton_barto_reward, [False, True])
        self.noise_std = check_float("noise_std", noise_std, 0.0, 1e6)
        self.success_steps = check_int("success_steps", success_steps, 1)
        super().__init__(sutton_barto_reward=bool(sutton_barto_reward), render_mode=render_mode)
        self._hidden = np.array(self.VELOCITY_INDICES, dtype=np.intp)
        self._visible = np.setdiff1d(np.arange(4), self._hidden).astype(np.intp)
        assert isinstance(self.observation_space, gym.spaces.Box)
        self.observation_space = masked_box(self.observation_space, self._hidden)
        self._elapsed = 0
        self._succeeded = False
        self._last_action: int | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        self._elapsed = 0
        self._succeeded = False
        self._last_action = None
        info.update(self._hidden_info())
        return _hide(self, obs, self._visible, self._hidden, self.noise_std), info

    def _hidden_info(self) -> dict[str, Any]:
        assert self.state is not None
        state = self.state
        return {
            "hidden_state": {"cart_velocity": float(state[1]), "pole_angular_velocity": float(state[3])},
            "hidden_state_visible": {"cart_velocity": False, "pole_angular_velocity": False},
        }

    def step(self, action: int | np.ndarray) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._elapsed += 1
        self._last_action = int(action)
        if self._elapsed == self.success_steps and not terminated:
            self._succeeded = True
        if terminated or self._succeeded:
            info["is_success"] = self._succeeded
        info.update(self._hidden_info())
        return (
            _hide(self, obs, self._visible, self._hidden, self.noise_std),
            reward,
            terminated,
            truncated,
            info,
        )

    def render(self) -> Any:
        if self.render_mode is None:
            return _warn_no_render_mode()
        if self.state is None:
            return None
        x, _, theta, _ = (float(v) for v in self.state)
        if self.render_mode == "ansi":
            width = 41
            col = int(round((x + self.x_threshold) / (2 * self.x_threshold) * (width - 1)))
            col = min(max(col, 0), width - 1)
            pole = "|" if abs(theta) < 0.035 else ("/" if theta > 0 else "\\")
            top = [" "] * width
            top[col] = pole
            track = ["-"] * width
            track[col] = "C"
            return (
                f"step {self._elapsed}  x={x:+.3f}  theta={np.degrees(theta):+.1f} deg  "
                "(agent sees x, theta; velocities hidden)\n" + "".join(top) + "\n" + "".join(track) + "\n"
            )
        from envs import _render

        height, width = 100, 150
        image = _render.blank(height, width)
        scale = width / (2 * self.x_threshold)
        track_row = 70
        cart_col = x * scale + width / 2
        _render.fill_rect(image, track_row, track_row + 1, 0, width, _render.BLACK)
        _render.fill_rect(image, track_row - 6, track_row + 4, cart_col - 10, cart_col + 10, _render.BLACK)
        pole_len = scale * 2 * self.length
        axle = (track_row - 6.0, cart_col)
        tip = (axle[0] - pole_len * np.cos(theta), axle[1] + pole_len * np.sin(theta))
        _render.draw_line(image, axle, tip, 3, (202, 152, 101))
        _render.fill_disc(image, axle[0], axle[1], 2, (129, 132, 203))
        return image


class PendulumNoVelEnv(PendulumEnv):
    """
    ## Description

    Gymnasium's ``Pendulum-v1`` (swing a pendulum up and keep it upright with a bounded torque) where the
    agent sees ``cos(theta)`` and ``sin(theta)`` but not the angular velocity, which is replaced by 0.0,
    exactly as rl-baselines3-zoo's ``PendulumNoVel-v1`` (``MaskVelocityWrapper``, index 2), so returns
    compare with the zoo's published numbers (RecurrentPPO: -217.9 +- 140.1 after 100k steps).

    **What is hidden:** the angular velocity. **Memory:** short, two consecutive angles give the velocity
    (``dt = 0.05`` s), but it must be tracked through the whole swing-up.

    ## Action Space

    ``Box(-2.0, 2.0, (1,), float32)``: the torque, as ``Pendulum-v1``. It is deliberately not rescaled to
    [-1, 1] (which both env checkers recommend) so that results and the zoo's hyperparameters carry over.

    ## Observation Space

    ``Box(3,)`` float32, the shape of ``Pendulum-v1``:

    | Num | Observation      | Min  | Max |
    |-----|------------------|------|-----|
    | 0   | x = cos(theta)   | -1.0 | 1.0 |
    | 1   | y = sin(theta)   | -1.0 | 1.0 |
    | 2   | Angular Velocity | always 0.0 (bounds -8, 8) |

    With ``noise_std > 0`` entries 0 and 1 get Gaussian noise, clipped to [-1, 1].

    ## Rewards

    ``-(theta^2 + 0.1 theta_dot^2 + 0.001 torque^2)`` per step with theta normalised to [-pi, pi]
    (0 upright), as ``Pendulum-v1``; between -16.27 and 0.
    **Optimal return:** about -150 (the full-state optimum of ``Pendulum-v1``; a recurrent agent can
    approach it, the zoo reports -217.9 +- 140.1 for RecurrentPPO).
    **Best memoryless return:** about -1100: zero torque gets -1190 and the best reactive policy found by
    random search (torque a function of cos, sin) -1100, because a torque that depends on the angle alone
    does no net work over a back-and-forth swing, so it cannot pump energy to swing up (an estimate,
    not a bound).

    ## Starting State

    Angle uniform in [-pi, pi], angular velocity uniform in [-1, 1] (``options`` as ``Pendulum-v1``).

    ## Episode End

    Truncation only: 200 steps, by the ``TimeLimit`` of the registry (``max_episode_steps=200``).
    There is no success criterion, so ``info["is_success"]`` is not reported.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`), for the state the returned observation was taken from:

    | Key                | Kind       | Value                               | Visible |
    |--------------------|------------|-------------------------------------|---------|
    | `angular_velocity` | continuous | ``state[1]``, rad/s, in [-8, 8]     | never   |

    ## Arguments

    | Parameter     | Type         | Default | Description                                          |
    |---------------|--------------|---------|------------------------------------------------------|
    | `noise_std`   | float >= 0   | 0.0     | std of Gaussian noise on cos(theta) and sin(theta)   |
    | `g`           | float        | 10.0    | gravity, in [0, 100]                                 |
    | `render_mode` | str or None  | None    | ``"ansi"`` or ``"rgb_array"`` (100x100, numpy-drawn) |
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 30}
    VELOCITY_INDICES = (2,)
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"angular_velocity": "continuous"}

    def __init__(self, noise_std: float = 0.0, g: float = 10.0, render_mode: str | None = None) -> None:
        check_choice("render_mode", render_mode, [None, *RENDER_MODES])
        self.noise_std = check_float("noise_std", noise_std, 0.0, 1e6)
        super().__init__(render_mode=render_mode, g=check_float("g", g, 0.0, 100.0))
        self._hidden = np.array(self.VELOCITY_INDICES, dtype=np.intp)
        self._visible = np.array([0, 1], dtype=np.intp)
        assert isinstance(self.observation_space, gym.spaces.Box)
        self.observation_space = masked_box(self.observation_space, self._hidden)
        self.last_u: float | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        info.update(self._hidden_info())
        return _hide(self, obs, self._visible, self._hidden, self.noise_std), info

    def _hidden_info(self) -> dict[str, Any]:
        return {
            "hidden_state": {"angular_velocity": float(self.state[1])},
            "hidden_state_visible": {"angular_velocity": False},
        }

    def step(self, action: np.ndarray) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        info.update(self._hidden_info())
        return (
            _hide(self, obs, self._visible, self._hidden, self.noise_std),
            reward,
            terminated,
            truncated,
            info,
        )

    def render(self) -> Any:
        if self.render_mode is None:
            return _warn_no_render_mode()
        theta = float(self.state[0])
        torque = 0.0 if self.last_u is None else float(self.last_u)
        if self.render_mode == "ansi":
            return (
                f"theta={np.degrees(angle_normalize(theta)):+.1f} deg (0 = upright)  torque={torque:+.2f}  "
                "(agent sees cos, sin; angular velocity hidden)\n"
            )
        from envs import _render

        size = 100
        image = _render.blank(size, size)
        centre = size / 2
        rod = 0.4 * size
        tip = (centre - rod * np.cos(theta), centre - rod * np.sin(theta))
        _render.draw_line(image, (centre, centre), tip, 8, (204, 77, 77))
        _render.fill_disc(image, centre, centre, 3, _render.BLACK)
        bar = torque / self.max_torque * (size / 2 - 5)
        _render.fill_rect(
            image, size - 6, size - 2, min(centre, centre + bar), max(centre, centre + bar) + 1, (60, 60, 200)
        )
        return image
