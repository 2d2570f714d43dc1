"""Tuning: an Optuna search over PPO and LSTM hyperparameters (``recurrent-rl tune``).

A search space (:mod:`.space`) is sampled into ``--set`` overrides of one config; each trial is an ordinary
training run in the study folder ``<runs_dir>/studies/<name>/``, reported to Optuna after each evaluation
and pruned there (:mod:`.objective`). Workers (:mod:`.worker`), local processes or Ray tasks started by
:mod:`.runner`, share the study's storage (:mod:`.study`: SQLite by default, any database Optuna supports,
with heartbeats so a killed worker's trial fails and is retried). After each run of the command the study
folder holds ``trials.csv``, ``best.yaml``, ``importance.png`` and ``history.png`` (:mod:`.outputs`).
"""
