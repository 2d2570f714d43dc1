"""What a saved model is (``recurrent-rl inspect``), read without running it and without unpickling anything.

The architecture comes from the weights themselves (``policy.pth`` read with ``weights_only=True``), the
training figures from the plain fields of the zip's ``data`` JSON, the env and spaces from the run's config
(the env is built, the policy never acts), and the outcome from ``summary.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from recurrent_rl.algo.memory import memory_kind_of_weights
from recurrent_rl.artifacts import model_file, records, run_folder
from recurrent_rl.artifacts.saved_run import SavedRun, statistics_path
from recurrent_rl.restore.live import restore

ALGORITHMS = {("recurrent_ppo", "fast"): "FastRecurrentPPO", ("recurrent_ppo", "sb3"): "RecurrentPPO"}
TRAINING_FIELDS = (
    "n_envs",
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "learning_rate",
    "seed",
    "_n_updates",
)
SUMMARY_FIELDS = ("status", "message", "total_timesteps", "wall_time_s", "fps", "final_eval", "best_eval")


def describe_saved(saved: SavedRun) -> dict[str, Any]:
    """Everything :func:`format_report` prints about a saved model, as plain data."""
    data = model_file.read_plain_data(saved.model)
    state = model_file.read_tensors(saved.model, "policy.pth")
    report: dict[str, Any] = {
        "model": str(saved.model),
        "run_dir": str(saved.run_dir) if saved.config is not None else None,
        "timesteps": model_file.timesteps(data),
        "training": {key.lstrip("_"): data[key] for key in TRAINING_FIELDS if _is_plain(data.get(key))},
        "saved_with": model_file.read_system_info(saved.model),
        "weights": describe_weights(state),
    }
    report.update(_from_config(saved) if saved.config is not None else _from_file(data))
    report["run"] = _run_record(saved.run_dir) if saved.config is not None else None
    return report


def _is_plain(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _from_config(saved: SavedRun) -> dict[str, Any]:
    """Env, algorithm, policy and spaces as the run's config builds them; whether the weights fit."""
    cfg = saved.require_config()
    with restore(saved, statistics=False, strict=False) as restored:
        observation_space, action_space = restored.env.observation_space, restored.env.action_space
        fits: bool | str = restored.weights_error or True
    normalization = None
    if cfg.env.normalize is not None:
        inside = model_file.has_entry(saved.model, model_file.STATISTICS_ENTRY)
        normalization = (
            f"{saved.model}:{model_file.STATISTICS_ENTRY}" if inside else statistics_path(saved.model)
        )
    return {
        "env": cfg.env.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "algorithm": ALGORITHMS.get((cfg.algo.name, cfg.algo.implementation), "PPO"),
        "policy": cfg.policy.model_dump(mode="json"),
        "observation_space": str(observation_space),
        "action_space": str(action_space),
        "normalization": str(normalization) if normalization is not None else None,
        "weights_fit_config": fits,
    }


def _from_file(data: dict[str, Any]) -> dict[str, Any]:
    """Without a run folder: the policy class and spaces as the zip declares them (plain text, unverified)."""

    def declared(entry: Any) -> str | None:
        if not isinstance(entry, dict):
            return None
        kind = str(entry.get(":type:", "")).removeprefix("<class '").removesuffix("'>").rsplit(".", 1)[-1]
        details = {key: entry[key] for key in ("_shape", "n", "nvec", "dtype") if key in entry}
        return f"{kind} {details}" if kind else None

    policy_class = data.get("policy_class")
    module = policy_class.get("__module__") if isinstance(policy_class, dict) else None
    kwargs = data.get("policy_kwargs")
    plain_kwargs = {k: v for k, v in kwargs.items() if k != ":type:"} if isinstance(kwargs, dict) else {}
    return {
        "env": None,
        "algorithm": None,
        "policy": {"module": module, **plain_kwargs},
        "observation_space": declared(data.get("observation_space")),
        "action_space": declared(data.get("action_space")),
        "normalization": None,
        "weights_fit_config": None,
    }


def _run_record(run_dir: Path) -> dict[str, Any] | None:
    """The run's summary.json figures (and whether a process is training it now), if the run has one."""
    summary = records.read_summary(run_dir)
    if summary is None:
        return None
    record = summary.model_dump(mode="json", include=set(SUMMARY_FIELDS))
    if record["status"] == "running" and not run_folder.is_locked(run_dir):
        record["status"] = "running (no process holds the run: killed? continue with train --resume)"
    record["evaluations"] = len(records.read_history(run_dir))
    return record


_MEMORY_WEIGHT = re.compile(r"^(?P<prefix>.*)\.weight_ih_l(?P<layer>\d+)$")
_LINEAR = re.compile(r"^(?P<prefix>.*)\.(?P<index>\d+)\.weight$")


def describe_weights(state: dict[str, Any]) -> dict[str, Any]:
    """Layer sizes, memories (LSTM or GRU) and parameter count read from a policy state dict (shared tensors
    counted once)."""
    tensors = {name: value for name, value in state.items() if isinstance(value, torch.Tensor)}
    seen: set[tuple[int, int, tuple[int, ...]]] = set()
    count = 0
    for value in tensors.values():
        key = (value.untyped_storage().data_ptr(), int(value.storage_offset()), tuple(value.shape))
        if key not in seen:
            seen.add(key)
            count += value.numel()
    lstms: dict[str, dict[str, Any]] = {}
    for name, value in tensors.items():
        match = _MEMORY_WEIGHT.match(name)
        kind = memory_kind_of_weights(tensors, match["prefix"]) if match and match["layer"] == "0" else None
        if match and kind is not None:
            layers = sum(1 for other in tensors if other.startswith(f"{match['prefix']}.weight_ih_l"))
            lstms[match["prefix"]] = {
                "kind": kind.name,
                "input_size": int(value.shape[1]),
                "hidden_size": int(value.shape[0]) // kind.n_gates,
                "num_layers": layers,
            }

    def mlp(prefix: str) -> list[int]:
        layers = sorted(
            (int(m["index"]), int(value.shape[0]))
            for name, value in tensors.items()
            if (m := _LINEAR.match(name)) and m["prefix"] == prefix
        )
        return [size for _, size in layers]

    def linear(name: str) -> list[int] | None:
        value = tensors.get(f"{name}.weight")
        return [int(value.shape[1]), int(value.shape[0])] if value is not None and value.dim() == 2 else None

    extractor_keys = [name for name in tensors if "features_extractor." in name]
    if any(".cnn." in name for name in extractor_keys):
        extractor = "CNN"
    elif any(".extractors." in name for name in extractor_keys):
        extractor = "CombinedExtractor"
    else:
        extractor = "Flatten" if not extractor_keys else "custom"
    return {
        "parameters": count,
        "features_extractor": extractor,
        "lstm_actor": lstms.get("lstm_actor"),
        "lstm_critic": lstms.get("lstm_critic"),
        "critic_linear": linear("critic"),
        "policy_net": mlp("mlp_extractor.policy_net"),
        "value_net": mlp("mlp_extractor.value_net"),
        "action_net": linear("action_net"),
        "value_head": linear("value_net"),
        "tensors": {name: list(value.shape) for name, value in tensors.items()},
    }


def format_report(report: dict[str, Any]) -> list[tuple[str, str]]:
    """``(name, value)`` rows for the terminal."""
    weights = report["weights"]
    rows = [("model", report["model"])]
    env = report["env"]
    if env is not None:
        kwargs = f" {env['kwargs']}" if env.get("kwargs") else ""
        rows.append(("env", f"{env.get('id') or env.get('entry_point')}{kwargs}"))
        extras = [f"{key}: {env[key]}" for key in ("wrappers", "normalize", "frame_stack") if env.get(key)]
        if extras:
            rows.append(("env wrappers", "; ".join(extras)))
    if report["algorithm"] is not None:
        rows.append(("algorithm", report["algorithm"]))
    policy = report["policy"]
    rows.append(("policy", str(policy.get("type") or policy.get("module"))))
    if weights["lstm_actor"] is not None:
        rows.append(("memory", weights["lstm_actor"]["kind"]))
    rows.append(("architecture", _architecture(weights, policy)))
    rows.append(("parameters", f"{weights['parameters']:,}"))
    rows.append(("observations", str(report["observation_space"])))
    rows.append(("actions", str(report["action_space"])))
    if report["normalization"]:
        rows.append(("statistics", report["normalization"]))
    if report["weights_fit_config"] not in (True, None):
        rows.append(("WARNING", f"the weights do not fit the run's config: {report['weights_fit_config']}"))
    steps = report["timesteps"]
    updates = report["training"].get("n_updates")
    trained = "unknown" if steps is None else f"{steps:,}" + (f" ({updates} updates)" if updates else "")
    rows.append(("timesteps", trained))
    run = report["run"]
    if run is not None:
        rows.append(("run status", str(run["status"])))
        if run.get("message"):
            rows.append(("run message", str(run["message"])))
        rows.append(("run timesteps", f"{run['total_timesteps']} in {run['wall_time_s']} s"))
        for key in ("final_eval", "best_eval"):
            if run.get(key):
                rows.append((key.replace("_", " "), _eval_text(run[key])))
    saved = report["saved_with"]
    if saved:
        names = ("Stable-Baselines3", "PyTorch")
        versions = ", ".join(f"{name} {saved[name]}" for name in names if name in saved)
        rows.append(("saved with", versions))
    return rows


def _architecture(weights: dict[str, Any], policy: dict[str, Any]) -> str:
    extractor, chosen = weights["features_extractor"], policy.get("features_extractor")
    parts = [f"CNN ({chosen})" if extractor == "CNN" and chosen else extractor]
    lstm = weights["lstm_actor"]
    if lstm is not None:
        layers = "" if lstm["num_layers"] == 1 else f" x{lstm['num_layers']}"
        parts.append(f"{lstm['kind'].upper()}({lstm['input_size']}->{lstm['hidden_size']}{layers})")
    activation = str(policy.get("activation") or policy.get("activation_fn") or "")
    activation = activation.removesuffix("'>").rsplit(".", 1)[-1]  # "<class '...Tanh'>" -> "Tanh"
    parts.append(f"pi {weights['policy_net']} {activation}".rstrip())
    if weights["action_net"]:
        parts.append(f"action Linear({weights['action_net'][0]}->{weights['action_net'][1]})")
    critic = weights["lstm_critic"]
    if critic is not None:
        value = f"critic {critic['kind'].upper()}({critic['input_size']}->{critic['hidden_size']})"
    elif weights["critic_linear"]:
        value = "critic Linear"
    else:
        value = f"critic shares the actor {lstm['kind'].upper()}" if lstm is not None else "critic"
    return " -> ".join(parts) + f"; {value} -> vf {weights['value_net']}"


def _eval_text(entry: dict[str, Any]) -> str:
    mean, std, episodes = entry["mean_return"], entry["std_return"], entry["n_episodes"]
    text = f"return {mean:.3f} ± {std:.3f} over {episodes} episodes"
    return text + (f", success {entry['success_rate']:.2f}" if entry.get("success_rate") is not None else "")
