"""`ape run transfers suspend|resume SYMBOL`: the same as `munibond transfers` (see munibond.commands.transfers)."""

from munibond.commands.transfers import transfers as cli

__all__ = ["cli"]
