"""Read a Stable-Baselines3 model.zip without unpickling anything; write one whole, with its statistics.

SB3's ``load`` unpickles the ``:serialized:`` fields of the ``data`` JSON entry and ``torch.load``s the
``.pth`` entries with pickle, so opening a stranger's model.zip with it can run their code. Here ``data``
is parsed as JSON and only its plain fields are kept; tensors are read with ``weights_only=True``.

A model saved with normalisation statistics carries them as one more entry, ``vecnormalize.npz`` (plain
arrays), so a model and its statistics become visible in one rename and can never come from different
steps. Stable-Baselines3's ``load`` ignores the entry.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recurrent_rl.artifacts.atomic import atomic_write_bytes
from recurrent_rl.errors import UserError

if TYPE_CHECKING:
    import torch

MAX_DATA_BYTES = 64 * 1024 * 1024
SERIALIZED = ":serialized:"
STATISTICS_ENTRY = "vecnormalize.npz"


def save_model(model: Any, path: Path, statistics: bytes | None = None) -> None:
    """``model.save`` into memory, add ``statistics`` (an ``.npz``) as an entry, then one atomic write."""
    buffer = io.BytesIO()
    model.save(buffer)
    if statistics is not None:
        with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(STATISTICS_ENTRY, statistics)
    atomic_write_bytes(path, buffer.getvalue())


def has_entry(model_zip: Path, name: str) -> bool:
    """Whether ``model_zip`` holds entry ``name`` (False for a missing or damaged file)."""
    try:
        with zipfile.ZipFile(model_zip) as archive:
            return name in archive.namelist()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def read_entry(model_zip: Path, name: str, max_bytes: int | None = None) -> bytes:
    """The bytes of entry ``name``; a UserError if the file is missing, not a zip, or lacks the entry."""
    try:
        with zipfile.ZipFile(model_zip) as archive:
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise UserError(f"{model_zip}: not a Stable-Baselines3 model (no {name} inside)") from None
            if max_bytes is not None and info.file_size > max_bytes:
                raise UserError(f"{model_zip}: entry {name} is implausibly large ({info.file_size} bytes)")
            return archive.read(info)
    except FileNotFoundError:
        raise UserError(f"{model_zip}: model file not found") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise UserError(f"{model_zip}: not a valid model file, truncated or corrupt ({error})") from None


def check_model_zip(model_zip: Path) -> None:
    """A UserError unless ``model_zip`` is an intact zip (CRCs checked) holding ``policy.pth``; no torch."""
    try:
        with zipfile.ZipFile(model_zip) as archive:
            if "policy.pth" not in archive.namelist():
                raise UserError(f"{model_zip}: not a Stable-Baselines3 model (no policy.pth inside)")
            damaged = archive.testzip()
    except FileNotFoundError:
        raise UserError(f"{model_zip}: model file not found") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise UserError(f"{model_zip}: not a valid model file, truncated or corrupt ({error})") from None
    if damaged is not None:
        raise UserError(f"{model_zip}: not a valid model file, truncated or corrupt (bad CRC in {damaged})")


def _plain(value: Any) -> Any:
    """``value`` without pickled parts: a ``:serialized:`` mapping keeps only its plain JSON attributes."""
    if isinstance(value, dict):
        return {
            key: _plain(item)
            for key, item in value.items()
            if key != SERIALIZED and not (key.startswith("__") and key != "__module__")
        }
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def read_plain_data(model_zip: Path) -> dict[str, Any]:
    """The ``data`` entry as JSON, with every pickled (``:serialized:``) blob dropped, never decoded."""
    raw = read_entry(model_zip, "data", MAX_DATA_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{model_zip}: the data entry is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{model_zip}: the data entry is not a JSON object")
    return {key: _plain(value) for key, value in data.items()}


def read_tensors(model_zip: Path, name: str, device: str | torch.device = "cpu") -> dict[str, Any]:
    """``torch.load`` entry ``name`` with ``weights_only=True`` (tensors and plain containers only)."""
    import torch

    raw = read_entry(model_zip, name)
    try:
        state = torch.load(io.BytesIO(raw), map_location=device, weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or unsafe payloads
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{model_zip}: cannot read {name} safely ({first})") from None
    if not isinstance(state, dict):
        raise UserError(f"{model_zip}: {name} does not hold a state dict")
    return state


def read_system_info(model_zip: Path) -> dict[str, str]:
    """``system_info.txt`` (``- Name: version`` lines) as a mapping; empty if absent."""
    try:
        text = read_entry(model_zip, "system_info.txt", 1024 * 1024).decode("utf-8", errors="replace")
    except UserError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.lstrip("- ").partition(":")
        if sep:
            info[name.strip()] = value.strip()
    return info


def timesteps(data: dict[str, Any]) -> int | None:
    """``num_timesteps`` from plain data, if it is a non-negative integer."""
    value = data.get("num_timesteps")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
