"""One rich console for command output: wide enough for tables even when piped to a file or a log."""

from __future__ import annotations

import shutil

from rich.console import Console

MIN_WIDTH = 120


def make_console(*, stderr: bool = False, min_width: int = MIN_WIDTH) -> Console:
    """A console at least `min_width` columns wide (the terminal's width when wider)."""
    width = max(min_width, shutil.get_terminal_size((min_width, 24)).columns)
    return Console(width=width, stderr=stderr)
