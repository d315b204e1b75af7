"""`ape run call SYMBOL DATE`: the same as `munibond call` (see munibond.commands.call)."""

from munibond.commands.call import call as cli

__all__ = ["cli"]
