"""`ape run redeem`: the same as `munibond redeem` (see munibond.commands.coupon)."""

from munibond.commands.coupon import redeem as cli

__all__ = ["cli"]
