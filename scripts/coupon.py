"""`ape run coupon`: the same as `munibond coupon pay` (see munibond.commands.coupon)."""

from munibond.commands.coupon import pay as cli

__all__ = ["cli"]
