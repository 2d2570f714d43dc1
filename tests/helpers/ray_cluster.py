"""A real Ray cluster on loopback for the tests: a head and a worker node of one CPU each, started with
``ray start`` (token authentication on, a token of the test's own), and stopped by the ids of the processes
this test started; the worker node can be killed outright, as a lost machine."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RAY = Path(sys.executable).parent / "ray"


@dataclass
class Cluster:
    address: str
    env: dict[str, str]  # what a driver needs: RAY_AUTH_MODE=token and the token
    head: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    worker_log: Path  # the worker's ``ray start`` output


def why_not() -> str | None:
    """Why no cluster can be started here, or None."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'ray[default]')"
    return None if RAY.is_file() else f"no {RAY}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _node_ports() -> list[str]:
    """Every port a node opens, free ones (other Ray instances may run on this machine)."""
    names = ["node-manager", "object-manager", "metrics-export", "dashboard-agent-listen"]
    names += ["dashboard-agent-grpc", "runtime-env-agent"]
    return [item for name in names for item in (f"--{name}-port", str(_free_port()))]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``ray start ARGS --block`` in its own session, its output in ``log`` (see :func:`wait_until_up`)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(RAY), "start", *args, "--block", "--num-cpus", "1", "--disable-usage-stats", *_node_ports()],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """Until ``ray start`` says its node is up (it then stays in the foreground: ``--block``)."""
    deadline = time.monotonic() + timeout
    while "Ray runtime started" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"ray start did not start a node:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (by parent pid, read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def kill_node(process: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL a node's processes (raylet, its workers, their trainings): a lost machine. Their pids."""
    killed = []
    for _ in range(2):  # a process may start while the first pass runs
        for pid in descendants(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    process.wait(timeout=30)
    return killed


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a node this test started: SIGTERM to its ``ray start``, which stops the node's processes;
    SIGKILL to any of them still there after 20 s."""
    pids = descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@contextlib.contextmanager
def ray_cluster() -> Iterator[Cluster]:
    """A head node (up when this yields) and a worker node (joining; see :func:`wait_until_up`) on loopback,
    each in its own temporary folder; both stopped afterwards."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env.pop("RAY_ADDRESS", None)
    folders = [Path(tempfile.mkdtemp(prefix="rrl-ray-", dir="/tmp")) for _ in range(2)]  # short socket paths
    port = _free_port()
    head_args = [
        "--head",
        "--port",
        str(port),
        "--node-ip-address",
        "127.0.0.1",
        "--temp-dir",
        str(folders[0]),
    ]
    head_args += ["--include-dashboard", "false", "--dashboard-port", str(_free_port())]
    head_args += ["--ray-client-server-port", str(_free_port())]
    head = _start(head_args, env, folders[0] / "start.log")
    try:
        wait_until_up(head, folders[0] / "start.log")
        address = f"127.0.0.1:{port}"
        worker_args = ["--address", address, "--node-ip-address", "127.0.0.1", "--temp-dir", str(folders[1])]
        worker = _start(worker_args, env, folders[1] / "start.log")
        try:
            yield Cluster(address, env, head, worker, folders[1] / "start.log")
        finally:
            stop(worker)
    finally:
        stop(head)
        for folder in folders:
            subprocess.run(["rm", "-rf", str(folder)], check=False)
