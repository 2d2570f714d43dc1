"""Tiny numpy drawing helpers for the ``rgb_array`` render modes (no pygame).

All functions draw in place on a ``uint8`` image of shape ``(H, W, 3)`` using pixel coordinates
``(row, col)`` with row 0 at the top. They clip to the image, so shapes may lie partly outside it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Colour = tuple[int, int, int]
Image = npt.NDArray[np.uint8]

WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)


def blank(height: int, width: int, colour: Colour = WHITE) -> Image:
    """A new ``(height, width, 3)`` image filled with ``colour``."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[...] = colour
    return image


def fill_rect(image: Image, top: float, bottom: float, left: float, right: float, colour: Colour) -> None:
    """Fill the axis-aligned rectangle ``[top, bottom) x [left, right)`` (clipped to the image)."""
    h, w = image.shape[:2]
    r0, r1 = max(int(round(top)), 0), min(int(round(bottom)), h)
    c0, c1 = max(int(round(left)), 0), min(int(round(right)), w)
    if r0 < r1 and c0 < c1:
        image[r0:r1, c0:c1] = colour


def fill_disc(image: Image, row: float, col: float, radius: float, colour: Colour) -> None:
    """Fill the disc of ``radius`` pixels centred on ``(row, col)``."""
    h, w = image.shape[:2]
    r0, r1 = max(int(np.floor(row - radius)), 0), min(int(np.ceil(row + radius)) + 1, h)
    c0, c1 = max(int(np.floor(col - radius)), 0), min(int(np.ceil(col + radius)) + 1, w)
    if r0 >= r1 or c0 >= c1:
        return
    rr, cc = np.ogrid[r0:r1, c0:c1]
    inside = (rr - row) ** 2 + (cc - col) ** 2 <= radius**2
    image[r0:r1, c0:c1][inside] = colour


def draw_line(
    image: Image, start: tuple[float, float], end: tuple[float, float], width: float, colour: Colour
) -> None:
    """Draw a thick segment from ``start`` to ``end`` (each ``(row, col)``) by stamping discs along it."""
    (r0, c0), (r1, c1) = start, end
    n = int(max(abs(r1 - r0), abs(c1 - c0), 1.0)) + 1
    radius = max(width / 2.0, 0.5)
    for t in np.linspace(0.0, 1.0, n):
        fill_disc(image, r0 + t * (r1 - r0), c0 + t * (c1 - c0), radius, colour)
