"""`ape run demo`: the end-to-end walkthrough on a local chain (see munibond.demo)."""

import click
from ape.cli import ConnectedProviderCommand, network_option

from munibond.console import make_console
from munibond.demo import DemoFiles, Walkthrough


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
def cli(ecosystem, network, provider):
    from ape import accounts, chain
    from ape.logging import logger

    from munibond.chain.contracts import SHIPPED

    logger.set_level("WARNING")
    Walkthrough(SHIPPED, chain, accounts, make_console(), DemoFiles()).run()
