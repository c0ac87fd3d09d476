"""``callbridge serve`` and ``callbridge migrate``."""

from __future__ import annotations

import os
import shutil
import tempfile

import structlog
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url

from callbridge.config import get_settings
from callbridge.kit import migrate as migrations
from callbridge.kit.protocol import LimitedHttpToolsProtocol
from callbridge.ops import logs

log = structlog.get_logger()
console = Console()
err = Console(stderr=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (several need the PostgreSQL backend)."),
    graceful_timeout: int = typer.Option(5, help="Seconds in-flight requests get to finish on shutdown."),
) -> None:
    """Serve the Telephony Integration API (and the console) over HTTP."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "CALLBRIDGE_" + "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            err.print(message if message.startswith(name) else f"{name}: {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if not migrations.is_current(settings.database_url):
        schema = ", ".join(sorted(migrations.current_revisions(settings.database_url))) or "none"
        head = ", ".join(sorted(migrations.head_revisions(settings.database_url)))
        err.print(
            f"[red]The database is at schema {schema}, not {head}.[/red] Run [bold]callbridge migrate[/bold] first."
        )
        raise typer.Exit(1)
    logs.configure(settings)  # this process's lines; each worker configures its own (callbridge.app.serve_app)
    if workers > 1 and not settings.broker_url:
        log.warning(
            "several workers without CALLBRIDGE_BROKER_URL: a console sees only what its own worker commits; "
            "set it to postgresql://... or redis://... (docs/deployment.md, Scaling out)"
        )
    metrics_dir = None
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers share their metrics through files, so that a scrape of any of them counts all of them.
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="callbridge-metrics-")
    try:
        uvicorn.run(
            "callbridge.app:serve_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=graceful_timeout,
            log_level=settings.log_level,
            log_config=None,  # callbridge.ops.logs renders uvicorn's records too
            http=LimitedHttpToolsProtocol,  # header size limit and read timeouts (callbridge.kit.protocol)
            timeout_keep_alive=settings.keep_alive_timeout_seconds,  # type: ignore[arg-type]  # a float works
            ws_max_size=settings.ws_max_message_bytes,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def migrate(revision: str = typer.Option("heads", help="Schema revision to upgrade to.")) -> None:
    """Create or upgrade the database schema (CALLBRIDGE_DATABASE_URL)."""
    url = get_settings().database_url
    migrations.upgrade(url, revision)
    schema = ", ".join(sorted(migrations.current_revisions(url)))
    console.print(f"Schema at [bold]{schema}[/bold] ({_redacted(url)}).")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(migrate)
