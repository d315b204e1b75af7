"""`ape run deploy`: the same as `munibond deploy` (see munibond.commands.deploy)."""

from munibond.commands.deploy import deploy as cli

__all__ = ["cli"]
