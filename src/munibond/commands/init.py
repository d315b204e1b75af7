"""`munibond init [DIR]`: create a workspace (settings, dev-chain alias book, deployments/, example term sheets)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument("folder", metavar="[DIR]", required=False, type=click.Path(path_type=Path), default=Path("."))
def init(folder: Path) -> None:
    """Create a munibond workspace in DIR (default: the current folder). Re-running it adds what is missing and
    never overwrites a file."""
    from munibond.workspace import CONFIG_NAME, init_workspace

    created = 0
    for path, new in init_workspace(folder):
        if new:
            created += 1
            click.echo(f"created {path}")
    kept = "" if created else " (nothing to do: every file exists and was kept)"
    click.echo(f"workspace {folder.resolve()}: settings in {folder / CONFIG_NAME}{kept}")
