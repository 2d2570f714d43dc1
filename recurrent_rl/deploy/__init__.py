"""Deployment: the trained policy exported to run without this package.

``PolicyModule`` wraps an SB3 / sb3-contrib actor-critic policy as ``(obs, h, c, episode_start) -> (action,
logits, h_out, c_out)``; ``export_onnx`` turns it into ONNX bytes; ``compare`` and ``play`` check the file
with onnxruntime; ``prune``, ``quantize_int8`` and ``latency_us`` measure what compression costs.

Names are imported lazily: ``onnx`` and ``onnxruntime`` (the ``deploy`` extra) are only needed by the ONNX
parts, so ``recurrent_rl.deploy.module``, ``recurrent_rl.deploy.spec`` and the TorchScript export
(``recurrent_rl.deploy.from_run`` with a ``.pt`` file) work without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recurrent_rl.deploy.check import CheckResult, PlayResult, compare, play, raw_vec_env, record_inputs
    from recurrent_rl.deploy.compress import (
        compressed_size,
        copy_policy,
        gemm_to_matmul,
        latency_us,
        prunable_weights,
        prune,
        quantize_int8,
    )
    from recurrent_rl.deploy.module import ObsNormalization, PolicyModule, state_output
    from recurrent_rl.deploy.onnx_export import FORMAT, OPSET, export_onnx
    from recurrent_rl.deploy.runtime import OrtPolicy, make_session
    from recurrent_rl.deploy.spec import describe

_WHERE = {
    "check": ["CheckResult", "PlayResult", "compare", "play", "raw_vec_env", "record_inputs"],
    "compress": [
        "compressed_size",
        "copy_policy",
        "gemm_to_matmul",
        "latency_us",
        "prunable_weights",
        "prune",
        "quantize_int8",
    ],
    "module": ["ObsNormalization", "PolicyModule", "state_output"],
    "onnx_export": ["FORMAT", "OPSET", "export_onnx"],
    "runtime": ["OrtPolicy", "make_session"],
    "spec": ["describe"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "FORMAT",
    "OPSET",
    "CheckResult",
    "ObsNormalization",
    "OrtPolicy",
    "PlayResult",
    "PolicyModule",
    "compare",
    "compressed_size",
    "copy_policy",
    "describe",
    "export_onnx",
    "gemm_to_matmul",
    "latency_us",
    "make_session",
    "play",
    "prunable_weights",
    "prune",
    "quantize_int8",
    "raw_vec_env",
    "record_inputs",
    "state_output",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
