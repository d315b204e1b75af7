"""`munibond` command line: a click group whose subcommands live in `munibond.commands.*`.

Subcommands are imported only when invoked (so `munibond schedule` never imports Ape). To add one,
write `munibond/commands/<name>.py` with a click command and add `"<name>": "munibond.commands.<name>:<attr>"`
to `COMMANDS`. Any `InputError` raised by a command is printed as `error: <file>:<line>: <field>: <message>`
(one line per problem) on stderr, with exit status 2; so is a refusal (a contract's custom error, an unreachable
node, an unknown network, an account that cannot sign: see `munibond.chain.refusals`), as one line.

The group finds the workspace (`--workspace`, `$MUNIBOND_WORKSPACE` or the nearest `munibond.yaml` above the
current directory, see `munibond.workspace`) before any subcommand is imported, so `$APE_DATA_FOLDER` points into
it before Ape is. A command whose tools are not installed (Ape, QuantLib, rich: `pip install 'munibond[ops]'`)
ends with one line saying so.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from munibond import __version__
from munibond.chain.refusals import report
from munibond.errors import InputError

COMMANDS: dict[str, str] = {
    "init": "munibond.commands.init:init",
    "schedule": "munibond.commands.schedule:schedule",
    "deploy": "munibond.commands.deploy:deploy",
    "investors": "munibond.commands.investors:investors",
    "issue": "munibond.commands.issue:issue",
    "coupon": "munibond.commands.coupon:coupon",
    "holders": "munibond.commands.holders:holders",
    "register": "munibond.commands.register:register",
    "redeem": "munibond.commands.coupon:redeem",
    "transfers": "munibond.commands.transfers:transfers",
    "call": "munibond.commands.call:call",
    "amend": "munibond.commands.amend:amend",
    "documents": "munibond.commands.documents:documents",
    "fund": "munibond.commands.fund:fund",
    "export": "munibond.commands.export:export",
    "report": "munibond.commands.report:report",
    "bank": "munibond.commands.bank:bank",
    "subscription": "munibond.commands.subscription:subscription",
    "trade": "munibond.commands.trade:trade",
}

INPUT_ERROR_EXIT = 2
# modules of the operator extra (`munibond[ops]`): a command that needs one says so instead of a traceback
OPS_MODULES = frozenset({"ape", "ape_foundry", "ethpm_types", "QuantLib", "rich", "sqlalchemy"})


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
            try:
                command = getattr(importlib.import_module(module_name), attr)
            except ModuleNotFoundError as exc:
                command = _needs_ops(cmd_name, exc)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            _report(exc)
        except ModuleNotFoundError as exc:
            _report_missing_extra(exc, f"munibond {ctx.invoked_subcommand or ''}".strip())
        except Exception as exc:
            lines = report(exc)
            if lines is None:
                raise
            for line in lines:
                click.echo(line, err=True)
            sys.exit(INPUT_ERROR_EXIT)


def _report(error: InputError) -> None:
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(INPUT_ERROR_EXIT)


def _report_missing_extra(exc: ModuleNotFoundError, what: str) -> None:
    """One line naming the extra to install when an operator module is missing; anything else is a bug."""
    top = (exc.name or "").split(".")[0]
    if top not in OPS_MODULES:
        raise exc
    hint = "pip install 'munibond[ops]'"
    click.echo(f"error: {what} needs the operator tools ({top} is not installed): {hint}", err=True)
    sys.exit(INPUT_ERROR_EXIT)


def _needs_ops(cmd_name: str, exc: ModuleNotFoundError) -> click.Command:
    """A stand-in for a command whose module needs a missing operator tool: listed in `--help`, and saying what
    to install when run."""
    if (exc.name or "").split(".")[0] not in OPS_MODULES:
        raise exc

    def run(args: tuple[str, ...]) -> None:
        _report_missing_extra(exc, f"munibond {cmd_name}")

    return click.Command(
        cmd_name,
        callback=run,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        help="(needs the operator tools: pip install 'munibond[ops]')",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


def _activate_workspace(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Eager: runs while the group's options are parsed, before a subcommand (and Ape) is imported."""
    from munibond.workspace import activate

    if ctx.resilient_parsing:
        return value
    try:
        activate(value)
    except InputError as exc:
        _report(exc)
    return value


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="munibond")
@click.option(
    "--workspace",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    is_eager=True,
    expose_value=False,
    callback=_activate_workspace,
    help="Workspace folder (see `munibond init`); default $MUNIBOND_WORKSPACE, else the nearest folder at or above "
    "the current one holding munibond.yaml.",
)
def main() -> None:
    """munibond: municipal bonds as permissioned security tokens."""
