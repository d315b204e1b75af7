"""`ape run onboard`: the same as `munibond investors import` (see munibond.commands.investors)."""

from munibond.commands.investors import import_ as cli

__all__ = ["cli"]
