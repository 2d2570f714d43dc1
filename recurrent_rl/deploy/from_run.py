"""Export a saved run's greedy policy: ONNX (checked with onnxruntime before anything is written) or
TorchScript (``.pt``), with optional pruning and int8 quantization measured against the float policy."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from recurrent_rl.artifacts import model_file
from recurrent_rl.artifacts.atomic import atomic_write_bytes, atomic_write_json
from recurrent_rl.artifacts.run_folder import check_outputs
from recurrent_rl.artifacts.saved_run import SavedRun
from recurrent_rl.deploy.module import ObsNormalization, PolicyModule
from recurrent_rl.deploy.spec import describe
from recurrent_rl.errors import CheckFailed, UserError
from recurrent_rl.evaluation.episodes import evaluate
from recurrent_rl.restore import Restored, restore
from recurrent_rl.vecenv.normalization import find_vec_normalize

FORMATS = {".onnx": "onnx", ".pt": "torchscript"}
LOGIT_ATOL = 1e-4
MAX_ENVS = 8


@dataclass
class Variant:
    """One exported policy played with onnxruntime: float or compressed."""

    name: str
    mean_return: float
    success_rate: float | None
    size_bytes: int
    latency_us: float | None = None


@dataclass
class ExportReport:
    """What was written and the figures of the checks."""

    out: Path
    sidecar: Path
    description: dict[str, Any]
    variants: list[Variant] = field(default_factory=list)


def obs_normalization(env: Any) -> ObsNormalization | dict[str, ObsNormalization] | None:
    """The observation transform of ``env``'s VecNormalize layer (statistics loaded), if it normalises."""
    vec_normalize = find_vec_normalize(env)
    if vec_normalize is None or not vec_normalize.norm_obs:
        return None
    clip, epsilon = vec_normalize.clip_obs, vec_normalize.epsilon
    rms: Any = vec_normalize.obs_rms
    if isinstance(rms, dict):
        return {key: ObsNormalization(r.mean, r.var, clip, epsilon) for key, r in rms.items()}
    return ObsNormalization(rms.mean, rms.var, clip, epsilon)


def policy_module(
    restored: Restored, frame_stack: int | None, with_logits: bool, policy: Any = None
) -> PolicyModule:
    """The greedy actor of ``restored`` (or of ``policy``, a compressed copy) on raw env observations."""
    from recurrent_rl.deploy.check import raw_vec_env

    raw_space = raw_vec_env(restored.env).observation_space
    return PolicyModule(
        policy if policy is not None else restored.policy,
        raw_space,
        obs_normalization(restored.env),
        frame_stack,
        with_logits,
    )


def export_saved(
    saved: SavedRun,
    out: Path,
    *,
    force: bool = False,
    prune: float | None = None,
    quantize: str | None = None,
    tolerance: float | None = None,
    episodes: int = 20,
    seed: int = 0,
) -> ExportReport:
    """Export the policy of ``saved`` to ``out`` (format from the suffix) and its ``.json`` sidecar."""
    fmt = FORMATS.get(out.suffix)
    if fmt is None:
        raise UserError(f"export --out {out}: expected a .onnx (ONNX) or .pt (TorchScript) file name")
    if fmt == "torchscript" and (prune is not None or quantize is not None):
        raise UserError("export: --prune and --quantize need an ONNX file (--out policy.onnx)")
    sidecar = out.with_suffix(".json")
    check_outputs([out, sidecar], force)
    cfg = saved.require_config()
    source = {
        "model": str(saved.model),
        "env_id": cfg.env.name,
        "env_kwargs": cfg.env.kwargs,
        "policy": cfg.policy.type,
        "timesteps": model_file.timesteps(model_file.read_plain_data(saved.model)),
    }
    with restore(saved, n_envs=min(episodes, MAX_ENVS), seed=seed) as restored:
        if fmt == "torchscript":
            module = policy_module(restored, cfg.env.frame_stack, with_logits=False)
            data, variants = _torchscript(module), list[Variant]()
            extra: dict[str, Any] = {}
        else:
            module = policy_module(restored, cfg.env.frame_stack, with_logits=True)
            data, variants, extra = _onnx(
                restored, module, cfg.env.frame_stack, prune, quantize, tolerance, episodes, seed
            )
    description = describe(module, format=fmt, file=out.name, source=source, **extra)
    atomic_write_bytes(out, data)
    atomic_write_json(sidecar, description)
    return ExportReport(out, sidecar, description, variants)


def _torchscript(module: PolicyModule) -> bytes:
    """A traced module, checked against the eager one on another batch size (catches baked-in shapes)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notice and tracer hints
        examples = module.example_inputs(batch=2)
        traced = torch.jit.trace(module, tuple(torch.as_tensor(examples[n]) for n in module.input_names))
        other = module.example_inputs(batch=3, seed=1)
        args = tuple(torch.as_tensor(other[n]) for n in module.input_names)
        expected, got = module(*args), traced(*args)
        pairs = zip(expected, got, strict=True) if isinstance(expected, tuple) else [(expected, got)]
        for want, have in pairs:
            if want.shape != have.shape or not torch.allclose(want.double(), have.double(), atol=1e-5):
                raise CheckFailed("export: the traced module disagrees with the policy; please report this")
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def _onnx(
    restored: Restored,
    module: PolicyModule,
    frame_stack: int | None,
    prune: float | None,
    quantize: str | None,
    tolerance: float | None,
    episodes: int,
    seed: int,
) -> tuple[bytes, list[Variant], dict[str, Any]]:
    """Export, check against PyTorch and against ``evaluate``; compress and measure when asked."""
    from recurrent_rl.deploy import compress
    from recurrent_rl.deploy.check import compare, play, record_inputs
    from recurrent_rl.deploy.onnx_export import export_onnx
    from recurrent_rl.deploy.runtime import make_session

    data = export_onnx(module)
    session = make_session(data)
    steps, _ = record_inputs(module, restored.env, episodes, seed)
    check = compare(module, session, steps)
    figures = (
        f"{check.action_mismatches} different actions in {check.n_steps} steps, "
        f"max logit difference {check.max_abs_logit_diff:.2e}"
    )
    if not check.ok(LOGIT_ATOL):
        raise CheckFailed(f"export refused: onnxruntime disagrees with PyTorch ({figures}); nothing written")
    played = play(session, restored.env, episodes, seed)
    restored.env.seed(seed)
    evaluated = evaluate(restored.policy, restored.env, episodes, deterministic=True)
    if abs(played.mean_return - evaluated.mean_return) > 1e-4 * max(1.0, abs(evaluated.mean_return)):
        raise CheckFailed(
            f"export refused: onnxruntime plays mean return {played.mean_return:.6f}, evaluate "
            f"{evaluated.mean_return:.6f} on the same {episodes} episodes; nothing written"
        )
    inputs = module.example_inputs(batch=1)
    variants = [
        Variant(
            "float32",
            played.mean_return,
            played.success_rate,
            len(data),
            compress.latency_us(session, inputs, n=500, repeats=3, warmup=50),
        )
    ]
    extra: dict[str, Any] = {
        "check": {
            "episodes": episodes,
            "seed": seed,
            "steps": check.n_steps,
            "action_mismatches": check.action_mismatches,
            "max_abs_logit_diff": check.max_abs_logit_diff,
            "mean_return": played.mean_return,
            "evaluate_mean_return": evaluated.mean_return,
        }
    }
    if prune is None and quantize is None:
        return data, variants, extra
    name = []
    if prune is not None:
        policy = compress.copy_policy(restored.policy)
        sparsity = compress.prune(policy, prune)
        data = export_onnx(policy_module(restored, frame_stack, with_logits=True, policy=policy))
        name.append(f"pruned {prune:.0%}")
        extra["pruning"] = {"fraction": prune, "sparsity": sparsity}
    if quantize == "int8":
        data = compress.quantize_int8(data)
        name.append("int8")
    small = make_session(data)
    compressed = play(small, restored.env, episodes, seed)
    variants.append(
        Variant(
            " + ".join(name),
            compressed.mean_return,
            compressed.success_rate,
            len(data),
            compress.latency_us(small, inputs, n=500, repeats=3, warmup=50),
        )
    )
    extra["compression"] = {
        "variant": variants[-1].name,
        "mean_return": compressed.mean_return,
        "success_rate": compressed.success_rate,
        "float_mean_return": played.mean_return,
        "float_success_rate": played.success_rate,
    }
    if tolerance is not None:
        metric = "success_rate" if played.success_rate is not None else "mean_return"
        loss = float(getattr(played, metric)) - float(getattr(compressed, metric))
        if loss > tolerance:
            raise CheckFailed(
                f"export refused: the {variants[-1].name} policy loses {loss:.4g} {metric.replace('_', ' ')} "
                f"({getattr(played, metric):.4g} -> {getattr(compressed, metric):.4g}), more than "
                f"--tolerance {tolerance}; nothing written"
            )
    return data, variants, extra
