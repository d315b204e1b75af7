"""munibond: municipal bonds as permissioned ERC-3643 security tokens."""

__version__ = "0.1.0"
