"""Argument checks shared by the environments: a ValueError naming the argument, its value and the range."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise ValueError naming it."""
    valid = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} is invalid: expected {valid}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name}={value!r} is out of range: expected {valid}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as float if it lies in the interval, else raise ValueError naming it."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    valid = f"a number in {left}{low}, {high if high is not None else 'inf'}{right}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} is invalid: expected {valid}")
    v = float(value)
    too_low = v <= low if low_open else v < low
    too_high = high is not None and (v >= high if high_open else v > high)
    if v != v or too_low or too_high:
        raise ValueError(f"{name}={value!r} is out of range: expected {valid}")
    return v


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ValueError naming it."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name}={value!r} is invalid: expected one of {options}")
    return value
