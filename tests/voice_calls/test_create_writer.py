"""POST /voiceCalls through the create writer: many creates per transaction, each answered as it would be alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.kit.writer import BatchWriter
from callbridge.models import Conversation, TimelineEntry, VoiceCall
from callbridge.voice_calls import repository
from tests.conftest import TokenFactory
from tests.transcripts.test_writer import wait_for, writes_blocked
from tests.voice_calls.conftest import payload

URL = "/telephony/v1/voiceCalls"


def create_writer(app: FastAPI) -> tuple[AppState, BatchWriter]:  # type: ignore[type-arg]
    state: AppState = app.state.callbridge
    assert state.voice_call_creates is not None
    return state, state.voice_call_creates


@asynccontextmanager
async def queued(app: FastAPI, count: int) -> AsyncIterator[None]:
    """Hold the writer while ``count`` creates queue up, so that they are written as one batch."""
    state, writer = create_writer(app)
    async with writes_blocked(state.database, "voice_calls", "conversations", "timeline_entries"):
        yield
        await wait_for(lambda: writer.in_flight == count)


async def post(client: httpx2.AsyncClient, auth: Callable, name: str, **overrides: object) -> httpx2.Response:
    return await client.post(URL, json=payload(name, **overrides), headers=auth())


async def count_rows(database_url: str, model: type, **where: object) -> int:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(await session.scalar(query) or 0)
    finally:
        await database.dispose()


async def test_creates_that_queue_together_share_one_transaction(
    client: httpx2.AsyncClient, auth: Callable, app: FastAPI, database_url: str
) -> None:
    _, writer = create_writer(app)
    before = writer.batches
    async with queued(app, 20):
        sends = [
            asyncio.create_task(post(client, auth, "lambda_create_inbound", vendorCallKey=f"batch-{i}"))
            for i in range(20)
        ]
    responses = await asyncio.gather(*sends)
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["voiceCallId"] for r in responses}) == 20
    assert writer.batches - before <= 2
    assert await count_rows(database_url, VoiceCall) == 20
    assert await count_rows(database_url, TimelineEntry, kind="voice_call.created", outcome="created") == 20


async def test_the_same_key_twice_in_one_batch_is_created_once(
    client: httpx2.AsyncClient, auth: Callable, app: FastAPI, database_url: str
) -> None:
    """The second create of a key in the batch is the idempotent repeat of the first."""
    async with queued(app, 3):
        sends = [asyncio.create_task(post(client, auth, "lambda_create_inbound")) for _ in range(3)]
    responses = await asyncio.gather(*sends)
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["voiceCallId"] for r in responses}) == 1
    assert await count_rows(database_url, VoiceCall) == 1
    assert await count_rows(database_url, Conversation) == 1
    assert await count_rows(database_url, TimelineEntry, kind="voice_call.created", outcome="unchanged") == 2


async def test_a_transfer_in_the_batch_of_its_parents_create_finds_it(
    client: httpx2.AsyncClient, auth: Callable, app: FastAPI, read_call: Callable
) -> None:
    async with queued(app, 2):
        parent_send = asyncio.create_task(post(client, auth, "lambda_create_inbound"))
        await wait_for(lambda: create_writer(app)[1].in_flight == 1)
        child_send = asyncio.create_task(post(client, auth, "lambda_create_transfer"))
    parent, child = await parent_send, await child_send
    assert parent.status_code == child.status_code == 200, child.text
    parent_call = await read_call(parent.json()["voiceCallId"])
    assert parent_call["nextCallId"] == child.json()["voiceCallId"]
    assert [leg["id"] for leg in parent_call["legs"]] == [parent.json()["voiceCallId"], child.json()["voiceCallId"]]


async def test_a_refused_create_in_a_batch_leaves_the_others_created(
    client: httpx2.AsyncClient, auth: Callable, app: FastAPI, database_url: str
) -> None:
    async with queued(app, 3):
        sends = [
            asyncio.create_task(post(client, auth, "lambda_create_inbound", vendorCallKey="ok-1")),
            asyncio.create_task(post(client, auth, "lambda_create_transfer", parentVoiceCallId="no-such-parent")),
            asyncio.create_task(post(client, auth, "lambda_create_inbound", vendorCallKey="ok-2")),
        ]
    responses = await asyncio.gather(*sends)
    assert [r.status_code for r in responses] == [200, 400, 200]
    assert responses[1].json()["code"] == "PARENT_VOICE_CALL_NOT_FOUND"
    assert await count_rows(database_url, VoiceCall) == 2


async def test_the_jti_is_recorded_with_the_create(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A second token with the jti of a create is TOKEN_REPLAYED and creates nothing; a create refused in its
    batch (unknown parent) still spends its jti."""

    def headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    body = payload("lambda_create_inbound")
    assert (await client.post(URL, json=body, headers=headers(make_token(jti="c-1")))).status_code == 200
    other = payload("lambda_create_inbound", vendorCallKey="other-key")
    replayed = await client.post(URL, json=other, headers=headers(make_token(jti="c-1", ttl=301)))
    assert replayed.status_code == 401 and replayed.json()["code"] == "TOKEN_REPLAYED"
    assert await count_rows(database_url, VoiceCall) == 1
    orphan = payload("lambda_create_transfer", parentVoiceCallId="no-such-parent")
    assert (await client.post(URL, json=orphan, headers=headers(make_token(jti="c-2")))).status_code == 400
    again = await client.post(URL, json=other, headers=headers(make_token(jti="c-2", ttl=302)))
    assert again.json()["code"] == "TOKEN_REPLAYED"


async def test_a_first_leg_committed_by_someone_else_meanwhile_makes_the_create_a_repeat(
    client: httpx2.AsyncClient, auth: Callable, app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process commits the same first leg between a batch's lookup and its insert (injected here as
    lookups that miss it, for the batch and again for the create's retry alone): the unique index refuses the
    batch, the writer retries each create alone, the contested one meets the index again and answers the
    existing call, and the other is created."""
    existing = (await post(client, auth, "lambda_create_inbound", vendorCallKey="contested")).json()["voiceCallId"]
    real_first_legs = repository.first_legs
    lookups: list[Collection[tuple[str, str]]] = []

    async def stale_twice(session: AsyncSession, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        lookups.append(keys)
        if len(lookups) <= 2:
            return {}
        return await real_first_legs(session, keys)

    monkeypatch.setattr(repository, "first_legs", stale_twice)
    async with queued(app, 2):
        sends = [
            asyncio.create_task(post(client, auth, "lambda_create_inbound", vendorCallKey="contested")),
            asyncio.create_task(post(client, auth, "lambda_create_inbound", vendorCallKey="uncontested")),
        ]
    contested, uncontested = await asyncio.gather(*sends)
    # The batch's lookup, the contested create's alone (both missing it), then its lookup after the refusal.
    assert len(lookups) >= 3 and all(("contested" in {k for _, k in keys}) for keys in lookups[:3])
    assert contested.status_code == 200 and contested.json()["voiceCallId"] == existing
    assert uncontested.status_code == 200 and uncontested.json()["voiceCallId"] != existing
    assert await count_rows(database_url, VoiceCall, vendor_call_key="contested") == 1
    assert await count_rows(database_url, VoiceCall, vendor_call_key="uncontested") == 1
