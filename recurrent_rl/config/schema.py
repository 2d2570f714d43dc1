"""The experiment schema: one YAML file, five sections, validated when it loads.

Keys of ``algo`` are named exactly as the Stable-Baselines3 constructor arguments. Schedules are data
(``{linear: [start, end]}``), never code. Loading, ``base:`` inheritance, ``--set`` overrides and error
messages live in :mod:`recurrent_rl.config.loader`.

Names that select a class (activation, features extractor) are stated once, as the Literals below; the
classes they select live in :mod:`recurrent_rl.algo`, whose tables are checked against these Literals
(the wrapper names' classes in :mod:`envs.wrappers`, checked by the tests).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

RECURRENT_POLICIES = ("MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy")
MEMORYLESS_POLICIES = ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
ActivationName = Literal["tanh", "relu", "elu", "leaky_relu", "gelu", "silu"]
FeatureExtractorName = Literal["nature_cnn", "small_cnn"]
WrapperName = Literal["mask_observation", "flicker", "observation_noise", "previous_action_reward"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MODULE = r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*"  # a dotted module (or attribute) name
_IMPORT_PATH = re.compile(rf"^{_MODULE}:{_MODULE}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LinearSchedule(_Section):
    """``{linear: [start, end]}``: goes from ``start`` at the first update to ``end`` at the last."""

    linear: tuple[float, float]

    @field_validator("linear")
    @classmethod
    def _non_negative(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) < 0:
            raise ValueError("schedule values must be >= 0")
        return value

    def __call__(self, progress_remaining: float) -> float:
        start, end = self.linear
        return end + (start - end) * progress_remaining

    @property
    def start(self) -> float:
        return self.linear[0]


Schedule = float | LinearSchedule


class WrapperSpec(_Section):
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


class NormalizeConfig(_Section):
    """VecNormalize settings; ``normalize: true`` means observations and rewards."""

    obs: bool = True
    reward: bool = True
    clip_obs: float = Field(10.0, gt=0)
    clip_reward: float = Field(10.0, gt=0)


class EnvConfig(_Section):
    """A registered ``id`` (``module:EnvId`` imports the module first) or an ``entry_point`` (module:attr).
    ``search_path``: folders searched first for those modules (the loader records the config's folder)."""

    id: str | None = Field(None, pattern=rf"^([^:]+|{_MODULE}:.+)$")
    entry_point: str | None = Field(None, pattern=rf"^{_MODULE}:{_MODULE}$")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    wrappers: list[WrapperSpec] = Field(default_factory=list)
    n_envs: int = Field(8, ge=1, le=1024)
    vec_env: Literal["auto", "dummy", "subproc", "batched"] = "auto"  # auto: batched if available, else dummy
    normalize: NormalizeConfig | None = None
    frame_stack: int | None = Field(None, ge=1, le=256)
    import_: str | None = Field(None, alias="import", pattern=rf"^{_MODULE}$")
    search_path: list[str] | None = None
    max_episode_steps: int | None = Field(None, ge=1)

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


class AlgoConfig(_Section):
    name: Literal["recurrent_ppo", "ppo"] = "recurrent_ppo"
    implementation: Literal["fast", "sb3"] = "fast"
    learning_rate: Schedule = 3e-4
    n_steps: int = Field(128, ge=1)
    batch_size: int = Field(128, ge=2)
    n_epochs: int = Field(10, ge=1)
    gamma: float = Field(0.99, ge=0, le=1)
    gae_lambda: float = Field(0.95, ge=0, le=1)
    clip_range: Schedule = 0.2
    clip_range_vf: Schedule | None = None
    normalize_advantage: bool = True
    ent_coef: float = Field(0.0, ge=0)
    vf_coef: float = Field(0.5, ge=0)
    max_grad_norm: float = Field(0.5, gt=0)
    use_sde: bool = False
    sde_sample_freq: int = Field(-1, ge=-1)
    target_kl: float | None = Field(None, gt=0)

    @field_validator("learning_rate", "clip_range", "clip_range_vf")
    @classmethod
    def _positive(cls, value: Schedule | None) -> Schedule | None:
        if isinstance(value, float) and value <= 0:
            raise ValueError("must be > 0")
        if isinstance(value, LinearSchedule) and value.start <= 0:
            raise ValueError("the schedule must start > 0")
        return value


class PolicyConfig(_Section):
    type: str = "MlpLstmPolicy"
    lstm_hidden_size: int = Field(64, ge=1, le=4096)
    n_lstm_layers: int = Field(1, ge=1, le=8)
    enable_critic_lstm: bool = True
    shared_lstm: bool = False
    # Added to every LSTM's forget-gate bias at initialisation: +b keeps a cell's content for about
    # 1 + e^b steps instead of ~2, so a cue seen 100 steps back still reaches the gradient (see the README).
    forget_bias: float = Field(0.0, ge=-10, le=10)
    net_arch: list[int] | dict[Literal["pi", "vf"], list[int]] | None = None
    activation: ActivationName = "tanh"
    ortho_init: bool = True
    # Cnn* policies only: the image feature extractor and its output size (None: the extractor's default).
    features_extractor: FeatureExtractorName = "nature_cnn"
    features_dim: int | None = Field(None, ge=1, le=4096)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        valid = RECURRENT_POLICIES + MEMORYLESS_POLICIES
        if value not in valid:
            raise ValueError(f"unknown policy type; expected one of {', '.join(valid)}")
        return value

    @field_validator("net_arch")
    @classmethod
    def _layer_sizes(cls, value: Any) -> Any:
        layers = value if isinstance(value, list) else sum((value or {}).values(), [])
        if any(size < 1 for size in layers):
            raise ValueError("layer sizes must be >= 1")
        return value


class StopAt(_Section):
    """Stop early once an evaluation reaches one of these (both may be given: either suffices)."""

    success_rate: float | None = Field(None, gt=0, le=1)
    mean_return: float | None = None

    @model_validator(mode="after")
    def _one_target(self) -> StopAt:
        if self.success_rate is None and self.mean_return is None:
            raise ValueError("give success_rate and/or mean_return")
        return self


class TrainConfig(_Section):
    total_timesteps: int = Field(100_000, ge=1)
    seed: int = Field(0, ge=0, lt=2**31)
    device: Literal["cpu", "auto", "cuda"] = "cpu"
    eval_freq: int = Field(10_000, ge=0)
    n_eval_episodes: int = Field(20, ge=1)
    eval_deterministic: bool = True
    checkpoint_freq: int = Field(50_000, ge=0)
    keep_checkpoints: int | None = Field(5, ge=1)  # the newest N (and the best evaluation's); null: all
    stop_at: StopAt | None = None
    torch_threads: int = Field(1, ge=1, le=256)
    progress_bar: bool | None = None


class LoggingConfig(_Section):
    experiment: str | None = None
    runs_dir: str = "runs"

    @field_validator("experiment")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("must be a folder name of letters, digits, '_', '-', '.'")
        return value


class Config(_Section):
    env: EnvConfig
    algo: AlgoConfig = Field(default_factory=AlgoConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        """Cross-section constraints that Stable-Baselines3 would only find when the model is built."""
        algo, policy = self.algo, self.policy
        rollout = algo.n_steps * self.env.n_envs
        if rollout < 2:
            raise ConstraintError("algo.n_steps", algo.n_steps, "n_steps * env.n_envs must be > 1")
        if algo.batch_size > rollout:
            raise ConstraintError(
                "algo.batch_size",
                algo.batch_size,
                f"at most algo.n_steps * env.n_envs = {algo.n_steps} * {self.env.n_envs} = {rollout}",
            )
        recurrent = algo.name == "recurrent_ppo"
        if recurrent and policy.type not in RECURRENT_POLICIES:
            raise ConstraintError(
                "policy.type", policy.type, f"one of {', '.join(RECURRENT_POLICIES)} for recurrent_ppo"
            )
        # LSTM keys are ignored by ppo, so a memoryless baseline can inherit (base:) its recurrent config.
        if not recurrent and policy.type not in MEMORYLESS_POLICIES:
            expected = f"one of {', '.join(MEMORYLESS_POLICIES)} for ppo"
            raise ConstraintError("policy.type", policy.type, expected)
        if not policy.type.startswith("Cnn"):
            if policy.features_extractor != "nature_cnn":
                raise ConstraintError(
                    "policy.features_extractor",
                    policy.features_extractor,
                    "nature_cnn (the default) unless policy.type is a Cnn policy",
                )
            if policy.features_dim is not None:
                raise ConstraintError(
                    "policy.features_dim", policy.features_dim, "null unless policy.type is a Cnn policy"
                )
        if recurrent and policy.shared_lstm and policy.enable_critic_lstm:
            raise ConstraintError(
                "policy.shared_lstm",
                True,
                "shared_lstm: true needs enable_critic_lstm: false (choose one critic LSTM)",
            )
        stop = self.train.stop_at
        if stop is not None and self.train.eval_freq == 0:
            raise ConstraintError(
                "train.stop_at", stop.model_dump(exclude_none=True), "needs train.eval_freq > 0"
            )
        return self


class ConstraintError(ValueError):
    """A cross-key constraint, reported at the key that has to change."""

    def __init__(self, path: str, value: Any, expected: str) -> None:
        super().__init__(f"expected {expected}")
        self.path = path
        self.value = value
        self.expected = expected
