"""The transcript writer: the group-commit writer of ``callbridge.kit.writer`` with the handler that plans
every kind of transcript job (real-time messages, redactions, upload chunks and statuses) in one batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.errors import TokenReplayed
from callbridge.auth.replay import ReplayMemory, replay_memory
from callbridge.kit.clock import Clock
from callbridge.kit.state import AppState
from callbridge.kit.writer import BatchWriter, Written
from callbridge.transcripts import events
from callbridge.transcripts.batch import Batch
from callbridge.transcripts.ingest import plan_ingest, store_entry
from callbridge.transcripts.jobs import (
    ChunkOutcome,
    IngestJob,
    RedactJob,
    RedactOutcome,
    StatusOutcome,
    TranscriptJob,
    TranscriptResult,
    UpdateOutcome,
    UploadChunkJob,
    UploadStatusJob,
)
from callbridge.transcripts.rules import describe_window, outside_window

TranscriptWriter = BatchWriter[TranscriptJob, TranscriptResult | TokenReplayed]
ResultT = TypeVar("ResultT", bound=TranscriptResult)


class TranscriptHandler:
    def __init__(self, clock: Clock, replay: ReplayMemory) -> None:
        self._clock = clock
        self._replay = replay

    async def write(
        self, session: AsyncSession, jobs: Sequence[TranscriptJob]
    ) -> Written[TranscriptResult | TokenReplayed]:
        """The jobs' tokens first (a replayed one refuses its job, which is then not planned), then the jobs."""
        sightings = [job.sighting if isinstance(job, IngestJob) else None for job in jobs]
        refused = await self._replay.refused_sightings(session, sightings)
        written = await self._write_jobs(session, [job for index, job in enumerate(jobs) if index not in refused])
        planned = iter(written.results)
        results = [refused[index] if index in refused else next(planned) for index in range(len(jobs))]
        return Written(results, written.events)

    async def _write_jobs(self, session: AsyncSession, jobs: Sequence[TranscriptJob]) -> Written[TranscriptResult]:
        if not jobs:
            return Written([])
        batch = Batch(self._clock.now())
        # The messageIds each call (by key) or conversation may already hold: looked up per conversation.
        keys: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        conversations: defaultdict[str, set[str]] = defaultdict(set)
        for job in jobs:
            if isinstance(job, IngestJob):
                for keyed in job.entries:
                    keys[(job.call_center_id, keyed.vendor_call_key)].update(u.message_id for u in keyed.utterances)
            elif isinstance(job, RedactJob):
                conversations[job.conversation_id].update(identifier for identifier, _ in job.updates)
            elif isinstance(job, UploadChunkJob):
                conversations[job.conversation_id].update(entry.identifier for entry in job.entries)
            elif job.record.conversation_id is not None:
                conversations[job.record.conversation_id]
        await batch.load(session, keys, conversations)
        results = [_plan(batch, job) for job in jobs]
        return Written(results, await batch.flush(session))


def _plan(batch: Batch, job: TranscriptJob) -> TranscriptResult:
    if isinstance(job, IngestJob):
        return plan_ingest(batch, job)
    if isinstance(job, RedactJob):
        return _plan_redact(batch, job)
    if isinstance(job, UploadChunkJob):
        return _plan_chunk(batch, job)
    return _plan_status(batch, job)


def _plan_redact(batch: Batch, job: RedactJob) -> RedactOutcome:
    """Replace an entry's text (to redact it); the timeline says so without the old text."""
    conversation = batch.conversations.get(job.conversation_id)
    outcomes = []
    for identifier, text in job.updates:
        entry = batch.entry(job.conversation_id, identifier) if conversation is not None else None
        if conversation is None or entry is None:
            outcomes.append(UpdateOutcome(identifier, False, f"No conversation entry with identifier '{identifier}'."))
            continue
        batch.change_entry(entry, message_text=text, is_redacted=True)
        batch.record(
            conversation=conversation,
            voice_call_id=entry.voice_call_id,
            actor=job.actor,
            kind="transcript.redacted",
            outcome="redacted",
            reason="the entry's text was replaced through the Connect API; the old text is not kept",
            data={"messageId": identifier, "serverReceivedTimestamp": entry.server_received_timestamp},
            event=events.redacted(
                conversation.call_center_id, entry.voice_call_id, conversation.id, batch.now, identifier, text
            ),
        )
        outcomes.append(UpdateOutcome(identifier, True, None))
    return RedactOutcome(tuple(outcomes))


def _plan_chunk(batch: Batch, job: UploadChunkJob) -> ChunkOutcome:
    """Entries of an uploaded file, in file order: each one inside the closed conversation's window is stored
    (or replaces the entry with its id); the others fail with the reason."""
    conversation = batch.conversations.get(job.conversation_id)
    if conversation is None or conversation.call_center_id != job.call_center_id:
        return ChunkOutcome(0, tuple((e.identifier, "the conversation does not exist") for e in job.entries))
    if conversation.end_ms is None:
        why = "the conversation is not closed (only closed conversations take uploads)"
        return ChunkOutcome(0, tuple((e.identifier, why) for e in job.entries))
    success, failed = 0, []
    for uploaded in job.entries:
        window = outside_window(uploaded.client_timestamp, conversation.start_ms, conversation.end_ms)
        if window is not None:
            why = describe_window(window, uploaded.client_timestamp, conversation.start_ms, conversation.end_ms)
            failed.append((uploaded.identifier, why.replace("startTime", "clientSentTimestamp")))
            continue
        participant_id = batch.participant(conversation, uploaded.role, uploaded.subject, None)
        store_entry(
            batch,
            conversation,
            identifier=uploaded.identifier,
            text=uploaded.message_text,
            sender_id=uploaded.subject,
            sender_role=uploaded.role,
            participant_id=participant_id,
            client_timestamp=uploaded.client_timestamp,
            client_duration=uploaded.client_duration,
            voice_call_id=uploaded.voice_call_id or conversation.legs[0].id,
            source="upload",
        )
        success += 1
    return ChunkOutcome(success, tuple(failed))


def _plan_status(batch: Batch, job: UploadStatusJob) -> StatusOutcome:
    record = job.record
    row: dict[str, Any] = {
        "id": record.upload_id,
        "call_center_id": record.call_center_id,
        "conversation_identifier": record.conversation_identifier,
        "conversation_id": record.conversation_id,
        "status": record.status,
        "error_detail": record.error_detail,
        "success_entry_count": record.success_entry_count,
        "failed_entry_count": record.failed_entry_count,
        "failed_entry_ids": record.failed_entry_ids,
        "created_at": batch.now,
        "last_updated": batch.now,
    }
    batch.uploads.append((row, job.create))
    conversation = batch.conversations.get(record.conversation_id or "")
    if job.finished and conversation is not None:
        batch.record(
            conversation=conversation,
            voice_call_id=conversation.legs[0].id,
            actor=job.actor,
            kind="transcript.uploaded",
            outcome=record.status.lower(),
            reason=record.error_detail,
            data={
                "uploadId": record.upload_id,
                "successEntryCount": record.success_entry_count,
                "failedEntryCount": record.failed_entry_count,
            },
        )
    return StatusOutcome(record.upload_id)


def _call_center_of(job: TranscriptJob) -> str:
    return job.record.call_center_id if isinstance(job, UploadStatusJob) else job.call_center_id


def start_writer(state: AppState) -> TranscriptWriter:
    writer: TranscriptWriter = BatchWriter(
        state.database,
        state.broker,
        TranscriptHandler(state.clock, replay_memory(state.database)),
        max_batch_weight=state.settings.transcript_writer_batch_messages,
        max_queued_weight=state.settings.transcript_writer_queue_messages,
        name="transcripts",
        tenant=_call_center_of,
    )
    writer.start()
    return writer


def transcript_writer(state: AppState) -> TranscriptWriter:
    writer = state.transcripts
    assert writer is not None, "the lifespan starts the transcript writer"
    result: TranscriptWriter = writer
    return result


async def submit(state: AppState, job: TranscriptJob, expected: type[ResultT]) -> ResultT:
    """Submit a job and await the commit of its batch; raises ``TokenReplayed`` when the job carried its
    token's sighting and the token was refused."""
    result = await transcript_writer(state).submit(job, job.weight)
    if isinstance(result, TokenReplayed):
        raise result
    assert isinstance(result, expected)
    return result
