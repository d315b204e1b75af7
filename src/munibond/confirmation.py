"""Confirm before money moves: what a command is about to send, shown in words and currency units, then asked.

The commands that move money or mint (`coupon pay`, `redeem`, `call`, `issue`, `investors import`) first run
every check they can without sending anything, then build a `Preview` and hand it to `confirm`:

- `--dry-run`: the preview is printed and nothing is sent;
- `--yes`: the preview is printed and the command goes ahead without asking (for scripts);
- otherwise the operator is asked (default No). A "no" sends nothing (exit 1). A standard input that is not
  interactive and brings no answer is refused in one line (exit 2) instead of waiting: a script must say `--yes`.

A preview with nothing to send is printed and the command stops there (no question).
"""

from __future__ import annotations

import select
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import click

from munibond.errors import InputError

DECLINED_EXIT = 1
ANSWER_WAIT_S = 2.0  # how long a non-interactive standard input may take to bring its answer


@dataclass(frozen=True)
class Preview:
    """What a command will send: a title, labelled lines (amounts already in currency units) and the number of
    transactions (0: nothing to send)."""

    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    transactions: int = 0

    def render(self) -> list[str]:
        width = max((len(label) for label, _ in self.lines), default=0)
        body = [f"  {label.ljust(width)}  {value}" for label, value in self.lines]
        return [self.title, *body, f"  {'transactions'.ljust(width)}  {self.transactions}"]


def confirm_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--yes` and `--dry-run`, the same on every command that sends money or mints."""
    command = click.option(
        "--dry-run", is_flag=True, help="Run every check and show what would be sent (the same preview); send nothing."
    )(command)
    return click.option(
        "--yes", "-y", "yes", is_flag=True, help="Do not ask before sending (for scripts); the preview is still shown."
    )(command)


def _answer_waiting(stream: IO[str], timeout: float) -> bool:
    """Whether asking on `stream` can get an answer: a terminal (a person types it), a stream in memory, or a pipe
    or file with something to read within `timeout` seconds (an open pipe that stays silent would hang a cron job)."""
    try:
        if stream.isatty():
            return True
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    except (OSError, ValueError):
        return False
    return bool(readable)


def ask(question: str, *, stream: IO[str] | None = None, timeout: float = ANSWER_WAIT_S) -> bool:
    """Ask `question` (default No); refused in one line when standard input brings no answer."""
    source = stream if stream is not None else sys.stdin
    refusal = InputError(
        "standard input is not interactive and --yes was not given: nothing was sent (add --yes to run "
        "without the question, or --dry-run to only see the preview)",
        field="--yes",
    )
    if source is None or not _answer_waiting(source, timeout):
        raise refusal
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # end of input before an answer
        click.echo("")  # the prompt ends its line
        raise refusal from None


def confirm(preview: Preview, *, yes: bool, dry_run: bool, question: str = "Send these transactions?") -> bool:
    """Print `preview`, then whether to send: False on a dry run or when there is nothing to send; True with
    `yes` or a "y" answer; a "no" ends the command (exit 1, nothing sent)."""
    for line in preview.render():
        click.echo(line)
    if preview.transactions == 0:
        click.echo("nothing to send")
        return False
    if dry_run:
        click.echo("dry run: nothing sent")
        return False
    if yes:
        return True
    if ask(question):
        return True
    click.echo("cancelled: nothing was sent", err=True)
    sys.exit(DECLINED_EXIT)
