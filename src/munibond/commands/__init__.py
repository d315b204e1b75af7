"""`munibond` subcommands, one module each; registered lazily in `munibond.cli.COMMANDS`."""
