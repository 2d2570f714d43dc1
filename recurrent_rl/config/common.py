"""What every config section shares: a strict base model, schedules as data, cross-key errors, name forms."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recurrent_rl.config.values import STRICT_VALUES

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a folder name: letters, digits, '_', '-', '.'
MODULE_PATTERN = r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*"  # a dotted module (or attribute) name


class Section(BaseModel):
    """A config section: unknown keys are errors, values are frozen, aliases (``import``) are accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, **STRICT_VALUES)


class LinearSchedule(Section):
    """``{linear: [start, end]}``: goes from ``start`` at the first update to ``end`` at the last."""

    linear: tuple[float, float] = Field(  # a YAML list; its numbers stay strict
        strict=False,
        description="start and end values, both >= 0; the value moves linearly between them over training",
    )

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


class ConstraintError(ValueError):
    """A cross-key constraint, reported at the key that has to change."""

    def __init__(self, path: str, value: Any, expected: str) -> None:
        super().__init__(f"expected {expected}")
        self.path = path
        self.value = value
        self.expected = expected
