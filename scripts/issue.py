"""`ape run issue`: the same as `munibond issue` (see munibond.commands.issue)."""

from munibond.commands.issue import issue as cli

__all__ = ["cli"]
