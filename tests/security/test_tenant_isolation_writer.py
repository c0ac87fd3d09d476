"""One tenant's poison cannot slow another's writes: poison is refused before the shared writer, and a job that
still fails in a batch is isolated per tenant, so other tenants' jobs commit in one extra attempt (issue 14)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.broker import InProcessBroker
from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.kit.writer import BatchWriter, UnstorableValue, WriteFailed, Written
from callbridge.transcripts.writer import transcript_writer
from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, message
from tests.transcripts.test_writer import create_probe_table, wait_for, writes_blocked
from tests.voice_calls.conftest import create_call

__all__ = ["create_call"]


class ProbeHandler:
    """Inserts each job ("tenant:name") into ``probe``; "boom" jobs break the primary key (a data error) and
    "crash" jobs raise a plain bug. Counts how often each job was attempted and how many transactions ran."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.batches: list[list[str]] = []

    @property
    def transactions(self) -> int:
        return len(self.batches)

    async def write(self, session: AsyncSession, jobs: Sequence[str]) -> Written[str]:
        self.batches.append(list(jobs))
        for job in jobs:
            self.attempts[job] += 1
            await session.execute(text("INSERT INTO probe (job) VALUES (:job)"), {"job": job})
            if job.endswith("boom"):
                await session.execute(text("INSERT INTO probe (job) VALUES (:job)"), {"job": job})
            if job.endswith("crash"):
                raise RuntimeError("a bug, not the job's data")
        return Written([f"stored {job}" for job in jobs])


async def run_batch(database_url: str, jobs: list[str]) -> tuple[ProbeHandler, list[Any], list[str]]:
    """Submit ``jobs`` so that the writer takes them as one batch; the handler, the results and what committed."""
    database = Database(database_url)
    handler = ProbeHandler()
    writer: BatchWriter[str, str] = BatchWriter(
        database,
        InProcessBroker(),
        handler,
        max_batch_weight=100,
        max_queued_weight=100,
        name="probe",
        tenant=lambda job: job.split(":", 1)[0],
    )
    await create_probe_table(database)
    writer.start()
    try:
        async with writes_blocked(database, "probe"):
            tasks = [asyncio.create_task(writer.submit(job)) for job in jobs]
            await wait_for(lambda: writer.queued == 0)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        async with database.read_session() as session:
            rows = list((await session.execute(text("SELECT job FROM probe ORDER BY job"))).scalars().all())
        return handler, results, rows
    finally:
        await writer.stop()
        await database.dispose()


async def test_other_tenants_jobs_commit_in_one_extra_attempt(database_url: str) -> None:
    """A batch failed by tenant A's job: tenant B's jobs are retried together in one transaction, once."""
    jobs = ["A:a1", "B:b1", "A:boom", "B:b2", "B:b3"]
    handler, results, rows = await run_batch(database_url, jobs)
    retries_with_b = [batch for batch in handler.batches[1:] if any(job.startswith("B:") for job in batch)]
    assert retries_with_b == [["B:b1", "B:b2", "B:b3"]]
    assert rows == ["A:a1", "B:b1", "B:b2", "B:b3"]
    assert [results[i] for i in (0, 1, 3, 4)] == ["stored A:a1", "stored B:b1", "stored B:b2", "stored B:b3"]


async def test_the_failing_job_alone_gets_a_400_for_its_data(database_url: str) -> None:
    """The job whose data the database refuses fails alone with 400 UNSTORABLE_VALUE, not 503 WRITE_FAILED."""
    _, results, _ = await run_batch(database_url, ["A:a1", "A:boom", "B:b1"])
    failure = results[1]
    assert isinstance(failure, UnstorableValue) and failure.status_code == 400
    assert failure.code == "UNSTORABLE_VALUE"


async def test_a_failing_job_is_found_by_halving_not_one_by_one(database_url: str) -> None:
    """In a batch of 16 jobs of one tenant, the culprit is found in at most 1 + 2 x log2(16) transactions."""
    jobs = [f"A:j{index:02}" for index in range(16)]
    jobs[11] = "A:boom"
    handler, results, rows = await run_batch(database_url, jobs)
    assert handler.transactions <= 9
    assert len(rows) == 15 and isinstance(results[11], UnstorableValue)


async def test_a_failure_that_is_not_the_datas_is_still_503(database_url: str) -> None:
    """A job failing for another reason (a bug) alone still gets 503 WRITE_FAILED with Retry-After."""
    _, results, rows = await run_batch(database_url, ["A:a1", "A:crash", "B:b1"])
    failure = results[1]
    assert isinstance(failure, WriteFailed) and failure.headers == {"Retry-After": "1"}
    assert rows == ["A:a1", "B:b1"]


@pytest.mark.parametrize(
    "poison",
    [
        {"startTime": 9223372036854775808},
        {"endTime": -(2**70)},
        {"messageId": "m" * 256},
        {"participantId": "p" * 256},
    ],
)
async def test_poison_transcripts_never_reach_the_shared_writer(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], app: FastAPI, create_call: Any, poison: Any
) -> None:
    """A transcript no backend can store is a 400 at the edge: the shared writer commits nothing for it."""
    await create_call()
    state: AppState = app.state.callbridge
    writer = transcript_writer(state)
    before = writer.batches
    response = await client.post(
        f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages", json=message(**poison), headers=auth()
    )
    assert response.status_code == 400, response.text
    assert writer.batches == before and writer.in_flight == 0


async def test_a_long_agent_participant_id_is_stored_on_every_backend(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], create_call: Any
) -> None:
    """A HUMAN_AGENT participantId of 255 characters (the documented maximum) is stored, not a 503."""
    await create_call()
    body = message(participantId="a" * 255, senderType="HUMAN_AGENT", startTime=IN_CALL_MS + 1000)
    response = await client.post(f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages", json=body, headers=auth())
    assert response.status_code == 200, response.text
