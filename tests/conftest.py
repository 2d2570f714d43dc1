"""Shared test set-up: importing envs registers the RecurrentRL/ environments."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import envs  # noqa: E402,F401  (registers RecurrentRL/ ids)
