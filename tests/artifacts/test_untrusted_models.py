"""Opening someone else's model.zip or statistics runs none of their code.

SB3's ``load`` unpickles the ``:serialized:`` fields of a model.zip's ``data`` entry (and older versions its
``.pth`` entries), and ``VecNormalize.load`` unpickles a whole file. The files crafted here would create a
marker file when unpickled; ``evaluate``, ``inspect``, ``export`` and ``train --resume`` must never create
it, and either work or refuse with one clear line (exit 2).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.cli import assert_one_error, run_cli, tiny_config


class _Touch:
    """Unpickling this runs ``touch PATH``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch '{self.path}'",)


def _evil_pth(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": _Touch(marker)}, buffer)
    return buffer.getvalue()


def _rewrite_zip(source: Path, target: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, replace.get(name, old.read(name)))


def _evil_data(source: Path, marker: Path) -> bytes:
    """The ``data`` entry with every pickled field replaced by the payload (keeping the plain fields)."""
    with zipfile.ZipFile(source) as archive:
        data = json.loads(archive.read("data"))
    payload = base64.b64encode(pickle.dumps(_Touch(marker))).decode()
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = payload
    return json.dumps(data).encode()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("trusted")
    normalized = "  normalize: true\n"
    config = tiny_config(total_timesteps=128, eval_freq=0, checkpoint_freq=64, extra_env=normalized)
    (workdir / "norm.yaml").write_text(config)
    done = run_cli("train", "norm.yaml", "--run-name", "r", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return workdir / "runs" / "norm" / "r"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


def _copy(trained: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


def test_the_payloads_are_live(trained: Path, tmp_path: Path, marker: Path) -> None:
    """Control: SB3's loader runs the crafted data entry, and a pickle-enabled torch.load the .pth."""
    from stable_baselines3.common.save_util import load_from_zip_file

    evil = tmp_path / "evil.zip"
    _rewrite_zip(trained / "model.zip", evil, {"data": _evil_data(trained / "model.zip", marker)})
    with contextlib.suppress(Exception):
        load_from_zip_file(evil)
    assert marker.exists(), "SB3's loader did not run the payload: the tests below would prove nothing"
    marker.unlink()
    torch.load(io.BytesIO(_evil_pth(marker)), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("command", ["evaluate", "inspect", "export"])
def test_pickled_fields_are_ignored(trained: Path, tmp_path: Path, marker: Path, command: str) -> None:
    """Malicious data fields and pytorch_variables/optimizer entries: ignored, the command works."""
    run = _copy(trained, tmp_path)
    model = run / "model.zip"
    evil = {
        "data": _evil_data(model, marker),
        "pytorch_variables.pth": _evil_pth(marker),
        "policy.optimizer.pth": _evil_pth(marker),
    }
    _rewrite_zip(trained / "model.zip", model, evil)
    extra = {"evaluate": ["--episodes", "2"], "inspect": ["--json"], "export": ["--out", tmp_path / "p.pt"]}
    done = run_cli(command, run, *extra[command], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    if command == "inspect":
        assert json.loads(done.stdout)["timesteps"] == 128  # plain fields are still read


@pytest.mark.parametrize("command", ["evaluate", "inspect", "export"])
def test_malicious_weights_are_refused(trained: Path, tmp_path: Path, marker: Path, command: str) -> None:
    run = _copy(trained, tmp_path)
    _rewrite_zip(trained / "model.zip", run / "model.zip", {"policy.pth": _evil_pth(marker)})
    extra = {"evaluate": ["--episodes", "2"], "inspect": [], "export": ["--out", tmp_path / "p.pt"]}
    done = run_cli(command, run, *extra[command], cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "safely")
    assert not marker.exists() and not (tmp_path / "p.pt").exists()


@pytest.mark.parametrize("where", ["entry", "file"])
@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_pickled_statistics_are_refused(
    trained: Path, tmp_path: Path, marker: Path, command: str, where: str
) -> None:
    """Statistics with an object array, inside the model zip or (a run saved before the entry) beside it."""
    run = _copy(trained, tmp_path)
    arrays = dict(np.load(trained / "vecnormalize.npz"))
    arrays["obs/mean"] = np.array([_Touch(marker)], dtype=object)
    evil = io.BytesIO()
    np.savez(evil, **arrays)  # an object array: only loadable with allow_pickle
    (run / "vecnormalize.npz").write_bytes(evil.getvalue())
    with zipfile.ZipFile(trained / "model.zip") as archive:
        assert "vecnormalize.npz" in archive.namelist()  # a model carries its own statistics
    if where == "entry":
        _rewrite_zip(trained / "model.zip", run / "model.zip", {"vecnormalize.npz": evil.getvalue()})
    else:
        _drop_entry(trained / "model.zip", run / "model.zip", "vecnormalize.npz")
    extra = {"evaluate": ["--episodes", "2"], "export": ["--out", tmp_path / "p.pt"]}
    done = run_cli(command, run, *extra[command], cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "vecnormalize.npz: not a valid statistics file")
    assert not marker.exists()


def _drop_entry(source: Path, target: Path, entry: str) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name != entry:
                new.writestr(name, old.read(name))


def test_resume_reads_no_pickle(trained: Path, tmp_path: Path, marker: Path) -> None:
    """A checkpoint with a malicious data entry and optimizer state: the optimizer state is refused."""
    run = _copy(trained, tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    checkpoint = sorted((run / "checkpoints").glob("*.zip"))[-1]
    evil = {
        "data": _evil_data(checkpoint, marker),
        "pytorch_variables.pth": _evil_pth(marker),
        "policy.optimizer.pth": _evil_pth(marker),
    }
    _rewrite_zip(sorted((trained / "checkpoints").glob("*.zip"))[-1], checkpoint, evil)
    done = run_cli("train", "--resume", run, cwd=tmp_path)
    assert_one_error(done.returncode, done.stderr, "cannot read policy.optimizer.pth safely")
    assert not marker.exists()
