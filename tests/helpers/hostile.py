"""Hostile inputs shared by the tests of issue 19: an alias bomb, a folder nothing can be written in."""

from __future__ import annotations

import os
from pathlib import Path


def laughs(levels: int, width: int = 9) -> str:
    """A billion-laughs document: ``levels`` anchors, each a list of ``width`` aliases of the one before
    (``width ** levels`` strings once expanded: 387 million for 9 levels of 9)."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores permissions, but not sysfs's)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder
