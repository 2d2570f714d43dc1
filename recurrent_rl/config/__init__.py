"""The experiment config: its schema (:mod:`.schema`) and how a YAML file becomes one (:mod:`.loader`)."""
