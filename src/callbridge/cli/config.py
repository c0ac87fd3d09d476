"""``callbridge apply -f FILE``: apply a contact-centre config file (docs/configuration.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from callbridge.config import get_settings
from callbridge.contact_center import (
    Action,
    ApplyResult,
    ConfigConflict,
    ConfigInvalid,
    DatabaseNotMigrated,
    apply_file,
)
from callbridge.kit.db import Database

_STYLES = {Action.create: "green", Action.update: "yellow", Action.remove: "red", Action.unchanged: "dim"}


def apply(
    file: Path = typer.Option(..., "--file", "-f", help="The YAML config file.", dir_okay=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; change nothing."),
    show_unchanged: bool = typer.Option(False, "--show-unchanged", help="List unchanged objects too."),
) -> None:
    """Apply a contact-centre config file: validate it, show the plan, and apply it in one transaction.

    Objects missing from the file are kept; remove one with [bold]remove: true[/bold]. A file with any
    problem changes nothing (every problem is printed, exit code 1). Applying the same file twice
    changes nothing the second time.
    """
    try:
        result = asyncio.run(_apply(get_settings().database_url, file, dry_run))
    except ConfigInvalid as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    except (DatabaseNotMigrated, ConfigConflict) as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    print_result(result, show_unchanged=show_unchanged)


async def _apply(database_url: str, file: Path, dry_run: bool) -> ApplyResult:
    database = Database(database_url)
    try:
        return await apply_file(database, file, dry_run=dry_run)
    finally:
        await database.dispose()


def print_result(result: ApplyResult, *, show_unchanged: bool = False, console: Console | None = None) -> None:
    """The plan as a table (action, kind, name, detail), warnings, and the summary line."""
    console = console or Console()
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    rows = [c for c in result.changes if show_unchanged or c.action is not Action.unchanged]
    if rows:
        title = f"Plan for {result.file}" + (" (dry run)" if result.dry_run else "")
        table = Table(title=title, title_justify="left")
        table.add_column("action")
        table.add_column("kind")
        table.add_column("name", overflow="fold")
        table.add_column("detail", overflow="fold")
        for change in rows:
            style = _STYLES[change.action]
            table.add_row(Text(change.action.value, style=style), change.kind.value, Text(change.name), change.detail)
        console.print(table)
    elif not result.changed:
        console.print("No changes.")
    if result.dry_run:
        outcome = "dry run: nothing was changed" if result.changed else "dry run"
    elif result.revision_id is not None:
        outcome = f"applied as revision {result.revision_id}"
    else:
        outcome = "nothing to apply"
    console.print(Text(f"{result.summary()} ({outcome})"))


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
