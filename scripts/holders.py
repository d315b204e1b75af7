"""`ape run holders`: the same as `munibond holders` (see munibond.commands.holders)."""

from munibond.commands.holders import holders as cli

__all__ = ["cli"]
