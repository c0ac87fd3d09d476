"""``connect/conversations/upload``: conversations uploaded after the call as newline-delimited JSON, one
multipart part per conversation, parsed and written while the body streams in (never held in memory).

A part's first line names the conversation (``{"type":"conversation",...}``); each further line is a
``conversationEntry``. Only existing, closed conversations take uploads; an entry whose clientSentTimestamp
lies outside the conversation, or that is not valid, fails alone and is listed in the upload's status.
Entries keep the file's order. Valid entries go to the transcript writer in chunks, each awaited before more
of the body is read, so memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from callbridge.auth.context import CallCenterContext
from callbridge.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from callbridge.kit import ids
from callbridge.kit.bodies import describe
from callbridge.kit.bounds import cut
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.transcripts import repository
from callbridge.transcripts.jobs import (
    ChunkOutcome,
    StatusOutcome,
    UploadChunkJob,
    UploadedEntry,
    UploadRecord,
    UploadStatusJob,
)
from callbridge.transcripts.multipart import MultipartError, MultipartParser, PartData, PartEnd, PartStart, boundary_of
from callbridge.transcripts.rules import PARTICIPANT_ROLE_OF
from callbridge.transcripts.schemas import UploadEntryPayload, UploadStarted
from callbridge.transcripts.writer import submit
from callbridge.voice_calls import repository as voice_calls

CHUNK_ENTRIES = 500
MAX_FAILED_IDS = 10_000
MAX_ERROR_DETAIL = 1024  # the upload status row's column; the detail quotes client values


@dataclass
class _Part:
    record: UploadRecord
    leg_ids: set[str] = field(default_factory=set)
    open: bool = False  # the conversation exists and is closed: entries are taken
    line_number: int = 0
    seen_header: bool = False
    pending: bytearray = field(default_factory=bytearray)
    skipping: bool = False  # inside an over-long line, discarding until its end
    chunk: list[UploadedEntry] = field(default_factory=list)
    saved: bool = False  # its status row exists
    finished: bool = False  # its final status is saved

    def fail_entry(self, entry_id: str, why: str) -> None:
        self.record.failed_entry_count += 1
        if len(self.record.failed_entry_ids) < MAX_FAILED_IDS:
            self.record.failed_entry_ids.append(entry_id)
        if self.record.error_detail is None:
            self.record.error_detail = cut(f"{entry_id}: {why}", MAX_ERROR_DETAIL)

    def fail_part(self, why: str) -> None:
        self.open = False
        self.record.status = "Failed"
        self.record.error_detail = cut(why, MAX_ERROR_DETAIL)


class Uploader:
    def __init__(self, state: AppState, context: CallCenterContext, actor: Actor) -> None:
        self._state = state
        self._context = context
        self._actor = actor
        self._max_line = 4 * state.settings.transcript_max_content_chars + 64 * 1024
        self.started: list[UploadStarted] = []

    async def run(self, content_type: str | None, declared_length: str | None, body: AsyncIterator[bytes]) -> None:
        limit = self._state.settings.transcript_upload_max_bytes
        if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
            raise PayloadTooLarge(f"The upload is {declared_length} bytes; the limit is {limit} bytes.")
        try:
            parser = MultipartParser(boundary_of(content_type))
        except MultipartError as exc:
            raise UnsupportedMediaType(f"Send multipart/form-data, one part per conversation ({exc}).") from exc
        part: _Part | None = None
        size = 0
        try:
            async for chunk in body:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes.")
                for event in parser.feed(chunk):
                    if isinstance(event, PartStart):
                        part = await self._start(event.name)
                    elif isinstance(event, PartData):
                        assert part is not None
                        await self._data(part, event.data)
                    elif isinstance(event, PartEnd):
                        assert part is not None
                        await self._finish(part)
                        part = None
            parser.close()
        except MultipartError as exc:
            raise InvalidRequest(f"The multipart body is malformed: {exc}.", code="INVALID_MULTIPART") from exc
        finally:
            if part is not None:  # the body broke off inside a part: what was written stays, and says so
                if part.open:
                    part.fail_part("The upload ended inside this conversation's part; the entries before stay.")
                await self._save(part, finished=True)

    async def _start(self, name: str) -> _Part:
        record = UploadRecord(
            upload_id=str(uuid.uuid4()),
            call_center_id=self._context.call_center_id,
            conversation_identifier=name,
            conversation_id=None,
            status="InProgress",
        )
        part = _Part(record)
        async with self._state.database.read_session() as session:
            conversation = await repository.conversation_by_identifier(session, self._context.call_center_id, name)
            if conversation is None:
                part.fail_part(f"No conversation '{name}' in this call center.")
            else:
                record.conversation_id = conversation.id
                part.leg_ids = {leg.id for leg in await voice_calls.legs_of_conversation(session, conversation.id)}
                if conversation.end_time is None:
                    part.fail_part("The conversation is not closed; only closed conversations take uploads.")
                else:
                    part.open = True
        self.started.append(UploadStarted(conversationId=name, uploadId=record.upload_id, status=record.status))
        await self._save(part, finished=False)
        return part

    async def _data(self, part: _Part, data: bytes) -> None:
        if not part.open:
            return
        part.pending += data
        while part.open:
            end = part.pending.find(b"\n")
            if end < 0:
                if len(part.pending) > self._max_line:
                    part.pending.clear()
                    part.skipping = True
                return
            line = bytes(part.pending[:end])
            del part.pending[: end + 1]
            part.line_number += 1
            if part.skipping:
                part.skipping = False
                part.fail_entry(f"line {part.line_number}", "the line is too long")
                continue
            await self._line(part, line)

    async def _line(self, part: _Part, line: bytes) -> None:
        if not line.strip():
            return
        if b"\\u0000" in line or b"\x00" in line:  # PostgreSQL cannot store U+0000: refused on every backend
            part.fail_entry(f"line {part.line_number}", "the line contains a NUL character (U+0000)")
            return
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            document = None
        if not part.seen_header:
            part.seen_header = True
            self._header(part, document)
            return
        if not isinstance(document, dict) or document.get("type") != "conversationEntry":
            part.fail_entry(f"line {part.line_number}", 'not a {"type": "conversationEntry", ...} JSON line')
            return
        payload = document.get("payload")
        entry_id = str(payload.get("id")) if isinstance(payload, dict) and payload.get("id") else None
        entry_id = entry_id or f"line {part.line_number}"
        try:
            entry = UploadEntryPayload.model_validate(payload)
        except ValidationError as exc:
            part.fail_entry(entry_id, "; ".join(describe(exc.errors())))
            return
        uploaded, why = self._entry(part, entry)
        if uploaded is None:
            part.fail_entry(entry_id, why or "invalid")
            return
        part.chunk.append(uploaded)
        if len(part.chunk) >= CHUNK_ENTRIES:
            await self._flush(part)

    def _header(self, part: _Part, document: Any) -> None:
        payload = document.get("payload") if isinstance(document, dict) else None
        named = payload.get("conversationId") if isinstance(payload, dict) else None
        if not isinstance(document, dict) or document.get("type") != "conversation" or not isinstance(named, str):
            part.fail_part('The first line must be {"type": "conversation", "payload": {"conversationId": ...}}.')
        elif named not in (part.record.conversation_identifier, part.record.conversation_id):
            part.fail_part(f"The conversation line names '{named}', not the part's conversation.")

    def _entry(self, part: _Part, entry: UploadEntryPayload) -> tuple[UploadedEntry | None, str | None]:
        if entry.conversationId not in (None, part.record.conversation_identifier, part.record.conversation_id):
            return None, f"conversationId '{entry.conversationId}' is not the part's conversation"
        limit = self._state.settings.transcript_max_content_chars
        if len(entry.messageText) > limit:
            return None, f"messageText is {len(entry.messageText)} characters; at most {limit} are allowed"
        role = PARTICIPANT_ROLE_OF.get(entry.sender.role.strip().upper())
        if role is None:
            return None, f"sender.role '{entry.sender.role}' is not one of {', '.join(PARTICIPANT_ROLE_OF)}"
        related = next(
            (ids.to_18(r) for r in entry.relatedRecords if ids.is_salesforce_id(r, ids.VOICE_CALL)),
            None,
        )
        if related is not None and related not in part.leg_ids:
            return None, f"relatedRecords names VoiceCall {related}, which is not a leg of this conversation"
        return UploadedEntry(
            identifier=entry.id,
            message_text=entry.messageText,
            client_timestamp=entry.clientSentTimestamp,
            client_duration=entry.clientDuration,
            role=role,
            subject=entry.sender.subject,
            app_type=(entry.sender.appType or "TELEPHONY_INTEGRATION").lower(),
            voice_call_id=related,
        ), None

    async def _flush(self, part: _Part) -> None:
        if not part.chunk:
            return
        assert part.record.conversation_id is not None
        job = UploadChunkJob(
            self._context.call_center_id, part.record.conversation_id, part.record.upload_id, tuple(part.chunk)
        )
        part.chunk = []
        outcome = await submit(self._state, job, ChunkOutcome)
        part.record.success_entry_count += outcome.success_count
        for entry_id, why in outcome.failed:
            part.fail_entry(entry_id, why)

    async def _finish(self, part: _Part) -> None:
        if part.open:
            if part.pending.strip():
                part.line_number += 1
                await self._line(part, bytes(part.pending))
            part.pending.clear()
            if not part.seen_header:
                part.fail_part("The part is empty: it has no conversation line.")
            else:
                await self._flush(part)
                part.record.status = "Completed"
        await self._save(part, finished=True)
        for started in self.started:
            if started.uploadId == part.record.upload_id:
                started.status = part.record.status

    async def _save(self, part: _Part, *, finished: bool) -> None:
        """Create the status row on first save, update it after; a finished upload is saved only once."""
        if part.finished:
            return
        job = UploadStatusJob(part.record, self._actor, create=not part.saved, finished=finished)
        await submit(self._state, job, StatusOutcome)
        part.saved, part.finished = True, finished
