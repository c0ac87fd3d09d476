"""Helpers for the intelligence tests: real-client bodies, calls and transcripts made over HTTP, reads back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from callbridge.events.schemas import AnyEvent
from tests.transcripts.conftest import URL, app_state_of, message, post_message
from tests.voice_calls.conftest import create_call, payload, read_call

__all__ = ["app_state_of", "create_call", "post_message", "read_call"]

# The Lambda's postCallAnalysisTrigger spans: ConnectedToAgent (18:16:40Z) to Disconnect (18:24:10Z).
CONNECTED_MS = 1795544200000
DISCONNECT_MS = 1795544650000

REALTIME = "realtimeConversationEvents"
POST_CALL = "postConversationEvents"

Post = Callable[..., Awaitable[httpx2.Response]]


def body(name: str, **overrides: Any) -> dict[str, Any]:
    """A request body recorded from a real client, with top-level fields overridden."""
    return payload(name, **overrides)


def signal(**fields: Any) -> dict[str, Any]:
    """A real-time event as Contact Lens sends it (a category inside the inbound call), fields overridden."""
    event: dict[str, Any] = {
        "type": "IntelligenceSignal__Category",
        "value": "CustomerAngry",
        "startTime": 1795544215000,
    }
    event.update(fields)
    return event


def realtime(
    *events: dict[str, Any], persist: bool = False, service: str = "AmazonConnectContactLens"
) -> dict[str, Any]:
    return {"service": service, "persist": persist, "events": list(events)}


def post_call_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "IntelligenceSignal__Sentiment",
        "value": "1000",
        "startTime": CONNECTED_MS + 10_000,
        "endTime": CONNECTED_MS + 14_000,
        "participant": "AGENT",
    }
    event.update(fields)
    return event


def post_call(*events: dict[str, Any]) -> dict[str, Any]:
    return {"service": "AmazonConnectContactLens", "events": list(events)}


@pytest.fixture
def send(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Post:
    """POST an intelligence body: ``await send(key, REALTIME | POST_CALL, body)``."""

    async def post(key: str, endpoint: str, data: Any, **headers: str) -> httpx2.Response:
        return await client.post(f"{URL}/{key}/{endpoint}", json=data, headers={**auth(), **headers})

    return post


@pytest.fixture
def close_call(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Callable[[str], Awaitable[None]]:
    """Close a call's conversation the way the CTR-sync Lambda does (an update without isActiveCall)."""

    async def close(key: str) -> None:
        response = await client.patch(f"{URL}/{key}", json=payload("ctr_sync_update"), headers=auth())
        assert response.status_code == 200, response.text

    return close


@pytest.fixture
def stored_events(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """Every stored conversation event of a call (all pages)."""

    async def read(call: str, **params: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            response = await client.get(f"{URL}/{call}/conversationEvents", params=params, headers=auth())
            assert response.status_code == 200, response.text
            page = response.json()
            events += page["events"]
            if page["next"] is None:
                return events
            params["after"] = page["next"]

    return read


@pytest.fixture
def timeline(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """The timeline entries of a call's conversation, optionally only those of some kinds."""

    async def read(call: str, *kinds: str) -> list[dict[str, Any]]:
        response = await client.get(f"{URL}/{call}/timeline", headers=auth())
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return [e for e in entries if not kinds or e["kind"] in kinds]

    return read


@pytest.fixture
def transcript(post_message: Post) -> Callable[..., Awaitable[None]]:
    """Create transcript entries through the messages API: ``(messageId, startTime, endTime, senderType)``."""

    async def create(key: str, *entries: tuple[str, int, int, str]) -> None:
        for message_id, start, end, sender in entries:
            response = await post_message(
                key, message(message_id, startTime=start, endTime=end, senderType=sender, participantId=sender)
            )
            assert response.status_code == 200, response.text

    return create


def drain(queue: asyncio.Queue[AnyEvent]) -> list[AnyEvent]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events
