"""The group-commit writer: many requests per transaction, a bounded queue, and isolation inside a batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.events.broker import InProcessBroker
from callbridge.kit.db import Database, is_sqlite
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.kit.writer import BatchWriter, UnstorableValue, Written
from callbridge.transcripts.jobs import IngestJob, IngestOutcome, KeyedUtterances, Utterance
from callbridge.transcripts.rules import SenderType
from callbridge.transcripts.schemas import EntryStatus
from callbridge.transcripts.writer import transcript_writer
from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, URL, message
from tests.voice_calls.conftest import CreateCall, payload


async def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


@asynccontextmanager
async def writes_blocked(database: Database, *tables: str) -> AsyncIterator[None]:
    """Block writers as another writer would: on SQLite hold the process's write lock; on PostgreSQL lock the
    tables against writes (reads still pass, so the writer takes its batch and then waits)."""
    async with database.write_session() as session:
        if not is_sqlite(database.url):
            for table in tables:
                await session.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        yield
        await session.rollback()


def writer_blocked(state: AppState) -> AbstractAsyncContextManager[None]:
    return writes_blocked(state.database, "conversation_entries", "timeline_entries")


async def test_concurrent_requests_share_transactions(
    client: httpx2.AsyncClient, auth: Callable, app_state_of: AppState, create_call: CreateCall, stored: Callable
) -> None:
    """Requests that arrive while a batch commits are written together: 30 requests, far fewer commits."""
    call_id = await create_call()
    writer = transcript_writer(app_state_of)
    headers = [auth(jti=None) for _ in range(30)]
    before = writer.batches
    async with writer_blocked(app_state_of):
        sends = [
            asyncio.create_task(client.post(f"{URL}/{INBOUND_KEY}/messages", json=message(f"g{i}"), headers=h))
            for i, h in enumerate(headers)
        ]
        await wait_for(lambda: writer.in_flight == 30)
    responses = await asyncio.gather(*sends)
    assert {r.status_code for r in responses} == {200}
    assert writer.batches - before <= 2  # what the writer took first, then everything that queued behind it
    assert len(await stored(call_id)) == 30


async def test_full_queue_answers_503_with_retry_after(
    settings: Settings, auth: Callable, create_call: CreateCall
) -> None:
    """When the queue holds its bound, a new request is refused at once with 503 and Retry-After."""
    await create_call()
    small = settings.model_copy(update={"transcript_writer_queue_messages": 1})
    app = create_app(small)
    async with app.router.lifespan_context(app):
        state: AppState = app.state.callbridge
        writer = transcript_writer(state)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:

            def send(message_id: str) -> asyncio.Task[httpx2.Response]:
                url = f"{URL}/{INBOUND_KEY}/messages"
                return asyncio.create_task(http.post(url, json=message(message_id), headers=auth(jti=None)))

            async with writer_blocked(state):
                first = send("being-written")
                await wait_for(lambda: writer.in_flight == 1 and writer.queued == 0)  # taken, waiting for the lock
                second = send("queued")
                await wait_for(lambda: writer.queued == 1)
                refused = await send("refused")
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["code"] == "OVERLOADED"
            assert (await first).status_code == 200 and (await second).status_code == 200


async def test_refused_request_in_a_batch_does_not_fail_the_others(
    client: httpx2.AsyncClient, auth: Callable, app_state_of: AppState, create_call: CreateCall
) -> None:
    """In one batch, a message for an unknown call gets its 404 while the others are stored."""
    await create_call()
    writer = transcript_writer(app_state_of)
    keys = [INBOUND_KEY, "unknown-1", INBOUND_KEY, "unknown-2", INBOUND_KEY]
    async with writer_blocked(app_state_of):
        sends = [
            asyncio.create_task(client.post(f"{URL}/{key}/messages", json=message(f"b{i}"), headers=auth(jti=None)))
            for i, key in enumerate(keys)
        ]
        await wait_for(lambda: writer.in_flight == 5)
    statuses = [r.status_code for r in await asyncio.gather(*sends)]
    assert statuses == [200, 404, 200, 404, 200]


async def create_probe_table(database: Database) -> None:
    async with database.write_session() as session:
        await session.execute(text("CREATE TABLE probe (job VARCHAR(16) PRIMARY KEY)"))
        await session.commit()


class _FailingHandler:
    """A handler whose batch fails in the database when it holds the job "boom"."""

    async def write(self, session: AsyncSession, jobs: Sequence[str]) -> Written[str]:
        for job in jobs:
            await session.execute(text("INSERT INTO probe (job) VALUES (:job)"), {"job": job})
            if job == "boom":
                await session.execute(text("INSERT INTO probe (job) VALUES (:job)"), {"job": job})
        return Written([f"stored {job}" for job in jobs])


async def test_a_failing_job_is_retried_alone_and_fails_alone(database_url: str) -> None:
    """When a batch fails in the database, it is rolled back and retried until the culprit stands alone: only
    it fails (400: its data broke a constraint, no retry can help), the others commit."""
    database = Database(database_url)
    writer: BatchWriter[str, str] = BatchWriter(
        database, InProcessBroker(), _FailingHandler(), max_batch_weight=10, max_queued_weight=10, name="probe"
    )
    await create_probe_table(database)
    writer.start()
    try:
        async with writes_blocked(database, "probe"):
            jobs = [asyncio.create_task(writer.submit(job)) for job in ("a", "boom", "c")]
            await wait_for(lambda: writer.queued == 0)  # the writer took all three into one batch
        results = await asyncio.gather(*jobs, return_exceptions=True)
        assert results[0] == "stored a" and results[2] == "stored c"
        failure = results[1]
        assert isinstance(failure, UnstorableValue) and failure.status_code == 400
        assert "unique" in str(failure.__cause__).lower()
        async with database.read_session() as session:
            rows = (await session.execute(text("SELECT job FROM probe ORDER BY job"))).scalars().all()
        assert rows == ["a", "c"]
    finally:
        await writer.stop()
        await database.dispose()


async def test_stopping_writes_what_is_queued_then_refuses(database_url: str) -> None:
    """stop() finishes every queued job; a submit after it is refused with 503."""
    database = Database(database_url)
    writer: BatchWriter[str, str] = BatchWriter(
        database, InProcessBroker(), _FailingHandler(), max_batch_weight=1, max_queued_weight=10, name="probe"
    )
    await create_probe_table(database)
    writer.start()
    try:
        jobs = [asyncio.create_task(writer.submit(job)) for job in ("x", "y", "z")]
        await asyncio.sleep(0)
        await writer.stop()
        assert [await job for job in jobs] == ["stored x", "stored y", "stored z"]
        with pytest.raises(Exception, match="shutting down"):
            await writer.submit("late")
    finally:
        await database.dispose()


async def test_a_batch_across_more_than_a_thousand_conversations_is_one_transaction(
    client: httpx2.AsyncClient, auth: Callable, app_state_of: AppState, stored: Callable
) -> None:
    """One batch naming 1,100 calls loads and writes them in one transaction (a statement per conversation,
    or an OR of one branch per conversation, would pass SQLite's expression depth limit of 1,000)."""
    keys = [f"wide-{i}" for i in range(1100)]
    headers = auth(jti=None)  # one token for every create: verified once
    for key in keys:
        body = payload("lambda_create_inbound", vendorCallKey=key)
        assert (await client.post(URL, json=body, headers=headers)).status_code == 200
    writer = transcript_writer(app_state_of)
    call_center_id = await _call_center_id(app_state_of)
    utterance = Utterance("w1", "END_USER", SenderType.end_user, IN_CALL_MS, IN_CALL_MS + 1000, "Hello.")
    job = IngestJob(call_center_id, Actor("test"), tuple(KeyedUtterances(key, (utterance,)) for key in keys))
    before = writer.batches
    outcome = await writer.submit(job, job.weight)
    assert isinstance(outcome, IngestOutcome)
    assert {entry.status for entry in outcome.entries} == {EntryStatus.accepted}
    assert writer.batches == before + 1
    assert [entry["messageId"] for entry in await stored(keys[-1])] == ["w1"]


async def _call_center_id(state: AppState) -> str:
    async with state.database.read_session() as session:
        found = await session.scalar(text("SELECT call_center_id FROM voice_calls LIMIT 1"))
    assert isinstance(found, str)
    return found
