"""Chain operations built on Ape: deploy, onboard, pay, redeem, report.

Nothing here connects to a network at import time; every function takes the Ape objects it needs.
"""
