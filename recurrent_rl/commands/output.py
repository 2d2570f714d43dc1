"""Terminal output shared by the commands."""

from __future__ import annotations


def print_rows(rows: list[tuple[str, str]]) -> None:
    """``name  value`` rows, names padded to one width."""
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
