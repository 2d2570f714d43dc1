"""Vector envs from a config: building them (:mod:`.build`), their normalisation layer, closing them."""
