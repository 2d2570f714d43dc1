"""The pixel memory maze's cells: their codes, colours and tiles (how each cell is drawn)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Key/door colours (RGB), in the order of the colour indices; ``n_colors`` uses the first ones.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 40, 40),  # red
    (40, 90, 240),  # blue
    (40, 190, 60),  # green
    (240, 210, 30),  # yellow
    (200, 60, 210),  # magenta
    (30, 210, 220),  # cyan
)
COLOUR_NAMES = ("red", "blue", "green", "yellow", "magenta", "cyan")
FLOOR_RGB = (25, 25, 25)
WALL_RGB = (120, 120, 120)
AGENT_RGB = (255, 255, 255)

# Cell codes of the grid.
FLOOR, WALL = 0, 1
DOOR = 2  # DOOR + c: door of colour c
KEY = DOOR + len(PALETTE)  # KEY + c: key of colour c (on an impassable pedestal)
AGENT = KEY + len(PALETTE)  # only in observations: drawn at the centre of the view
N_CODES = AGENT + 1

ANSI = {FLOOR: ".", WALL: "#", AGENT: "@"}
ANSI.update({DOOR + c: name[0].upper() for c, name in enumerate(COLOUR_NAMES)})
ANSI.update({KEY + c: name[0] for c, name in enumerate(COLOUR_NAMES)})


def tiles(pixels: int) -> npt.NDArray[np.uint8]:
    """One ``(pixels, pixels, 3)`` tile per cell code: array of shape ``(N_CODES, pixels, pixels, 3)``."""
    tiles = np.empty((N_CODES, pixels, pixels, 3), dtype=np.uint8)
    tiles[:] = FLOOR_RGB
    tiles[WALL] = WALL_RGB
    frame = max(1, pixels // 8) if pixels >= 4 else 0
    inset = pixels // 4
    for c, rgb in enumerate(PALETTE):
        tiles[DOOR + c] = WALL_RGB
        tiles[DOOR + c, frame : pixels - frame, frame : pixels - frame] = rgb
        tiles[KEY + c, inset : pixels - inset, inset : pixels - inset] = rgb
    agent_inset = max(inset, 1) if pixels >= 3 else 0
    tiles[AGENT, agent_inset : pixels - agent_inset, agent_inset : pixels - agent_inset] = AGENT_RGB
    return tiles
