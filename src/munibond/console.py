"""One rich console for command output: wide enough for tables even when piped to a file or a log."""

from __future__ import annotations

import shutil

from rich.console import Console

MIN_WIDTH = 120


def make_console(*, stderr: bool = False) -> Console:
    width = max(MIN_WIDTH, shutil.get_terminal_size((MIN_WIDTH, 24)).columns)
    return Console(width=width, stderr=stderr)
