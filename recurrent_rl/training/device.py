"""The torch device a config asks for, checked against this machine before a run folder is made."""

from __future__ import annotations

import torch

from recurrent_rl.errors import UserError


def check_device(device: str, where: str = "") -> None:
    """A UserError when ``train.device: cuda`` asks for a GPU that torch cannot use here.

    Training silently on the CPU instead would take many times longer than the user planned for, and the
    run would record a device it never used; ``auto`` is the setting that means "the GPU if there is one".
    """
    if device == "cuda" and not torch.cuda.is_available():
        build = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA device found"
        raise UserError(
            f"{where + ': ' if where else ''}train.device: got 'cuda', but {build}; "
            "use cpu, or auto (the GPU when there is one)"
        )
