"""Which observation spaces training takes: the ones Stable-Baselines3's policies take.

Box, Discrete, MultiDiscrete and MultiBinary, and a Dict of those (one level). Anything else is refused
before a run folder exists, with the wrapper that cures it: a Tuple (or a Dict holding a Tuple or a Dict)
is flattened by ``gymnasium.wrappers:FlattenObservation``; a key SB3 cannot encode (a text mission, a
graph, a sequence) is dropped by ``gymnasium.wrappers:FilterObservation``.
"""

from __future__ import annotations

from gymnasium import spaces

from recurrent_rl.errors import UserError

#: The observation spaces SB3 policies encode (Dict: of these, one level).
FLAT = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
FLATTEN = "`- gymnasium.wrappers:FlattenObservation` in env.wrappers (one flat Box, Discrete parts one-hot)"


def check_observation_space(env_name: str, space: spaces.Space) -> None:
    """A UserError naming the cure when Stable-Baselines3 cannot take observations of ``space``."""
    what = f"env: {env_name} observes"
    if isinstance(space, FLAT):
        return
    if isinstance(space, spaces.Tuple):
        raise UserError(f"{what} a Tuple, which Stable-Baselines3 does not take: add {FLATTEN}")
    if not isinstance(space, spaces.Dict):
        raise UserError(f"{what} {type(space).__name__} observations, which Stable-Baselines3 does not take")
    nested = [key for key, sub in space.spaces.items() if isinstance(sub, spaces.Tuple | spaces.Dict)]
    if nested:
        raise UserError(
            f"{what} a Dict with a nested {type(space[nested[0]]).__name__} at key {nested[0]!r}, which "
            f"Stable-Baselines3 does not take: add {FLATTEN}"
        )
    other = {key: type(sub).__name__ for key, sub in space.spaces.items() if not isinstance(sub, FLAT)}
    if other:
        keep = [key for key in space.spaces if key not in other]
        key, kind = next(iter(other.items()))
        raise UserError(
            f"{what} a Dict whose key {key!r} is a {kind}, which Stable-Baselines3 does not take: keep the "
            f"others with `- gymnasium.wrappers:FilterObservation: {{filter_keys: {keep}}}` in env.wrappers"
        )
