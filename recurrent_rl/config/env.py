"""The ``env`` section: which environment, its wrappers, and the vector env it runs in."""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal, get_args

from pydantic import Field, PrivateAttr, field_validator, model_validator

from recurrent_rl.config.common import MODULE_PATTERN, ConstraintError, Section

# Our wrappers, by name (their classes are envs.wrappers.WRAPPERS, checked against this by the tests).
WrapperName = Literal["mask_observation", "flicker", "observation_noise", "previous_action_reward"]
_IMPORT_PATH = re.compile(rf"^{MODULE_PATTERN}:{MODULE_PATTERN}$")


class WrapperSpec(Section):
    """One wrapper of ``env.wrappers`` and its keyword arguments. ``where``: the item's ``file:line:column``
    (set by the loader, for messages; not part of the config)."""

    name: str = Field(
        description="one of ours (mask_observation, flicker, observation_noise, previous_action_reward) or "
        "module:attr, a gymnasium.Wrapper class or a function of the env returning an env"
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments after the env")
    _where: str = PrivateAttr("")

    @field_validator("name")
    @classmethod
    def _known_or_import_path(cls, value: str) -> str:
        names = get_args(WrapperName)
        if value not in names and not _IMPORT_PATH.match(value):
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"unknown wrapper {value!r}; {hint}expected one of {', '.join(names)}, or an import path "
                "module:attr such as gymnasium.wrappers:FlattenObservation"
            )
        return value

    @property
    def module(self) -> str | None:
        """The module of an import path (None for our wrappers)."""
        return self.name.split(":", 1)[0] if ":" in self.name else None

    @property
    def where(self) -> str:
        return self._where

    def set_where(self, where: str) -> None:
        self._where = where

    def __eq__(self, other: object) -> bool:  # where it was written is not part of the setting
        if not isinstance(other, WrapperSpec):
            return NotImplemented
        return (self.name, self.kwargs) == (other.name, other.kwargs)

    def __hash__(self) -> int:
        return hash((self.name, repr(sorted(self.kwargs.items()))))


class NormalizeConfig(Section):
    """VecNormalize settings; ``normalize: true`` means observations and rewards."""

    obs: bool = Field(True, description="normalise observations with running mean and variance")
    reward: bool = Field(True, description="scale rewards by a running estimate of the return's spread")
    clip_obs: float = Field(
        10.0, gt=0, description="normalised observations are clipped to [-clip_obs, clip_obs]"
    )
    clip_reward: float = Field(
        10.0, gt=0, description="scaled rewards are clipped to [-clip_reward, clip_reward]"
    )


class EnvConfig(Section):
    """A registered ``id`` (``module:EnvId`` imports the module first) or an ``entry_point`` (module:attr).
    ``search_path``: folders searched first for those modules (the loader records the config's folder)."""

    id: str | None = Field(
        None,
        pattern=rf"^([^:]+|{MODULE_PATTERN}:.+)$",
        description="a registered Gymnasium id (an unknown id gets the closest registered ones), or "
        "module:EnvId to import the module first, such as my_pomdp:Blink-v0; exactly one of id and "
        "entry_point",
    )
    entry_point: str | None = Field(
        None,
        pattern=rf"^{MODULE_PATTERN}:{MODULE_PATTERN}$",
        description="instead of id: module:attr, an env class or a function returning an env, used without "
        "registering it (built with kwargs, wrappers and max_episode_steps just as a registered id)",
    )
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="constructor arguments of the env, such as {corridor_length: 10}"
    )
    wrappers: list[WrapperSpec] = Field(
        default_factory=list,
        description="POMDP wrappers, innermost first; an item is written '- flicker: {p: 0.2}', "
        "'- [flicker, {p: 0.2}]' or just '- previous_action_reward'",
    )
    n_envs: int = Field(8, ge=1, le=1024, description="parallel envs for collection")
    vec_env: Literal["auto", "dummy", "subproc", "batched"] = Field(
        "auto",
        description="auto: batched for our envs (with wrappers that have a batched version and no render "
        "mode), else dummy; dummy: DummyVecEnv; subproc: SubprocVecEnv, one process per env; batched: every "
        "copy in one numpy step (a config error for an env without a batched version)",
    )
    normalize: NormalizeConfig | None = Field(
        None,
        description="VecNormalize: false (none), true (observations and rewards), or a mapping with keys "
        "obs, reward, clip_obs, clip_reward",
    )
    frame_stack: int | None = Field(
        None,
        ge=1,
        le=256,
        description="k: stack the last k observations (the short-memory baseline); null: no stack",
    )
    import_: str | None = Field(
        None,
        alias="import",
        pattern=rf"^{MODULE_PATTERN}$",
        description="a module to import first: your file next to the config (my_pomdp), or an installed "
        "package that registers envs (mypkg.envs)",
    )
    search_path: list[str] | None = Field(
        None,
        description="folders searched first for the modules of import, id and entry_point, relative to the "
        "config's folder (null: the config's folder, then the current directory); the run's config.yaml "
        "records them as absolute paths",
    )
    max_episode_steps: int | None = Field(
        None,
        ge=1,
        description="time limit in steps (Gymnasium's TimeLimit: the episode ends truncated); overrides the "
        "registered limit, and is the only one for an entry_point; null: the registered limit",
    )

    @property
    def name(self) -> str:
        """The id or the entry point, for messages."""
        return self.id if self.id is not None else str(self.entry_point)

    def modules(self) -> list[str]:
        """The modules imported before the env is made: ``import``, then the module of id or entry point."""
        named = [
            self.import_,
            *(ref.split(":")[0] for ref in (self.id, self.entry_point) if ref and ":" in ref),
        ]
        return list(dict.fromkeys(name for name in named if name))

    @model_validator(mode="after")
    def _one_env(self) -> EnvConfig:
        if self.id is not None and self.entry_point is not None:
            expected = "exactly one of env.id and env.entry_point, not both"
            raise ConstraintError("env.entry_point", self.entry_point, expected)
        if self.id is None and self.entry_point is None:
            expected = "env.id (a registered id, or module:EnvId) or env.entry_point (module:attr)"
            raise ConstraintError("env.id", None, expected)
        return self

    @field_validator("wrappers", mode="before")
    @classmethod
    def _wrapper_items(cls, value: Any) -> Any:
        """Accept ``- flicker: {p: 0.2}``, ``- [flicker, {p: 0.2}]`` and ``- previous_action_reward``."""
        if not isinstance(value, list):
            return value
        items = []
        for item in value:
            if isinstance(item, str):
                items.append({"name": item})
            elif isinstance(item, list) and len(item) in (1, 2) and isinstance(item[0], str):
                items.append(
                    {"name": item[0], "kwargs": item[1] if len(item) == 2 and item[1] is not None else {}}
                )
            elif isinstance(item, dict) and len(item) == 1 and "name" not in item:
                ((name, kwargs),) = item.items()
                items.append({"name": name, "kwargs": {} if kwargs is None else kwargs})
            else:
                items.append(item)
        return items

    @field_validator("normalize", mode="before")
    @classmethod
    def _normalize_flag(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        return value
