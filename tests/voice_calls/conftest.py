"""Helpers for the VoiceCall tests: real-client payloads and shortcuts over HTTP."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from tests.conftest import PAYLOADS


def payload(name: str, **overrides: Any) -> dict[str, Any]:
    """A request body recorded from a real client, with fields overridden."""
    body: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    body.update(overrides)
    return body


CreateCall = Callable[..., Awaitable[str]]


@pytest.fixture
def create_call(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> CreateCall:
    """POST a create body (the Lambda's inbound body by default) and return the new voiceCallId."""

    async def create(name: str = "lambda_create_inbound", **overrides: Any) -> str:
        response = await client.post("/telephony/v1/voiceCalls", json=payload(name, **overrides), headers=auth())
        assert response.status_code == 200, response.text
        voice_call_id: str = response.json()["voiceCallId"]
        return voice_call_id

    return create


@pytest.fixture
def read_call(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[[str], Awaitable[dict[str, Any]]]:
    async def read(id_or_key: str) -> dict[str, Any]:
        response = await client.get(f"/telephony/v1/voiceCalls/{id_or_key}", headers=auth())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return read


@pytest.fixture
def seed_queue(database_url: str, call_centers: dict[str, Any]) -> Callable[[str, str | None], Awaitable[str]]:
    """Insert a queue of the test org directly; returns its 00G id."""
    from callbridge.kit import ids
    from callbridge.kit.db import Database
    from callbridge.models import Queue
    from tests.conftest import ORG_ID

    async def seed(api_name: str, external_id: str | None = None) -> str:
        database = Database(database_url)
        try:
            async with database.write_session() as session:
                org = ids.to_18(ORG_ID)
                queue = Queue(
                    id=ids.stable_id(ids.QUEUE, org, api_name),
                    org_id=org,
                    api_name=api_name,
                    external_id=external_id,
                    settings={},
                )
                session.add(queue)
                await session.commit()
                return queue.id
        finally:
            await database.dispose()

    return seed
