"""The ``policy`` section: the policy class, its memory (LSTM or GRU) and its MLP heads.

Names that select a class (memory, activation, features extractor) are stated once, as the Literals below;
the classes they select live in :mod:`recurrent_rl.algo`, whose tables are checked against these Literals.
The memory keys keep sb3-contrib's LSTM names (``lstm_hidden_size``, ``n_lstm_layers``, ...) and apply to
whichever memory ``memory`` chooses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from recurrent_rl.config.common import Section

RECURRENT_POLICIES = ("MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy")
MEMORYLESS_POLICIES = ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
ActivationName = Literal["tanh", "relu", "elu", "leaky_relu", "gelu", "silu"]
FeatureExtractorName = Literal["nature_cnn", "small_cnn", "minigrid_cnn"]
MemoryName = Literal["lstm", "gru"]


class PolicyConfig(Section):
    type: str = Field(
        "MlpLstmPolicy",
        description=f"the policy class: {', '.join(RECURRENT_POLICIES)} for recurrent_ppo; "
        f"{', '.join(MEMORYLESS_POLICIES)} for ppo",
    )
    memory: MemoryName = Field(
        "lstm",
        description="the recurrent cell: lstm (sb3-contrib's) or gru (algo.implementation fast only); the "
        "lstm_* keys, enable_critic_lstm, shared_lstm and forget_bias apply to either",
    )
    lstm_hidden_size: int = Field(64, ge=1, le=4096, description="units in each memory (LSTM or GRU) layer")
    n_lstm_layers: int = Field(1, ge=1, le=8, description="stacked memory (LSTM or GRU) layers")
    enable_critic_lstm: bool = Field(True, description="the critic has its own memory (LSTM or GRU)")
    shared_lstm: bool = Field(
        False, description="actor and critic share one memory (needs enable_critic_lstm: false)"
    )
    forget_bias: float = Field(
        0.0,
        ge=-10,
        le=10,
        description="added at initialisation to the bias of the gate that keeps the memory: the LSTM's "
        "forget gate f, the GRU's update gate z; +b keeps a unit's content for about 1 + e^b steps instead "
        "of ~2, so a cue seen 100 steps back still reaches the gradient; 5 for memories of ~100 steps",
    )
    net_arch: list[int] | dict[Literal["pi", "vf"], list[int]] | None = Field(
        None,
        description="the MLP layers after the memory: {pi: [32], vf: [32]} for actor and critic, or a list "
        "such as [64, 64] for both; null: Stable-Baselines3's default",
    )
    activation: ActivationName = Field("tanh", description="activation function of the MLP layers")
    ortho_init: bool = Field(True, description="orthogonal initialisation of the weights (as in SB3)")
    features_extractor: FeatureExtractorName = Field(
        "nature_cnn",
        description="Cnn* policies only: the image encoder; nature_cnn (SB3's NatureCNN, images of at least "
        "36x36), small_cnn (2 small convolutions, images of at least 8x8) or minigrid_cnn (3 convolutions "
        "over 2x2 cells, the MiniGrid reference agents' encoder, grids of at least 7x7)",
    )
    features_dim: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="Cnn* policies only: the extractor's output size; null: its default (512 for nature_cnn, "
        "64 for small_cnn and minigrid_cnn)",
    )
    normalize_images: bool = Field(
        True,
        description="Cnn* policies only: scale uint8 images from [0, 255] to [0, 1]; false feeds the raw "
        "values, for grids of small indices such as MiniGrid's (object, colour, state) view",
    )

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
