"""The create writer: ``POST /voiceCalls`` through the group-commit writer of ``callbridge.kit.writer``.

Every create that queued while the previous batch was written goes into one transaction, planned in arrival
order: the tokens' first-seen jtis, then each call. A create repeating a first leg's vendorCallKey (stored, or
created earlier in the same batch) answers the existing id; a transfer resolves its parent after whatever the
batch planned before it was written, so a transfer may follow its parent's create in one batch. New rows go in
as one statement per table, the timeline entries last, and the events leave after the commit.

Two processes (or a PATCH that creates a missing call) may create the same first leg at once: the partial
unique index refuses the loser's batch, which the writer then retries job by job; alone, a create that meets
the index answers as the repeat it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.auth.errors import TokenReplayed
from callbridge.auth.replay import PendingSighting, ReplayMemory, replay_memory
from callbridge.errors import CallbridgeError
from callbridge.events.catalogue import event_of
from callbridge.events.schemas import AnyEvent
from callbridge.kit import ids
from callbridge.kit.bulk import insert_timeline
from callbridge.kit.clock import Clock
from callbridge.kit.db import Base
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.kit.writer import BatchWriter, Written
from callbridge.models import VoiceCall
from callbridge.outbound.correlation import correlate
from callbridge.outbound.repository import call_centers_awaiting_calls, unclaim
from callbridge.voice_calls import repository
from callbridge.voice_calls.errors import ParentVoiceCallNotFound
from callbridge.voice_calls.service import CreateOutcome, PreparedCreate, new_conversation
from callbridge.voice_calls.state import snapshot
from callbridge.voice_calls.vocabulary import CallDisposition, CallType

MAX_BATCH = 500
MAX_QUEUED = 10_000

CreateResult = CreateOutcome | CallbridgeError
CreateWriter = BatchWriter["CreateJob", CreateResult]


@dataclass(frozen=True)
class CreateJob:
    context: CallCenterContext
    prepared: PreparedCreate
    provider: str | None
    actor: Actor
    sighting: PendingSighting | None = None  # the token's first sighting, recorded in the batch's transaction

    @property
    def first_leg_key(self) -> tuple[str, str] | None:
        if self.prepared.body.parent_voice_call_id:
            return None
        return self.context.call_center_id, self.prepared.body.vendor_call_key


class _Batch:
    """What one batch plans: new rows, parent updates (through the session's ORM objects) and timeline rows."""

    def __init__(self, session: AsyncSession, now: datetime, first_legs: dict[tuple[str, str], Any]) -> None:
        self.session = session
        self.now = now
        self.first_legs = first_legs  # (call center id, key) -> a row with id and conversation_id
        self.rows: list[Base] = []
        self.timeline: list[dict[str, Any]] = []
        self.call_center_ids: set[str] = set()
        self.awaiting: set[str] | None = None

    async def awaited(self, call_center_id: str) -> bool:
        """Whether a reservation or context waits for a call in the call center (asked once per batch)."""
        if self.awaiting is None:
            self.awaiting = await call_centers_awaiting_calls(self.session, self.call_center_ids, self.now)
        return call_center_id in self.awaiting

    async def write_rows(self) -> None:
        await repository.insert_new(self.session, self.rows)
        self.rows = []

    def record(self, actor: Actor, call_center_id: str, **entry: Any) -> None:
        self.timeline.append(
            {
                "call_center_id": call_center_id,
                "occurred_at": self.now,
                "actor": actor.name,
                "request": actor.request,
                "reason": None,
                **entry,
            }
        )

    def repeated(self, job: CreateJob, existing: Any) -> CreateOutcome:
        self.record(
            job.actor,
            job.context.call_center_id,
            voice_call_id=existing.id,
            conversation_id=existing.conversation_id,
            kind="voice_call.created",
            outcome="unchanged",
            reason="a VoiceCall with this vendorCallKey exists: its id is returned and nothing is created",
            data={"vendorCallKey": job.prepared.body.vendor_call_key},
        )
        return CreateOutcome(existing.id)

    async def plan(self, job: CreateJob) -> CreateOutcome:
        context, prepared = job.context, job.prepared
        body = prepared.body
        key = job.first_leg_key
        parent = None
        if key is None:
            assert body.parent_voice_call_id is not None
            await self.write_rows()  # a parent created earlier in this batch is then found like any other
            parent = await repository.resolve(self.session, context.call_center_id, body.parent_voice_call_id)
            if parent is None:
                raise ParentVoiceCallNotFound("parentVoiceCallId", body.parent_voice_call_id)
        else:
            existing = self.first_legs.get(key)
            if existing is not None:
                return self.repeated(job, existing)

        warnings: list[str] = []
        notes = list(prepared.notes)
        if parent is None:
            conversation, end_user = new_conversation(
                context.call_center_id, body.vendor_call_key, body.start_time, prepared.end_user_key
            )
            self.rows += [conversation, end_user]
            conversation_id = conversation.id
        else:
            conversation_id = parent.conversation_id

        call = VoiceCall(
            id=ids.new_id(ids.VOICE_CALL),
            call_center_id=context.call_center_id,
            vendor_call_key=body.vendor_call_key,
            conversation_id=conversation_id,
            call_type=prepared.call_type.value,
            call_subtype=prepared.subtype,
            call_origin=prepared.origin,
            call_disposition=CallDisposition.new.value,
            from_phone_number=prepared.from_,
            to_phone_number=prepared.to,
            call_start_date_time=body.start_time,
            call_attributes=body.call_attributes or {},
            previous_call_id=parent.id if parent else None,
            telephony_provider_name=job.provider,
            is_active_call=True,
            is_on_hold=False,
            is_recording_paused=False,
            is_recorded=False,
            created_at=self.now,
            updated_at=self.now,
        )
        if body.queue:
            if prepared.call_type is CallType.transfer:
                queue = await repository.find_queue(self.session, context.org_id, body.queue)
                if queue is None:
                    warnings.append(f"queue: no queue with Id, external id or API name '{body.queue}'; no owner set")
                else:
                    call.owner_queue_id, call.queue_name = queue.id, queue.api_name
            else:
                notes.append("queue is ignored on a call that is not a transfer")
        if parent is not None:
            if parent.next_call_id is None:
                parent.next_call_id = call.id  # the session flushes it with the batch
                parent.updated_at = self.now
            else:
                notes.append(f"the parent {parent.id} already has NextCallId {parent.next_call_id}; it was kept")
        self.rows.append(call)
        if key is not None:
            self.first_legs[key] = call

        self.record(
            job.actor,
            context.call_center_id,
            voice_call_id=call.id,
            conversation_id=conversation_id,
            kind="voice_call.created",
            outcome="created",
            reason="; ".join(warnings + notes) or None,
            data={
                "vendorCallKey": call.vendor_call_key,
                "callType": call.call_type,
                "from": prepared.from_,
                "to": prepared.to,
                "previousCallId": call.previous_call_id,
                "queue": body.queue,
                "state": snapshot(call, "created"),
            },
        )
        link = await correlate(self.session, call, self.now) if await self.awaited(call.call_center_id) else None
        if link is not None:
            self.record(
                job.actor,
                context.call_center_id,
                voice_call_id=call.id,
                conversation_id=conversation_id,
                kind="voice_call.correlated",
                outcome="linked",
                reason=link.reason,
                data=link.data,
            )
        return CreateOutcome(call.id, warnings)

    async def flush(self) -> list[AnyEvent]:
        await self.write_rows()
        await self.session.flush()  # parents' NextCallId, before the timeline's lock (PostgreSQL)
        timeline_ids = await insert_timeline(self.session, self.timeline)
        return [event_of({**row, "id": id_}) for row, id_ in zip(self.timeline, timeline_ids, strict=True)]


class CreateHandler:
    def __init__(self, clock: Clock, replay: ReplayMemory) -> None:
        self._clock = clock
        self._replay = replay

    async def write(self, session: AsyncSession, jobs: Sequence[CreateJob]) -> Written[CreateResult]:
        results: list[CreateResult | None] = [None] * len(jobs)
        for index, refusal in (await self._replay.refused_sightings(session, [j.sighting for j in jobs])).items():
            results[index] = refusal
        keys = {key for index, job in enumerate(jobs) if results[index] is None and (key := job.first_leg_key)}
        batch = _Batch(session, self._clock.now(), await repository.first_legs(session, keys))
        batch.call_center_ids = {job.context.call_center_id for job in jobs}
        for index, job in enumerate(jobs):
            if results[index] is not None:
                continue
            try:
                results[index] = await batch.plan(job)
            except CallbridgeError as refused:
                results[index] = refused
        if len(jobs) == 1 and isinstance(results[0], CreateOutcome) and jobs[0].first_leg_key is not None:
            return await self._write_alone(session, batch, jobs[0], results[0])
        events = await batch.flush()
        return Written([result for result in results if result is not None], events)

    async def _write_alone(
        self, session: AsyncSession, batch: _Batch, job: CreateJob, planned: CreateOutcome
    ) -> Written[CreateResult]:
        """One first-leg create, as the writer retries a failed batch: a concurrent create of the same key
        (another process, a PATCH creating it) makes this one the idempotent repeat."""
        try:
            async with session.begin_nested():
                await batch.write_rows()
        except IntegrityError:
            key = job.first_leg_key
            assert key is not None
            existing = (await repository.first_legs(session, {key})).get(key)
            if existing is None:
                raise
            batch.rows, batch.timeline = [], []
            await unclaim(session, planned.voice_call_id)  # the call it was correlated with was not created
            planned = batch.repeated(job, existing)
        return Written([planned], await batch.flush())


def start_writer(state: AppState) -> CreateWriter:
    writer: CreateWriter = BatchWriter(
        state.database,
        state.broker,
        CreateHandler(state.clock, replay_memory(state.database)),
        max_batch_weight=MAX_BATCH,
        max_queued_weight=MAX_QUEUED,
        name="voice call creates",
        tenant=lambda job: job.context.call_center_id,
    )
    writer.start()
    return writer


async def submit(state: AppState, job: CreateJob) -> CreateResult:
    """Submit a create and await its batch's commit: the new or existing call, or the job's refusal (returned,
    as its batch committed the job's jti). Raises ``TokenReplayed`` for a replayed token."""
    writer: CreateWriter | None = state.voice_call_creates
    assert writer is not None, "the lifespan starts the create writer"
    result = await writer.submit(job)
    if isinstance(result, TokenReplayed):
        raise result
    return result
