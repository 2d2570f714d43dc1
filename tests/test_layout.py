"""The tests mirror the package: a folder per sub-package, shared helpers only in ``tests/helpers/``, and no
test module importing another test module (or a conftest)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_sub_package_has_its_test_folder() -> None:
    packages = {path.parent.name for path in (ROOT / "recurrent_rl").glob("*/__init__.py")}
    missing = sorted(name for name in packages if not (TESTS / name).is_dir())
    assert not missing, f"no tests/<sub-package>/ for: {missing}"


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for module in _imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if module.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders, "move shared code to tests/helpers/:\n" + "\n".join(offenders)


def test_helper_modules_live_in_tests_helpers() -> None:
    stray = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("*.py")
        if path.parent != TESTS / "helpers"
        and path.name not in ("__init__.py", "conftest.py")
        and not path.name.startswith("test_")
    ]
    assert not stray, f"helper modules belong in tests/helpers/: {stray}"
