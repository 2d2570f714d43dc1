"""Output claims: checked before the work, held atomically, released at the end, stale ones taken over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recurrent_rl.artifacts.claims import Output, claim_outputs
from recurrent_rl.errors import UserError
from tests.helpers.hostile import unwritable_folder


def test_a_second_claim_on_one_output_is_refused_while_the_first_is_held(tmp_path: Path) -> None:
    out = tmp_path / "policy.onnx"
    with claim_outputs("--out", [Output(out)], force=False):
        assert (tmp_path / ".policy.onnx.claim").read_text() == f"{os.getpid()}\n"
        with (
            pytest.raises(
                UserError, match=rf"another command is writing {out} right now \(process {os.getpid()}\)"
            ),
            claim_outputs("--out", [Output(out)], force=True),
        ):
            pass
        out.write_text("written by the holder")
    assert not (tmp_path / ".policy.onnx.claim").exists()  # released
    assert out.read_text() == "written by the holder"


def test_a_claim_of_another_process_is_seen_and_its_stale_file_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "x.gif"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(UserError, match=f"process {holder.pid}"),
            claim_outputs("--video", [Output(out)], force=False),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert (tmp_path / ".x.gif.claim").exists()  # killed: its claim file stays, stale
    with claim_outputs("--video", [Output(out)], force=False):
        pass
    assert not (tmp_path / ".x.gif.claim").exists()


HOLD = """
import sys, time
from pathlib import Path
from recurrent_rl.artifacts.claims import Output, claim_outputs
with claim_outputs("--video", [Output(Path(sys.argv[1]))], force=False):
    print("held", flush=True)
    time.sleep(60)
"""


def test_existing_outputs_need_force_and_nothing_is_left_on_refusal(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("mine")
    outputs = [Output(tmp_path / "p.onnx"), Output(tmp_path / "p.json")]
    with (
        pytest.raises(UserError, match=r"--out .*p.onnx: .*p.json exists \(use --force to overwrite\)"),
        claim_outputs("--out", outputs, force=False),
    ):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]
    with claim_outputs("--out", outputs, force=True):
        pass
    folder = Output(tmp_path / "explain", ("trace.npz", "summary.json"))
    (tmp_path / "explain").mkdir()
    (tmp_path / "explain" / "summary.json").write_text("{}")
    with (
        pytest.raises(UserError, match="already holds summary.json"),
        claim_outputs("explain --out", [folder], force=False),
    ):
        pass


def test_a_folder_made_for_outputs_is_removed_if_the_work_fails(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    with (
        pytest.raises(RuntimeError),
        claim_outputs("report --out", [Output(folder, ("report.md",))], force=False),
    ):
        assert folder.is_dir()
        raise RuntimeError("the work failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_unwritable_and_missing_places_are_refused_before_the_work(tmp_path: Path, kind: str) -> None:
    files = None if kind == "file" else ("a.png",)
    unwritable = unwritable_folder(tmp_path)
    with (
        pytest.raises(UserError, match=f"--out {unwritable}/out: cannot write in {unwritable}"),
        claim_outputs("--out", [Output(unwritable / "out", files)], force=False),
    ):
        pytest.fail("the work started")
    with (
        pytest.raises(UserError, match="folder .*nowhere does not exist"),
        claim_outputs("--out", [Output(tmp_path / "nowhere" / "out", files)], force=False),
    ):
        pytest.fail("the work started")
