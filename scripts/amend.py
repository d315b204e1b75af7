"""`ape run amend SYMBOL TERMS.yaml`: the same as `munibond amend` (see munibond.commands.amend)."""

from munibond.commands.amend import amend as cli

__all__ = ["cli"]
