"""One module per ``recurrent-rl`` command. Each has ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args, argv) -> exit status``, and imports torch and SB3 only inside ``run``, after the cheap checks."""
