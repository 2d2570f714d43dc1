"""Where training time goes: seconds collecting rollouts, seconds updating the policy (``summary.json``)."""

from __future__ import annotations

import time

from stable_baselines3.common.callbacks import BaseCallback


class PhaseTimer(BaseCallback):
    """Adds up wall-clock seconds of rollout collection (``collect_s``, including the callbacks that run
    during it, such as periodic evaluation) and of the updates between rollouts (``train_s``)."""

    def __init__(self) -> None:
        super().__init__()
        self.collect_s = 0.0
        self.train_s = 0.0
        self._collect_start: float | None = None
        self._train_start: float | None = None

    def _close_train(self, now: float) -> None:
        if self._train_start is not None:
            self.train_s += now - self._train_start
            self._train_start = None

    def _on_rollout_start(self) -> None:
        now = time.perf_counter()
        self._close_train(now)
        self._collect_start = now

    def _on_rollout_end(self) -> None:
        now = time.perf_counter()
        if self._collect_start is not None:
            self.collect_s += now - self._collect_start
            self._collect_start = None
        self._train_start = now

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._close_train(time.perf_counter())
