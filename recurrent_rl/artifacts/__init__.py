"""What a run leaves on disk: the run folder, atomic writes, run records, model and statistics files, and the
saved-run lookup that evaluate, inspect, export and resume share. Nothing here imports Stable-Baselines3."""
