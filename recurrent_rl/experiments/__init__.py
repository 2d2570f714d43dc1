"""Experiments: sweeps of configs x grid points x seeds, and reports with statistics and plots.

A sweep (``recurrent-rl sweep``) is read from a validated sweep file (:mod:`.sweep_file`), planned into
ordinary run folders with deterministic names (:mod:`.plan`) and trained by one training process per run
(:mod:`.launch`) on an executor: local processes or Ray tasks (:mod:`.executors`), scheduled by
:mod:`.scheduler` (a lost run resubmitted, resumed from its checkpoint) and driven by :mod:`.runner`; the
tuner asks a training to stop early through :mod:`.stop_file`. A report (``recurrent-rl report``) groups
finished runs by (config, grid point) (:mod:`.results`), estimates with rliable (:mod:`.stats`), and draws
the plots (:mod:`.plots`).
"""
