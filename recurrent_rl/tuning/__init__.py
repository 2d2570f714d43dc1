"""Tuning: an Optuna search over PPO and LSTM hyperparameters (``recurrent-rl tune``).

A search space (:mod:`.space`) is sampled into ``--set`` overrides of one config; each trial trains one run
per seed (:mod:`.trial`), started as ``recurrent-rl train`` through the sweep's executors (local processes
or Ray tasks) by the command's scheduler (:mod:`.scheduler`, :mod:`.asking`), which reports the seeds' mean
evaluation to the pruner, resubmits lost trainings, and tells Optuna how each trial ended. Commands on
several machines share a study through its storage (:mod:`.study`; heartbeats and a local lock:
:mod:`.coordination`) when they search the same thing (:mod:`.identity`); a study folder belongs to one
study (:mod:`.folder`). After each run of the command the study folder holds ``trials.csv``, ``best.yaml``,
``importance.png`` and ``history.png`` (:mod:`.outputs`).
"""
