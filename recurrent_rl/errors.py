"""The one exception type for bad input: the CLI prints its message on one line and exits 2."""


class UserError(Exception):
    """Bad input from the user (config, files, arguments). The message names what is wrong and where."""
