"""Write recorded ``rgb_array`` frames as a GIF (Pillow) or an MP4 (needs the optional imageio[ffmpeg])."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from recurrent_rl.artifacts.atomic import atomic_write_bytes
from recurrent_rl.errors import UserError

MIN_SIDE = 240


def _upscale(frame: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upscaling so that small env images stay visible."""
    factor = max(1, MIN_SIDE // max(1, min(frame.shape[:2])))
    return frame.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else frame


def check_video_path(path: Path) -> None:
    """Fail before any episode is played if the video cannot be written."""
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise UserError(f"--video {path}: expected a .gif or .mp4 file name")
    if not path.parent.exists():
        raise UserError(f"--video {path}: folder {path.parent} does not exist")
    if path.suffix.lower() == ".mp4":
        try:
            import imageio.v3  # noqa: F401
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise UserError(
                f"--video {path}: MP4 needs `pip install imageio[ffmpeg]`; or write a .gif"
            ) from None


def write_video(frames: list[np.ndarray], path: Path, fps: int = 10) -> None:
    if not frames:
        raise UserError(f"--video {path}: the env produced no rgb_array frames")
    images = [_upscale(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    if path.suffix.lower() == ".gif":
        from PIL import Image

        pictures = [Image.fromarray(image) for image in images]
        buffer = io.BytesIO()
        pictures[0].save(
            buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=1000 // fps, loop=0
        )
        atomic_write_bytes(path, buffer.getvalue())
    else:
        import imageio.v3 as iio

        data = iio.imwrite("<bytes>", np.stack(images), extension=".mp4", fps=fps)
        atomic_write_bytes(path, data)
