"""Saved runs brought back to life: the live env and policy of a run folder (:mod:`.live`), and what a saved
model is without running it (:mod:`.describe`, ``recurrent-rl inspect``)."""

from recurrent_rl.restore.live import Restored, restore

__all__ = ["Restored", "restore"]
