"""Training: the flow from config to finished run (:mod:`.train`), its callbacks, checkpoints, guards, signals
and TensorBoard logger."""
