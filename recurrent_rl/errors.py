"""Bad input and exit statuses: the CLI prints a UserError's message on one line and exits 2."""

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class UserError(Exception):
    """Bad input from the user (config, files, arguments). The message names what is wrong and where."""


class CheckFailed(Exception):
    """A result failed its check (say, an exported policy that disagrees): one line, exit 1."""
