"""Export a saved run's greedy policy: ONNX (checked with onnxruntime before anything is written) or
TorchScript (``.pt``), with optional pruning and int8 quantization measured against the float policy."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from recurrent_rl.artifacts import model_file
from recurrent_rl.artifacts.atomic import atomic_write_bytes, atomic_write_json
from recurrent_rl.artifacts.run_folder import check_outputs
from recurrent_rl.artifacts.saved_run import SavedRun
from recurrent_rl.deploy.module import ObsNormalization, PolicyModule
from recurrent_rl.deploy.spec import describe
from recurrent_rl.errors import CheckFailed, UserError
from recurrent_rl.evaluation.episodes import EvalResult, evaluate
from recurrent_rl.restore import Restored, restore
from recurrent_rl.vecenv.normalization import find_vec_normalize

if TYPE_CHECKING:  # onnx and onnxruntime are imported only when an ONNX file is asked for
    import onnxruntime as ort

    from recurrent_rl.deploy.check import CheckResult

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


@dataclass(frozen=True)
class ExportOptions:
    """Beyond the float export: compression, its tolerance, and the checks' episodes and seed."""

    prune: float | None = None
    quantize: str | None = None
    tolerance: float | None = None
    episodes: int = 20
    seed: int = 0

    @property
    def compresses(self) -> bool:
        return self.prune is not None or self.quantize is not None


def export_saved(
    saved: SavedRun, out: Path, options: ExportOptions | None = None, *, force: bool = False
) -> ExportReport:
    """Export the policy of ``saved`` to ``out`` (format from the suffix) and its ``.json`` sidecar."""
    options = options or ExportOptions()
    fmt = FORMATS.get(out.suffix)
    if fmt is None:
        raise UserError(f"export --out {out}: expected a .onnx (ONNX) or .pt (TorchScript) file name")
    if fmt == "torchscript" and options.compresses:
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
    with restore(saved, n_envs=min(options.episodes, MAX_ENVS), seed=options.seed) as restored:
        if fmt == "torchscript":
            module = policy_module(restored, cfg.env.frame_stack, with_logits=False)
            data, variants = _torchscript(module), list[Variant]()
            extra: dict[str, Any] = {}
        else:
            module = policy_module(restored, cfg.env.frame_stack, with_logits=True)
            data, variants, extra = _onnx(restored, module, cfg.env.frame_stack, options)
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
    restored: Restored, module: PolicyModule, frame_stack: int | None, options: ExportOptions
) -> tuple[bytes, list[Variant], dict[str, Any]]:
    """Export, check against PyTorch and against ``evaluate``; compress and measure when asked.

    Returns the bytes to write, the variants played and the sidecar's ``check`` (``pruning``,
    ``compression``) entries.
    """
    from recurrent_rl.deploy.check import play
    from recurrent_rl.deploy.onnx_export import export_onnx
    from recurrent_rl.deploy.runtime import make_session

    data = export_onnx(module)
    session = make_session(data)
    check = _check_against_torch(module, session, restored.env, options)
    played, evaluated = _check_against_evaluate(session, restored, options)
    variants = [_measure("float32", session, data, played, module)]
    extra: dict[str, Any] = {
        "check": {
            "episodes": options.episodes,
            "seed": options.seed,
            "steps": check.n_steps,
            "action_mismatches": check.action_mismatches,
            "max_abs_logit_diff": check.max_abs_logit_diff,
            "mean_return": played.mean_return,
            "evaluate_mean_return": evaluated.mean_return,
        }
    }
    if not options.compresses:
        return data, variants, extra
    data, name, pruning = _compress(data, restored, frame_stack, options)
    small = make_session(data)
    compressed = play(small, restored.env, options.episodes, options.seed)
    variants.append(_measure(name, small, data, compressed, module))
    extra.update(pruning)
    extra["compression"] = {
        "variant": name,
        "mean_return": compressed.mean_return,
        "success_rate": compressed.success_rate,
        "float_mean_return": played.mean_return,
        "float_success_rate": played.success_rate,
    }
    _check_tolerance(name, played, compressed, options.tolerance)
    return data, variants, extra


def _check_against_torch(
    module: PolicyModule, session: ort.InferenceSession, env: Any, options: ExportOptions
) -> CheckResult:
    """Feed PyTorch's greedy episodes to onnxruntime: same actions, logits within :data:`LOGIT_ATOL`."""
    from recurrent_rl.deploy.check import compare, record_inputs

    steps, _ = record_inputs(module, env, options.episodes, options.seed)
    check = compare(module, session, steps)
    if not check.ok(LOGIT_ATOL):
        figures = (
            f"{check.action_mismatches} different actions in {check.n_steps} steps, "
            f"max logit difference {check.max_abs_logit_diff:.2e}"
        )
        raise CheckFailed(f"export refused: onnxruntime disagrees with PyTorch ({figures}); nothing written")
    return check


def _check_against_evaluate(
    session: ort.InferenceSession, restored: Restored, options: ExportOptions
) -> tuple[EvalResult, EvalResult]:
    """onnxruntime alone and ``evaluate`` on the same episodes: the same mean return (relative 1e-4)."""
    from recurrent_rl.deploy.check import play

    played = play(session, restored.env, options.episodes, options.seed)
    restored.env.seed(options.seed)
    evaluated = evaluate(restored.policy, restored.env, options.episodes, deterministic=True)
    if abs(played.mean_return - evaluated.mean_return) > 1e-4 * max(1.0, abs(evaluated.mean_return)):
        raise CheckFailed(
            f"export refused: onnxruntime plays mean return {played.mean_return:.6f}, evaluate "
            f"{evaluated.mean_return:.6f} on the same {options.episodes} episodes; nothing written"
        )
    return played, evaluated


def _compress(
    data: bytes, restored: Restored, frame_stack: int | None, options: ExportOptions
) -> tuple[bytes, str, dict[str, Any]]:
    """The float export pruned and/or quantized: its bytes, its name and the sidecar's ``pruning`` entry."""
    from recurrent_rl.deploy import compress
    from recurrent_rl.deploy.onnx_export import export_onnx

    names: list[str] = []
    extra: dict[str, Any] = {}
    if options.prune is not None:
        policy = compress.copy_policy(restored.policy)
        sparsity = compress.prune(policy, options.prune)
        data = export_onnx(policy_module(restored, frame_stack, with_logits=True, policy=policy))
        names.append(f"pruned {options.prune:.0%}")
        extra["pruning"] = {"fraction": options.prune, "sparsity": sparsity}
    if options.quantize == "int8":
        data = compress.quantize_int8(data)
        names.append("int8")
    return data, " + ".join(names), extra


def _measure(
    name: str, session: ort.InferenceSession, data: bytes, played: EvalResult, module: PolicyModule
) -> Variant:
    """A variant's figures: what it played, its size and its latency at batch 1."""
    from recurrent_rl.deploy.compress import latency_us

    latency = latency_us(session, module.example_inputs(batch=1), n=500, repeats=3, warmup=50)
    return Variant(name, played.mean_return, played.success_rate, len(data), latency)


def _check_tolerance(name: str, played: EvalResult, compressed: EvalResult, tolerance: float | None) -> None:
    """Refuse a compressed policy that loses more success rate (or return, without one) than ``tolerance``."""
    if tolerance is None:
        return
    metric = "success_rate" if played.success_rate is not None else "mean_return"
    before, after = float(getattr(played, metric)), float(getattr(compressed, metric))
    if before - after > tolerance:
        raise CheckFailed(
            f"export refused: the {name} policy loses {before - after:.4g} {metric.replace('_', ' ')} "
            f"({before:.4g} -> {after:.4g}), more than --tolerance {tolerance}; nothing written"
        )
