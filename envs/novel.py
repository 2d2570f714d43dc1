"""CartPole and Pendulum with the velocities hidden, exactly as rl-baselines3-zoo's ``*NoVel`` envs.

Each env is in its own module (:mod:`envs.cartpole_novel`, :mod:`envs.pendulum_novel`; what they share in
:mod:`envs.velocity_hiding`); this module keeps their historical import path.
"""

from __future__ import annotations

from envs.cartpole_novel import CartPoleNoVelEnv
from envs.pendulum_novel import PendulumNoVelEnv

__all__ = ["CartPoleNoVelEnv", "PendulumNoVelEnv"]
