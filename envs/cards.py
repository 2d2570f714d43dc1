"""POPGym-style card games: RepeatPrevious (recall the card k steps back) and CountRecall (count cards).

Each game is in its own module (:mod:`envs.repeat_previous`, :mod:`envs.count_recall`; what they share in
:mod:`envs.card_game`); this module keeps their historical import path.
"""

from __future__ import annotations

from envs.count_recall import CountRecallEnv, count_recall_memoryless_best
from envs.repeat_previous import RepeatPreviousEnv

__all__ = ["CountRecallEnv", "RepeatPreviousEnv", "count_recall_memoryless_best"]
