"""Close a vector env, also when an interrupt left a SubprocVecEnv mid-step or ended its workers."""

from __future__ import annotations

import contextlib
from typing import Any

from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv

WORKER_TIMEOUT_S = 2.0


def close_vec_env(env: VecEnv) -> None:
    """Close ``env`` and its worker processes; SB3's ``close`` would wait forever for a reply already
    received, or fail on a dead worker."""
    layer: Any = env
    while layer is not None and not isinstance(layer, SubprocVecEnv):
        layer = getattr(layer, "venv", None)
    if layer is not None and not layer.closed:
        if layer.waiting:
            for remote in layer.remotes:
                with contextlib.suppress(Exception):
                    if remote.poll(WORKER_TIMEOUT_S):
                        remote.recv()
        for remote in layer.remotes:
            with contextlib.suppress(OSError):
                remote.send(("close", None))
        for process in layer.processes:
            process.join(WORKER_TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                process.join()
        for remote in layer.remotes:
            remote.close()
        layer.waiting, layer.closed = False, True
    env.close()
