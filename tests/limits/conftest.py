"""Apps with limits or faults switched on, over real HTTP, on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.kit.clock import FrozenClock
from tests.voice_calls.conftest import payload

URL = "/telephony/v1/voiceCalls"

Serve = Callable[..., AbstractAsyncContextManager[httpx2.AsyncClient]]


@pytest.fixture
def clock() -> FrozenClock:
    """Now, 0.2 s into a second and 10.2 s into a 30 s window: Retry-After is 1 s and 20 s respectively."""
    now = int(datetime.now(UTC).timestamp())
    return FrozenClock(datetime.fromtimestamp(now - now % 30 + 10.2, UTC))


@pytest.fixture
def serve(settings: Settings, call_centers: Any, clock: FrozenClock) -> Serve:
    """``async with serve(limits="salesforce", ...) as http``: an app on the test's database with these settings."""

    @asynccontextmanager
    async def serving(**overrides: Any) -> AsyncIterator[httpx2.AsyncClient]:
        app = create_app(Settings(**{**settings.model_dump(), **overrides}), clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
                yield http

    return serving


def create_body(key: str) -> dict[str, Any]:
    """The Amazon Connect Lambda's inbound create, for the call ``key``."""
    return payload("lambda_create_inbound", vendorCallKey=key)


def entries_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A bulk answer's per-entry results, in either of the shapes the 207 has had."""
    if "errorResponse" in body:
        entries: list[dict[str, Any]] = body["errorResponse"]["errorResponseEntries"]
        return entries
    return list(body["entries"])
