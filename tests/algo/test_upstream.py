"""The private sb3-contrib methods that ``recurrent_rl.algo`` overrides keep the signatures we wrote for.

``pyproject.toml`` bounds sb3-contrib to the releases checked here; a newer release that changes one of these
fails with a message naming the method, instead of training wrongly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import sb3_contrib
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer, RecurrentRolloutBuffer
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

# method -> parameter names it had when our overrides were written (sb3-contrib 2.9)
OVERRIDDEN: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "RecurrentActorCriticPolicy._process_sequence": (
        RecurrentActorCriticPolicy._process_sequence,
        ("features", "lstm_states", "episode_starts", "lstm"),
    ),
    "RecurrentRolloutBuffer._get_samples": (
        RecurrentRolloutBuffer._get_samples,
        ("self", "batch_inds", "env_change", "env"),
    ),
    "RecurrentDictRolloutBuffer._get_samples": (
        RecurrentDictRolloutBuffer._get_samples,
        ("self", "batch_inds", "env_change", "env"),
    ),
    "RecurrentRolloutBuffer.get": (RecurrentRolloutBuffer.get, ("self", "batch_size")),
}


@pytest.mark.parametrize("name", list(OVERRIDDEN))
def test_overridden_private_methods_keep_their_signature(name: str) -> None:
    method, expected = OVERRIDDEN[name]
    found = tuple(inspect.signature(method).parameters)
    assert found == expected, (
        f"sb3-contrib {sb3_contrib.__version__} changed {name}{found} (was {expected} in 2.9): "
        "recurrent_rl/algo overrides it; adapt the override, then widen the bound in pyproject.toml"
    )


def test_installed_release_is_within_the_bound() -> None:
    major, minor = (int(part) for part in sb3_contrib.__version__.split(".")[:2])
    assert (major, minor) == (2, 9), f"sb3-contrib {sb3_contrib.__version__}: pyproject.toml asks >=2.9,<2.10"
