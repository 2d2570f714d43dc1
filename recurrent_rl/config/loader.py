"""Load an experiment config: safe YAML, ``base:`` inheritance, ``--set`` overrides, one clear error.

Every error is a :class:`~recurrent_rl.errors.UserError` whose message starts with where the problem is
(``file:line:column`` when the key comes from a file, ``--set KEY`` when it comes from the command line)
followed by the dotted key path, the value and what was expected.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from recurrent_rl.config.schema import Config, ConstraintError
from recurrent_rl.config.yaml_file import Key, parse_value, parse_yaml_file
from recurrent_rl.errors import UserError

# What a value must look like, for fields whose type is a union (pydantic reports one error per member).
_EXPECTED = {
    "learning_rate": "a finite number > 0 or {linear: [start, end]} (finite, start > 0)",
    "clip_range": "a finite number > 0 or {linear: [start, end]} (finite, start > 0)",
    "clip_range_vf": "null, a finite number > 0 or {linear: [start, end]} (finite, start > 0)",
    "normalize": "true, false or a mapping with keys obs, reward, clip_obs, clip_reward",
    "net_arch": "a list of layer sizes such as [64, 64], or {pi: [64], vf: [64]}",
    "stop_at": "a mapping with success_rate and/or mean_return",
    "frame_stack": "null or an integer >= 1",
    "sequence_length": "null (n_steps) or an integer from 1 to algo.n_steps",
    "keep_checkpoints": "null (keep all) or an integer >= 1",
    "id": "a registered id, or module:EnvId such as my_envs:Blink-v0",
    "entry_point": "module:attr, such as my_envs:Blink (an env class or a function returning an env)",
    "import": "a module name such as my_envs or mypkg.envs",
}


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config, the plain data it was built from, and the file it came from."""

    config: Config
    data: dict[str, Any]
    source: Path

    def resolved_yaml(self) -> str:
        """The full config with defaults and overrides applied; loading it again gives the same config."""
        dumped = self.config.model_dump(mode="json", by_alias=True)
        return yaml.safe_dump(dumped, sort_keys=False, default_flow_style=None)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> LoadedConfig:
    """Read, merge, override and validate the config at ``path``."""
    source = Path(path)
    data, marks, files = _load_with_bases(source, chain=())
    marks[()] = str(source)
    for item in overrides:
        _apply_override(data, marks, item)
    logging = data.setdefault("logging", {})
    if isinstance(logging, dict) and logging.get("experiment") is None:
        logging["experiment"] = experiment_name(source)
    check_unknown_keys(data, Config, (), marks)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise UserError(format_validation_error(error, data, marks)) from None
    for index, wrapper in enumerate(config.env.wrappers):
        wrapper.set_where(_where(("env", "wrappers", str(index)), marks).removesuffix(": "))
    return LoadedConfig(config=_with_search_path(config, files), data=data, source=source)


def _with_search_path(config: Config, files: list[Path]) -> Config:
    """Record where the env's and wrappers' modules are looked for: ``env.search_path`` (relative to the
    config's folder) or, by default, the folders of the config and of its ``base:`` configs, then the
    current directory; absolute, so a run's copy of the config finds the same modules from any directory
    and in env worker processes."""
    env = config.env
    if not env.modules() and not any(wrapper.module for wrapper in env.wrappers):
        return config
    folder = files[0].parent.resolve()
    default = [*(str(file.parent.resolve()) for file in files), str(Path.cwd())]
    entries = env.search_path if env.search_path is not None else default
    resolved = list(dict.fromkeys(str((folder / entry).resolve()) for entry in entries))
    return config.model_copy(update={"env": env.model_copy(update={"search_path": resolved})})


def _load_with_bases(
    path: Path, chain: tuple[Path, ...]
) -> tuple[dict[str, Any], dict[Key, str], list[Path]]:
    """The merged data of ``path`` and its bases, the marks of every key, and the files (``path`` first)."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise UserError(f"{path}: base configs form a cycle: {cycle}")
    data, marks = parse_yaml_file(path, "config file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{path}:1:1: expected a mapping of sections (env, algo, policy, train, logging)")
    base = data.pop("base", None)
    marks.pop(("base",), None)
    if base is None:
        return data, marks, [path]
    if not isinstance(base, str):
        raise UserError(f"{marks.get(('base',), path)}: base: expected a file name, got {base!r}")
    base_path = (path.parent / base) if not Path(base).is_absolute() else Path(base)
    if not base_path.is_file():
        raise UserError(f"{path}: base: file not found: {base_path}")
    base_data, base_marks, base_files = _load_with_bases(base_path, (*chain, resolved))
    return _merge(base_data, data), {**base_marks, **marks}, [path, *base_files]


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child keys win; mappings merge recursively; lists and scalars are replaced."""
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_override(data: dict[str, Any], marks: dict[Key, str], item: str) -> None:
    """Apply one ``--set section.key=value``; the value is parsed as a YAML scalar or flow collection."""
    if "=" not in item:
        raise UserError(f"--set {item}: expected KEY=VALUE, for example --set algo.learning_rate=3e-4")
    dotted, text = item.split("=", 1)
    parts = tuple(dotted.strip().split("."))
    if not all(part.strip() for part in parts):
        raise UserError(f"--set {item}: '{dotted}' is not a dotted key such as algo.learning_rate")
    try:
        value = parse_value(text, "")
    except UserError as error:
        raise UserError(f"--set {dotted}: cannot parse value {text!r} as YAML ({error})") from None
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            section = ".".join(parts[: depth + 1])
            raise UserError(f"--set {dotted}: {section} is a value, not a section")
    node[parts[-1]] = value
    for stale in [key for key in marks if key[: len(parts)] == parts]:  # the file's marks of the old value
        del marks[stale]
    for depth in range(1, len(parts) + 1):
        marks[parts[:depth]] = f"--set {dotted}"


def experiment_name(source: Path) -> str:
    stem = "".join(c if c.isalnum() or c in "_-." else "_" for c in source.stem)
    return stem.lstrip("._-") or "experiment"


def _model_classes(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation such as ``NormalizeConfig | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _model_classes(arg)]
    return []


def check_unknown_keys(data: Any, model: type[BaseModel], key: Key, marks: dict[Key, str]) -> None:
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    valid = {field.alias or name: field for name, field in fields.items()}
    for name, value in data.items():
        child = (*key, str(name))
        if name not in valid:
            close = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
            raise UserError(f"{_where(child, marks)}{'.'.join(child)}: unknown key ({hint})")
        models = _model_classes(valid[name].annotation)
        if len(models) == 1:
            check_unknown_keys(value, models[0], child, marks)


def _where(key: Key, marks: dict[Key, str]) -> str:
    for depth in range(len(key), -1, -1):
        if key[:depth] in marks:
            return f"{marks[key[:depth]]}: "
    return ""


def _data_path(loc: tuple[Any, ...], data: Any) -> Key:
    """The part of a pydantic error location that indexes into the user's data (drops union member names)."""
    path: list[str] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        path.append(str(part))
    return tuple(path)


def format_validation_error(error: ValidationError, data: dict[str, Any], marks: dict[Key, str]) -> str:
    first = error.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, ConstraintError):
        key = tuple(ctx_error.path.split("."))
        got = "" if ctx_error.value is None else f"got {ctx_error.value!r}, "
        return f"{_where(key, marks)}{ctx_error.path}: {got}{ctx_error}"
    key = _data_path(tuple(first["loc"]), data)
    same = [e for e in error.errors(include_url=False) if _data_path(tuple(e["loc"]), data) == key]
    dotted = ".".join(key) or "config"
    if first["type"] == "missing":
        missing = ".".join(str(p) for p in first["loc"])
        return f"{_where(key, marks)}{missing}: required key is missing"
    value = _lookup(data, key)
    if key and key[-1] in _EXPECTED and (len(same) > 1 or first["type"] != "value_error"):
        expected = f"expected {_EXPECTED[key[-1]]}"
    else:
        expected = _phrase(first["msg"])
    return f"{_where(key, marks)}{dotted}: got {value!r}, {expected}"


def _phrase(message: str) -> str:
    for prefix, replacement in (
        ("Input should be ", "expected "),
        ("Value error, ", ""),
        ("Assertion failed, ", ""),
    ):
        if message.startswith(prefix):
            return replacement + message[len(prefix) :]
    return message[0].lower() + message[1:] if message else message


def _lookup(data: Any, key: Key) -> Any:
    node = data
    for part in key:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
