"""Make an exported policy smaller: global magnitude pruning, int8 dynamic quantization, and their cost.

Pruning zeroes weights in place (a dense ONNX file of the same size, which compresses well with zip);
int8 stores the LSTM and MatMul weights in one byte each (onnxruntime has no quantized GRU op: a GRU's own
weights stay float32, the MLP layers are quantized). Neither is free: measure the return with
:func:`recurrent_rl.deploy.check.play` and the time with :func:`latency_us` before shipping.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from torch import nn
from torch.nn.utils import prune as torch_prune


def prunable_weights(policy: Any) -> list[tuple[str, nn.Module, str]]:
    """``(name, module, attribute)`` of the actor's weight matrices: the memory's (LSTM or GRU)
    ``weight_ih``/``weight_hh`` of every layer, the actor MLP's and the action net's Linear weights (not
    biases, not the critic)."""
    found: list[tuple[str, nn.Module, str]] = []
    lstm = getattr(policy, "lstm_actor", None)
    if lstm is not None:
        for layer in range(lstm.num_layers):
            for kind in ("ih", "hh"):
                found.append((f"lstm_actor.weight_{kind}_l{layer}", lstm, f"weight_{kind}_l{layer}"))
    for prefix, root in (
        ("mlp_extractor.policy_net", policy.mlp_extractor.policy_net),
        ("action_net", policy.action_net),
    ):
        for name, module in root.named_modules():
            if isinstance(module, nn.Linear):
                found.append((f"{prefix}.{name}.weight" if name else f"{prefix}.weight", module, "weight"))
    return found


def copy_policy(policy: Any) -> Any:
    """A fresh copy of an SB3 policy (same class, constructor arguments and weights), e.g. to prune it.

    ``copy.deepcopy`` fails on a policy that has run a forward pass (it keeps non-leaf tensors)."""
    params = policy._get_constructor_parameters()
    lstm = getattr(policy, "lstm_actor", None)
    if lstm is not None:  # sb3-contrib leaves its memory arguments out of the constructor parameters
        params.update(
            lstm_hidden_size=lstm.hidden_size,
            n_lstm_layers=lstm.num_layers,
            shared_lstm=policy.shared_lstm,
            enable_critic_lstm=policy.enable_critic_lstm,
            lstm_kwargs=policy.lstm_kwargs,
        )
    clone = type(policy)(**params)
    clone.load_state_dict(policy.state_dict())
    return clone.eval()


def prune(policy: Any, fraction: float) -> dict[str, float]:
    """Zero the ``fraction`` of smallest-magnitude actor weights, globally (L1), permanently.

    :return: achieved sparsity (fraction of zeros) per weight tensor, by parameter name
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction} is out of range: expected a number in [0, 1]")
    targets = prunable_weights(policy)
    if fraction > 0.0:
        pairs = [(module, attribute) for _, module, attribute in targets]
        torch_prune.global_unstructured(pairs, pruning_method=torch_prune.L1Unstructured, amount=fraction)
        for module, attribute in pairs:
            torch_prune.remove(module, attribute)
    sparsity = {}
    for name, module, attribute in targets:
        weight = getattr(module, attribute)
        sparsity[name] = float((weight == 0).float().mean())
    return sparsity


def gemm_to_matmul(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite ``Gemm(x, W, b)`` with a constant ``W`` as ``MatMul(x, W') + b``, which dynamic quantization
    handles (it leaves Gemm, what the exporter makes of ``nn.Linear``, in float)."""
    weights = {init.name: init for init in model.graph.initializer}
    nodes = []
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        plain = (
            attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and not attrs.get("transA", 0)
        )
        if node.op_type != "Gemm" or not plain or node.input[1] not in weights:
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(weights[node.input[1]])
        matrix = numpy_helper.from_array(
            weight.T.copy() if attrs.get("transB", 0) else weight, node.name + "_W"
        )
        model.graph.initializer.append(matrix)
        product = node.output[0] + ("_mm" if len(node.input) > 2 else "")
        nodes.append(
            onnx.helper.make_node("MatMul", [node.input[0], matrix.name], [product], node.name + "_mm")
        )
        if len(node.input) > 2:
            nodes.append(
                onnx.helper.make_node("Add", [product, node.input[2]], [node.output[0]], node.name + "_add")
            )
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {name for node in model.graph.node for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    return model


def quantize_int8(onnx_bytes: bytes, op_types: Sequence[str] | None = None) -> bytes:
    """Dynamic int8 quantization (``onnxruntime.quantization.quantize_dynamic``, QInt8 weights).

    Gemm nodes are first rewritten as MatMul (:func:`gemm_to_matmul`) so that the Linear layers are
    quantized too; activations stay float and are quantized on the fly.

    :param op_types: op types to quantize (default: onnxruntime's: LSTM, MatMul, Conv, ...)
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "float.onnx"), Path(folder, "int8.onnx")
        onnx.save(gemm_to_matmul(onnx.load_from_string(onnx_bytes)), source)
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(op_types) if op_types is not None else None,
        )
        return target.read_bytes()


def compressed_size(data: bytes) -> int:
    """Bytes after zlib (level 9): what pruning buys in a zipped or gzipped download."""
    return len(zlib.compress(data, 9))


def latency_us(
    runner: ort.InferenceSession | Callable[..., Any],
    inputs: Mapping[str, Any] | Sequence[Any],
    n: int = 2000,
    repeats: int = 5,
    warmup: int = 200,
) -> float:
    """Median over ``repeats`` of the mean time of one call, in microseconds.

    ``runner`` is an onnxruntime session (called as ``run(None, inputs)``) or a callable, called as
    ``runner(**inputs)`` for a mapping or ``runner(*inputs)`` for a sequence. The same inputs are fed every
    call: the cost of these networks does not depend on the values.
    """
    call: Callable[[], Any]
    if isinstance(runner, ort.InferenceSession):
        feeds = {name: np.asarray(value) for name, value in dict(inputs).items()}
        session = runner
        call = lambda: session.run(None, feeds)  # noqa: E731
    elif isinstance(inputs, Mapping):
        kwargs = dict(inputs)
        call = lambda: runner(**kwargs)  # noqa: E731
    else:
        args = tuple(inputs)
        call = lambda: runner(*args)  # noqa: E731
    for _ in range(warmup):
        call()
    means = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            call()
        means.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(means)
