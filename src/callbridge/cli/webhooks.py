"""``callbridge webhooks list|test|replay|listen``: the subscriptions declared in the contact-centre file, and a
local receiver for trying them (docs/integrations.md)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx2
import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callbridge.config import get_settings
from callbridge.kit.db import Database
from callbridge.webhooks import store
from callbridge.webhooks.envelope import MissingSecret, Outgoing, request_of, secret_of
from callbridge.webhooks.types import TEST_TYPE

webhooks_app = typer.Typer(
    name="webhooks", help="Webhook subscriptions: list, test, replay; and a local receiver.", no_args_is_help=True
)
console = Console()


def _database() -> Database:
    return Database(get_settings().database_url)


def _age(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


@webhooks_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Each subscription with its status, lag, delivered/failed/retrying counts and oldest undelivered age."""

    async def read() -> list[store.Status]:
        database = _database()
        try:
            async with database.read_session() as session:
                return await store.statuses(session, datetime.now(UTC))
        finally:
            await database.dispose()

    found = asyncio.run(read())
    if as_json:
        typer.echo(json.dumps([status.as_json() for status in found], indent=2))
        return
    if not found:
        console.print("No webhook subscriptions (declare them under an org's webhooks: in the contact-centre file).")
        return
    table = Table(title="Webhook subscriptions", title_justify="left")
    for column in ("id", "url", "events", "status", "lag", "delivered", "failed", "retrying", "dead", "oldest"):
        table.add_column(column, overflow="fold")
    for status in found:
        table.add_row(
            str(status.id),
            status.url,
            ", ".join(status.events),
            status.status + (f" ({status.status_reason})" if status.status_reason else ""),
            str(status.lag),
            str(status.delivered),
            str(status.failed),
            str(status.retrying),
            str(status.dead),
            _age(status.oldest_undelivered_age_seconds),
        )
    console.print(table)


@webhooks_app.command()
def test(subscription: str = typer.Argument(..., help="The subscription's id (see list) or URL.")) -> None:
    """Send a signed test event (type webhook.test) to a subscription now and print the answer."""

    async def send() -> tuple[int, str, str]:
        database = _database()
        try:
            async with database.read_session() as session:
                found = await store.find(session, subscription)
        finally:
            await database.dispose()
        if found is None:
            raise typer.BadParameter(f"no webhook subscription {subscription!r}", param_hint="SUBSCRIPTION")
        now = datetime.now(UTC)
        test_id = uuid.uuid4().hex[:12]
        outgoing = Outgoing(
            event_id=0,
            webhook_id=f"cb_{found.id}_test_{test_id}",
            cloud_event_id=f"test-{test_id}",
            type=TEST_TYPE,
            call_center_id=found.org_id,
            subject=None,
            occurred_at=now,
            data={"subscription": found.id, "message": "a test event from callbridge webhooks test"},
        )
        try:
            headers, body = request_of(outgoing, secret_of(found.secret_env), now)
        except MissingSecret as exc:
            raise typer.BadParameter(str(exc), param_hint="SUBSCRIPTION") from None
        async with httpx2.AsyncClient(timeout=get_settings().webhook_timeout_seconds) as client:
            try:
                response = await client.post(found.url, content=body, headers=headers)
            except httpx2.HTTPError as exc:
                return 0, f"{type(exc).__name__}: {exc}", found.url
        return response.status_code, response.text[:2000], found.url

    status, text, url = asyncio.run(send())
    if status == 0:
        typer.echo(f"POST {url}: no answer ({text})", err=True)
        raise typer.Exit(1)
    typer.echo(f"POST {url}: {status}")
    if text:
        typer.echo(text)
    if not 200 <= status < 300:
        raise typer.Exit(1)


def _moment(value: str) -> int | datetime:
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither an event id nor an ISO 8601 time", param_hint="--from"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@webhooks_app.command()
def replay(
    subscription: str = typer.Argument(..., help="The subscription's id (see list) or URL."),
    from_: str = typer.Option(..., "--from", help="The first event to deliver again: an event id or an ISO time."),
) -> None:
    """Deliver a subscription's events again from a point (its cursor moves back; a disabled one is re-enabled)."""
    start = _moment(from_)

    async def rewind() -> tuple[int, str]:
        database = _database()
        try:
            async with database.write_session() as session:
                found = await store.find(session, subscription)
                if found is None:
                    raise typer.BadParameter(f"no webhook subscription {subscription!r}", param_hint="SUBSCRIPTION")
                after = start - 1 if isinstance(start, int) else await store.event_id_before(session, start)
                await store.rewind(session, found, after_id=max(0, after))
                url = found.url
                await session.commit()
                return max(0, after), url
        finally:
            await database.dispose()

    after, url = asyncio.run(rewind())
    typer.echo(f"{url}: events after {after} will be delivered again (in order, with their original webhook-id).")


def receiver_app(secret: str | None, echo: Any = typer.echo) -> Starlette:
    """The local receiver: verifies each request's signature (with ``secret``) and prints the event."""
    signer = Webhook(secret) if secret else None

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        if signer is not None:
            try:
                signer.verify(body, headers)
            except WebhookVerificationError as exc:
                echo(f"REFUSED {headers.get('webhook-id', '?')}: {exc}")
                return Response(status_code=401)
        try:
            envelope = json.loads(body)
        except ValueError:
            echo(f"REFUSED {headers.get('webhook-id', '?')}: not JSON")
            return Response(status_code=400)
        verified = "verified" if signer is not None else "unverified"
        echo(f"{headers.get('webhook-id', '?')} {envelope.get('type')} subject={envelope.get('subject')} ({verified})")
        echo(json.dumps(envelope.get("data"), sort_keys=True))
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@webhooks_app.command()
def listen(
    port: int = typer.Option(8787, "--port", help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    secret: str | None = typer.Option(
        None, "--secret", help="The whsec_ secret to verify signatures with (without it, nothing is verified)."
    ),
) -> None:
    """A local receiver for trying webhooks: verifies each signature and prints each event (answers 204)."""
    typer.echo(f"Listening on http://{host}:{port}/ ({'verifying signatures' if secret else 'NOT verifying'})")
    uvicorn.run(receiver_app(secret), host=host, port=port, log_level="warning", log_config=None)


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app)
