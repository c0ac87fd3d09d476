"""``callbridge certs``: every certificate the call centers trust, with its expiry, so rotations are
planned before tokens start failing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from callbridge.auth.certificates import MIN_KEY_BITS
from callbridge.auth.repository import CertificateListing, list_certificates
from callbridge.cli.tokens import require_database_file
from callbridge.config import Settings, get_settings
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database

EXPIRES_SOON = timedelta(days=30)


def certificate_status(listing: CertificateListing, now: datetime) -> str:
    """active, expires soon (under 30 days), EXPIRED, or too weak (key under MIN_KEY_BITS)."""
    if listing.key_bits < MIN_KEY_BITS:
        return "too weak"
    if listing.not_after is not None and now > listing.not_after:
        return "EXPIRED"
    if listing.not_after is not None and listing.not_after - now < EXPIRES_SOON:
        return "expires soon"
    return "active"


_STYLES = {"active": "green", "expires soon": "yellow", "EXPIRED": "bold red", "too weak": "bold red"}


def certs(
    org: Annotated[str | None, typer.Option("--org", help="Only this org (its 15- or 18-character id).")] = None,
) -> None:
    """List every call center's certificates: fingerprint, expiry, days left and status."""
    settings = get_settings()
    try:
        require_database_file(settings.database_url)
        listings = asyncio.run(_list(settings, org))
    except (SQLAlchemyError, OSError) as exc:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        Console(stderr=True).print(f"[red]Cannot read the database at {url}[/red]: {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    if not listings:
        console.print("No certificates are configured" + (f" for org {org}." if org else "."))
        return
    now = SystemClock().now()
    table = Table(title="Certificates", title_justify="left")
    for column in ("org", "call center", "kind", "subject", "SHA-256 fingerprint", "not after", "days left"):
        table.add_column(column, no_wrap=column == "SHA-256 fingerprint")
    table.add_column("status")
    for listing in listings:
        status = certificate_status(listing, now)
        not_after = listing.not_after
        table.add_row(
            listing.org_id,
            listing.call_center_api_name,
            f"{listing.kind} ({listing.key_bits} bits)",
            listing.subject or "",
            listing.fingerprint_sha256,
            f"{not_after:%Y-%m-%d %H:%M} UTC" if not_after else "never",
            str((not_after - now).days) if not_after else "",
            f"[{_STYLES[status]}]{status}[/{_STYLES[status]}]",
        )
    console.print(table)


async def _list(settings: Settings, org: str | None) -> list[CertificateListing]:
    database = Database(settings.database_url)
    try:
        async with database.read_session() as session:
            return await list_certificates(session, org)
    finally:
        await database.dispose()


def register(app: typer.Typer) -> None:
    app.command("certs")(certs)
