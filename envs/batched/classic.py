"""Batched CartPoleNoVel and PendulumNoVel: Gymnasium's dynamics written on arrays, operation for operation.

Each expression keeps the single env's order of operations and dtypes (float64 state, float32 torque and
observations), so every copy's floats are bit-identical to its single env's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.batched.core import Array, BatchedCore, StepResult
from envs.cartpole_novel import CartPoleNoVelEnv
from envs.pendulum_novel import PendulumNoVelEnv


def _hide(core: BatchedCore[Any], obs: Array, visible: Array, hidden: Array, noise_std: float) -> Array:
    """:func:`envs.velocity_hiding.hide` for all copies: zero ``hidden``, noise from each copy's generator."""
    obs[:, hidden] = 0.0
    if noise_std > 0.0:
        box = core.observation_space
        assert isinstance(box, spaces.Box)
        noise = np.stack([env.np_random.normal(0.0, noise_std, size=visible.shape) for env in core.envs])
        noisy = obs[:, visible] + noise
        obs[:, visible] = np.clip(noisy, box.low[visible], box.high[visible])
    return obs


class BatchedCartPoleNoVel(BatchedCore[CartPoleNoVelEnv]):
    """:class:`envs.cartpole_novel.CartPoleNoVelEnv` for ``n`` copies (Euler or semi-implicit Euler)."""

    env_class = CartPoleNoVelEnv

    def __init__(self, envs: list[CartPoleNoVelEnv]) -> None:
        super().__init__(envs)
        n, e = self.n_envs, self.env
        self.state = np.zeros((n, 4), dtype=np.float64)
        self.elapsed = np.zeros(n, dtype=np.int64)
        self.succeeded = np.zeros(n, dtype=bool)
        self._force = np.array([-e.force_mag, e.force_mag])
        self._limits = np.array([e.x_threshold, e.theta_threshold_radians])
        sutton_barto = e._sutton_barto_reward  # [pole up, pole just fell]; steps after a fall never happen
        self._reward = np.array([0.0, -1.0]) if sutton_barto else np.array([1.0, 1.0])
        self._never = np.zeros(n, dtype=bool)

    def load(self, index: int) -> None:
        env = self.envs[index]
        assert env.state is not None
        self.state[index] = env.state
        self.elapsed[index] = 0
        self.succeeded[index] = False

    def step(self, actions: Array) -> StepResult:
        e = self.env
        force = self._force[self._check_discrete(actions)]  # action 1: +force_mag, 0: -force_mag
        x, x_dot, theta, theta_dot = self.state.T
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + e.polemass_length * np.square(theta_dot) * sintheta) / e.total_mass
        thetaacc = (e.gravity * sintheta - costheta * temp) / (
            e.length * (4.0 / 3.0 - e.masspole * np.square(costheta) / e.total_mass)
        )
        xacc = temp - e.polemass_length * thetaacc * costheta / e.total_mass
        if e.kinematics_integrator == "euler":  # x, x_dot, theta, theta_dot each += tau * derivative
            self.state = self.state + e.tau * np.stack((x_dot, xacc, theta_dot, thetaacc), axis=1)
        else:  # semi-implicit euler
            x_dot = x_dot + e.tau * xacc
            theta_dot = theta_dot + e.tau * thetaacc
            self.state = np.stack((x + e.tau * x_dot, x_dot, theta + e.tau * theta_dot, theta_dot), axis=1)
        # |x| > limit is exactly x < -limit or x > limit
        terminated = np.any(np.abs(self.state[:, ::2]) > self._limits, axis=1)
        self.elapsed += 1
        self.succeeded |= (self.elapsed == e.success_steps) & ~terminated
        obs = _hide(self, self.state.astype(np.float32), e._visible, e._hidden, e.noise_std)
        extras = self.no_extras
        if np.count_nonzero(terminated) or np.count_nonzero(self.succeeded):
            extras = {
                i: {"is_success": bool(self.succeeded[i])}
                for i in np.flatnonzero(terminated | self.succeeded).tolist()
            }
        rewards = self._reward[terminated.view(np.int8)]
        return StepResult(obs, rewards, terminated, self._never, self.state[:, 1::2], None, extras)


def _angle_normalize(x: Array) -> Array:
    return ((x + np.pi) % (2 * np.pi)) - np.pi


class BatchedPendulumNoVel(BatchedCore[PendulumNoVelEnv]):
    """:class:`envs.pendulum_novel.PendulumNoVelEnv` for ``n`` copies."""

    env_class = PendulumNoVelEnv

    def __init__(self, envs: list[PendulumNoVelEnv]) -> None:
        super().__init__(envs)
        self.state = np.zeros((self.n_envs, 2), dtype=np.float64)
        self._never = np.zeros(self.n_envs, dtype=bool)

    def load(self, index: int) -> None:
        self.state[index] = self.envs[index].state

    def step(self, actions: Array) -> StepResult:
        e = self.env
        th, thdot = self.state.T
        g, m, length, dt = e.g, e.m, e.l, e.dt
        u = np.clip(np.asarray(actions).reshape(self.n_envs, -1)[:, 0], -e.max_torque, e.max_torque)
        costs = _angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * g / (2 * length) * np.sin(th) + 3.0 / (m * length**2) * u) * dt
        newthdot = np.clip(newthdot, -e.max_speed, e.max_speed)
        newth = th + newthdot * dt
        self.state = np.stack((newth, newthdot), axis=1)
        obs = np.stack((np.cos(newth), np.sin(newth), newthdot), axis=1).astype(np.float32)
        obs = _hide(self, obs, e._visible, e._hidden, e.noise_std)
        return StepResult(obs, -costs, self._never, self._never, self.state[:, 1:], None, self.no_extras)
