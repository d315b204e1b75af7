"""`munibond` command line: a click group whose subcommands live in `munibond.commands.*`.

Subcommands are imported only when invoked (so `munibond schedule` never imports Ape). To add one,
write `munibond/commands/<name>.py` with a click command and add `"<name>": "munibond.commands.<name>:<attr>"`
to `COMMANDS`. Any `InputError` raised by a command is printed as `error: <file>:<line>: <field>: <message>`
(one line per problem) on stderr, with exit status 2; so is a refusal (a contract's custom error, an unreachable
node, an unknown network, an account that cannot sign: see `munibond.chain.refusals`), as one line.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from munibond import __version__
from munibond.chain.refusals import report

COMMANDS: dict[str, str] = {
    "schedule": "munibond.commands.schedule:schedule",
    "deploy": "munibond.commands.deploy:deploy",
    "investors": "munibond.commands.investors:investors",
    "issue": "munibond.commands.issue:issue",
    "coupon": "munibond.commands.coupon:coupon",
    "holders": "munibond.commands.holders:holders",
    "redeem": "munibond.commands.coupon:redeem",
    "transfers": "munibond.commands.transfers:transfers",
    "call": "munibond.commands.call:call",
    "amend": "munibond.commands.amend:amend",
    "documents": "munibond.commands.documents:documents",
}

INPUT_ERROR_EXIT = 2


class LazyGroup(click.Group):
    """A click group that imports subcommands from `COMMANDS` on first use and reports bad input and refusals."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, attr = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            lines = report(exc)
            if lines is None:
                raise
            for line in lines:
                click.echo(line, err=True)
            sys.exit(INPUT_ERROR_EXIT)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="munibond")
def main() -> None:
    """munibond: municipal bonds as permissioned security tokens."""
