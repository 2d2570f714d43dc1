"""Training: the flow from config to finished run (:mod:`.train`), its callbacks, checkpoints, guards, signals
and TensorBoard logger, and ``check-env``'s checks of the env a config would train on (:mod:`.env_check`)."""
