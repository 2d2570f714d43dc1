"""The user's env modules (``env.import``, ``env.id: module:EnvId``, ``env.entry_point: module:attr``).

A module is looked for in the folders of ``env.search_path`` (the config file's folder and the directory
training started from, recorded as absolute paths in the run's ``config.yaml``), then the current
directory, then the installed packages. The folder it is found in is put at the front of ``sys.path``, as
``PYTHONPATH=folder`` would, so the module's own imports of its neighbours work. An exception raised while
the module is imported is the user's error: it is reported at the line of the user's file that raised it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from recurrent_rl.errors import UserError

MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# The packages training is built on: their frames are never the user's code (say, gymnasium.wrappers:X).
_FRAMEWORKS = frozenset({"gymnasium", "numpy", "torch", "stable_baselines3", "sb3_contrib", "recurrent_rl"})
ENV_CREATOR = "a Gymnasium env class or a function that returns an env"
# Where each module imported here came from (its file, or its package's folder): user code, for messages.
_ORIGINS: dict[str, Path] = {}


def search_folders(search_path: Sequence[str] | None) -> list[Path]:
    """The folders searched, in order: ``search_path``, then the current directory (no duplicates)."""
    folders: list[Path] = []
    for folder in [*(Path(entry) for entry in search_path or ()), Path.cwd()]:
        resolved = folder.resolve()
        if resolved not in folders:
            folders.append(resolved)
    return folders


def import_user_module(name: str, search_path: Sequence[str] | None, key: str) -> ModuleType:
    """Import ``name`` (found as described above); a UserError naming ``key`` when that fails."""
    if not MODULE_NAME.match(name):
        raise UserError(f"{key}: {name!r} is not a module name such as my_envs or mypkg.envs")
    top = name.split(".")[0]
    folders = search_folders(search_path)
    folder, origin = _find_in_folders(top, folders, dotted="." in name)
    if folder is not None and origin is not None:
        _check_not_shadowed(top, origin, key)
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    elif top in sys.modules:
        origin = _module_origin(sys.modules[top])
    else:
        spec = importlib.util.find_spec(top)
        if spec is None:
            raise UserError(f"{key}: cannot import {name!r}: {_not_found(top, folders)}")
        locations = list(spec.submodule_search_locations or [])
        found = locations[0] if locations else spec.origin
        origin = Path(found).resolve() if found else None
    if origin is not None and top not in _FRAMEWORKS:
        _ORIGINS[top] = origin  # before the import: an error while importing is located in these files
    importlib.invalidate_caches()  # a file written since the folder was last listed
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name + ".").startswith(error.name + "."):
            raise UserError(f"{key}: cannot import {name!r} ({error})") from None
        raise UserError(f"{key}: importing {name!r} failed: {describe_error(error)}") from None
    except SyntaxError as error:
        where = f"{error.filename}:{error.lineno}: " if error.filename else ""
        raise UserError(f"{key}: importing {name!r} failed: {where}SyntaxError: {error.msg}") from None
    except (Exception, SystemExit) as error:  # the user's module is the user's input, not our crash
        raise UserError(f"{key}: importing {name!r} failed: {describe_error(error)}") from None
    return module


def resolve_attribute(
    module: ModuleType,
    path: str,
    key: str,
    reference: str,
    expected: str = ENV_CREATOR,
    hint: Callable[[ModuleType, str], str] | None = None,
) -> Callable[..., Any]:
    """``module.path`` (dotted attributes allowed), which must be callable (``expected`` says what).

    ``hint(module, missing)`` completes the message of a missing attribute (default: the env classes).
    """
    target: Any = module
    for part in path.split("."):
        if not hasattr(target, part):
            where = getattr(module, "__file__", None) or module.__name__
            extra = (hint or _env_classes_hint)(module, part)
            raise UserError(f"{key}: {reference!r}: {where} has no attribute {part!r}{extra}")
        target = getattr(target, part)
    if not callable(target):
        raise UserError(f"{key}: {reference!r} is a {type(target).__name__}, expected {expected}")
    return target


def _env_classes_hint(module: ModuleType, missing: str) -> str:
    names = [n for n, value in vars(module).items() if _is_env_class(value, module.__name__)]
    return f"; env classes in it: {', '.join(names)}" if names else ""


def describe_error(error: BaseException) -> str:
    """``file:line: Type: message`` on one line, at the last frame of the user's code (when there is one)."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    where = user_frame(error.__traceback__)
    return f"{where}: {text}" if where else text


def user_frame(tb: TracebackType | None) -> str | None:
    """``file:line`` of the last traceback frame in a module imported here (the user's code), or None."""
    origins = list(_ORIGINS.values())
    for frame in reversed(traceback.extract_tb(tb)):
        path = Path(frame.filename).resolve()
        if any(path == origin or origin in path.parents for origin in origins):
            return f"{frame.filename}:{frame.lineno}"
    return None


def _find_in_folders(top: str, folders: list[Path], dotted: bool) -> tuple[Path | None, Path | None]:
    """The first folder holding ``top.py`` or a package ``top/`` (a plain folder only for dotted names)."""
    for folder in folders:
        if (folder / f"{top}.py").is_file():
            return folder, (folder / f"{top}.py").resolve()
        package = folder / top
        if (package / "__init__.py").is_file() or (dotted and package.is_dir()):
            return folder, package.resolve()
    return None, None


def _check_not_shadowed(top: str, origin: Path, key: str) -> None:
    """A module of the same name imported from elsewhere (say, a file called ``envs.py``) would win."""
    loaded = sys.modules.get(top)
    if loaded is None:
        return
    where = _module_origin(loaded)
    if where is not None and where != origin:
        raise UserError(
            f"{key}: {origin} has the name of the module {top!r} that is already imported from {where}; "
            "rename your file"
        )


def _module_origin(module: ModuleType | None) -> Path | None:
    """A module's file, or a package's folder."""
    if module is None:
        return None
    file = getattr(module, "__file__", None)
    if file is not None:
        path = Path(file).resolve()
        return path.parent if path.name == "__init__.py" else path
    locations = list(getattr(module, "__path__", []))
    return Path(locations[0]).resolve() if locations else None


def _not_found(top: str, folders: list[Path]) -> str:
    searched = ", ".join(str(folder) for folder in folders)
    return f"no {top}.py or {top}/ package in {searched} and no installed module {top!r}"


def _is_env_class(value: Any, module: str) -> bool:
    """An env class defined in ``module`` (not one it imports)."""
    import gymnasium as gym

    return isinstance(value, type) and issubclass(value, gym.Env) and value.__module__ == module
