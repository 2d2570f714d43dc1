"""One job per function and module: no function over 60 lines, no module over 300 (recurrent_rl/, envs/).

A function counts from its first decorator to its last line. The only functions allowed over 60 lines are
those whose docstring says they mirror an upstream function ("Mirrors sb3-contrib's
``RecurrentPPO.train`` ..."), so they can be read line by line against it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("recurrent_rl", "envs")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 300
MAX_MIRRORS = 1  # functions allowed over the limit, each marked in its docstring
MIRRORS = re.compile(r"^Mirrors [\w-]+'s ``[\w.]+``")


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    assert node.end_lineno is not None
    return node.end_lineno - first + 1


def _oversized() -> list[str]:
    found, mirrors = [], []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            n_lines = len(text.splitlines())
            if n_lines > MAX_MODULE_LINES:
                found.append(f"module {name}: {n_lines} lines")
            for function in _functions(ast.parse(text)):
                length = _length(function)
                where = f"function {name}:{function.lineno} {function.name}: {length} lines"
                if length <= MAX_FUNCTION_LINES:
                    continue
                if MIRRORS.match(ast.get_docstring(function) or ""):
                    mirrors.append(where)
                else:
                    found.append(where)
    if len(mirrors) > MAX_MIRRORS:
        found += [f"{where} (at most {MAX_MIRRORS} marked exception)" for where in mirrors]
    return found


def test_no_function_over_60_lines_and_no_module_over_300() -> None:
    found = _oversized()
    assert not found, "split by job:\n" + "\n".join(found)


def test_the_check_finds_long_functions_and_spares_mirrors() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    mirror = 'def mirror():\n    """Mirrors sb3\'s ``A.train``."""\n'
    long, mirrored = _functions(ast.parse(f"@decorator\ndef long():\n{body}\n\n{mirror}"))
    assert _length(long) == 62
    assert MIRRORS.match(ast.get_docstring(mirrored) or "")
    assert not MIRRORS.match("Trains like sb3-contrib's RecurrentPPO.train")
