"""A throwaway PostgreSQL server on a loopback port, for the shared-storage test.

initdb refuses to run as root: as root, the server's programs run as the ``postgres`` user (or ``nobody``)
through ``runuser``, in a temporary folder that user owns. The test is skipped, with the reason, only
where no server binary or no way to drop root exists.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    return candidates[-1] if candidates else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parents[1].name)
    except ValueError:
        return 0.0


def why_not() -> str | None:
    """Why no server can be started here, or None."""
    if find_binary("initdb") is None or find_binary("pg_ctl") is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _server_user() is None):
        return "running as root without runuser or a non-root user (postgres, nobody) to run initdb as"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed"
    return None


def _server_user() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def postgres_server(database: str = "optuna") -> Iterator[str]:
    """Start a server, create ``database``, yield its URL; stop the server and remove its files."""
    import psycopg2

    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    assert initdb and pg_ctl
    folder = Path(tempfile.mkdtemp(prefix="recurrent-rl-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = _server_user()
        assert user is not None
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", user.pw_name, "--"]
    data, port = folder / "data", _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120, cwd=folder)

    try:
        run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        run(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "start")
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {database}")
            connection.close()
            yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
        finally:
            run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
