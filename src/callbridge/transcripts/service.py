"""The request side of ingest: validate a body completely (every bad path at once), apply the limits,
normalise times, then hand the messages to the writer and wait for their commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from callbridge.auth.service import DeferredAuthorization, spent_if_refused
from callbridge.config import LimitsProfile, Settings
from callbridge.errors import InvalidRequest
from callbridge.kit import ids
from callbridge.kit.bodies import describe
from callbridge.kit.state import AppState
from callbridge.kit.times import isoformat_z
from callbridge.kit.uow import Actor
from callbridge.ops import metrics
from callbridge.transcripts.errors import BulkLimitExceeded, VendorCallKeyRequired
from callbridge.transcripts.jobs import (
    EntryOutcome,
    IngestJob,
    IngestOutcome,
    KeyedUtterances,
    OverSalesforceLimits,
    Utterance,
)
from callbridge.transcripts.rules import (
    SALESFORCE_BULK_MAX_ENTRIES,
    SALESFORCE_BULK_MAX_MESSAGES,
    SALESFORCE_MESSAGE_ID_LENGTH,
    normalise_epoch,
)
from callbridge.transcripts.schemas import BulkTranscripts, EntryStatus, TranscriptMessage
from callbridge.transcripts.writer import submit
from callbridge.voice_calls.errors import VoiceCallNotFound
from callbridge.voice_calls.warnings import FUTURE_SLACK

ModelT = TypeVar("ModelT", bound=BaseModel)


def is_voice_call_id(value: str) -> bool:
    return ids.is_salesforce_id(value, ids.VOICE_CALL)


def _content_problems(message: Any, path: str, limit: int) -> list[str]:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str) and len(content) > limit:
        return [f"{path}content: is {len(content)} characters; at most {limit} are allowed"]
    return []


def _validate(model: type[ModelT], data: Any, problems: list[str]) -> ModelT:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidRequest.for_fields([f"body: must be an object, not {type(data).__name__}"])
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest.for_fields(describe(exc.errors()) + problems) from exc
    if problems:
        raise InvalidRequest.for_fields(problems)
    return parsed


def parse_message(data: Any, settings: Settings) -> TranscriptMessage:
    problems = _content_problems(data, "", settings.transcript_max_content_chars)
    return _validate(TranscriptMessage, data, problems)


def bulk_limits(settings: Settings) -> tuple[int, int]:
    """Entries per request and messages per entry: the settings (100 x 100 by default), capped at Salesforce's
    documented 5 x 5 by the ``salesforce`` limits profile."""
    entries, messages = settings.transcript_bulk_max_entries, settings.transcript_bulk_max_messages
    if settings.limits is LimitsProfile.salesforce:
        return min(entries, SALESFORCE_BULK_MAX_ENTRIES), min(messages, SALESFORCE_BULK_MAX_MESSAGES)
    return entries, messages


def check_bulk_limits(data: Any, settings: Settings) -> None:
    """More than the configured entries, or messages in an entry, refuses the whole request."""
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return
    max_entries, max_messages = bulk_limits(settings)
    problems = []
    if len(entries) > max_entries:
        problems.append(f"entries: has {len(entries)} entries; at most {max_entries} are allowed")
    for index, entry in enumerate(entries):
        messages = entry.get("messages") if isinstance(entry, dict) else None
        if isinstance(messages, list) and len(messages) > max_messages:
            problems.append(
                f"entries[{index}].messages: has {len(messages)} messages; at most {max_messages} per entry are allowed"
            )
    if problems:
        raise BulkLimitExceeded(problems, profile=settings.limits)


def over_salesforce_limits(body: BulkTranscripts) -> OverSalesforceLimits | None:
    """A request taken although larger than Salesforce documents (counted, and noted in its calls' timelines)."""
    largest = max(len(entry.messages) for entry in body.entries)
    too_many_entries = len(body.entries) > SALESFORCE_BULK_MAX_ENTRIES
    too_many_messages = largest > SALESFORCE_BULK_MAX_MESSAGES
    if not (too_many_entries or too_many_messages):
        return None
    exceeded = "both" if too_many_entries and too_many_messages else "entries" if too_many_entries else "messages"
    metrics.BULK_OVER_SALESFORCE_LIMITS.labels(exceeded).inc()
    return OverSalesforceLimits(len(body.entries), largest)


def parse_bulk(data: Any, settings: Settings) -> BulkTranscripts:
    check_bulk_limits(data, settings)
    problems: list[str] = []
    entries = data.get("entries") if isinstance(data, dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        messages = entry.get("messages") if isinstance(entry, dict) else None
        for j, message in enumerate(messages if isinstance(messages, list) else []):
            path = f"entries[{i}].messages[{j}]."
            problems += _content_problems(message, path, settings.transcript_max_content_chars)
    return _validate(BulkTranscripts, data, problems)


def to_utterance(message: TranscriptMessage) -> Utterance:
    start = normalise_epoch("startTime", message.start_time)
    end = normalise_epoch("endTime", message.end_time)
    notes = [note for note in (start.note, end.note) if note]
    if len(message.message_id) > SALESFORCE_MESSAGE_ID_LENGTH:
        notes.append(
            f"messageId is {len(message.message_id)} characters, longer than Salesforce's "
            f"{SALESFORCE_MESSAGE_ID_LENGTH}; it was kept"
        )
    return Utterance(
        message_id=message.message_id,
        participant_id=message.participant_id,
        sender_type=message.sender_type,
        start_ms=start.value,
        end_ms=end.value,
        content=message.content,
        notes=tuple(notes),
    )


async def create_transcript(
    state: AppState, auth: DeferredAuthorization, actor: Actor, vendor_call_key: str, data: Any
) -> list[str]:
    """One message for one call; 404 when the key names no call of this call center. The token's jti is
    recorded in the message's transaction, or alone when the request is refused before it. Returns the
    warnings about suspicious but accepted times (``Callbridge-Warning``), also noted in the timeline."""
    async with spent_if_refused(auth):
        if is_voice_call_id(vendor_call_key):
            raise VendorCallKeyRequired(vendor_call_key)
        message = parse_message(data, state.settings)
    if state.limiter is not None:  # a 429 leaves the token's jti unspent: nothing was processed
        await state.limiter.take_or_refuse(state.limiter.utterances, auth.context.org_id)
    utterance = to_utterance(message)
    warned = future_times(utterance, state.clock.now())
    if warned:
        utterance = replace(utterance, notes=(*utterance.notes, *warned))
    keyed = KeyedUtterances(vendor_call_key, (utterance,))
    job = IngestJob(auth.context.call_center_id, actor, (keyed,), auth.sighting)
    (outcome,) = (await submit(state, job, IngestOutcome)).entries
    auth.recorded()
    if outcome.status is EntryStatus.not_found:
        raise VoiceCallNotFound(vendor_call_key)
    return warned


def future_times(utterance: Utterance, now: datetime) -> list[str]:
    """A startTime or endTime more than a few minutes ahead of the server's clock: accepted, as Salesforce
    accepts it, but named (a sender's clock or unit is likely wrong)."""
    limit_ms = int((now + FUTURE_SLACK).timestamp() * 1000)
    return [
        f"{name} {isoformat_z(datetime.fromtimestamp(ms / 1000, UTC))} is in the future"
        for name, ms in (("startTime", utterance.start_ms), ("endTime", utterance.end_ms))
        if ms > limit_ms
    ]


async def over_utterance_limit(
    state: AppState, auth: DeferredAuthorization, entries: Sequence[KeyedUtterances]
) -> set[int]:
    """The utterance rate limit's seam (decisions.md "Limits"): the indices of ``entries`` the org's utterance
    limit refuses. Each is answered 400 RESOURCE_EXHAUSTED in the 207 (``EntryOutcome.rate_limited``) and none
    of its messages is processed; the others are written as usual. Decided in request order."""
    if state.limiter is None or not entries:
        return set()
    taken = await state.limiter.take(
        state.limiter.utterances, auth.context.org_id, [len(e.utterances) for e in entries]
    )
    return {position for position, fits in enumerate(taken.granted) if not fits}


async def create_transcripts(
    state: AppState, auth: DeferredAuthorization, actor: Actor, data: Any
) -> list[EntryOutcome]:
    """Messages for up to N calls; one outcome per entry, in request order."""
    async with spent_if_refused(auth):
        body = parse_bulk(data, state.settings)
    refused: dict[int, EntryOutcome] = {}
    candidates: list[tuple[int, KeyedUtterances]] = []
    for index, entry in enumerate(body.entries):
        if is_voice_call_id(entry.vendor_call_key):
            why = "vendorCallKey must be the telephony vendor's call key, not a VoiceCall id (0LQ...)."
            refused[index] = EntryOutcome.not_found(entry.vendor_call_key, why)
            continue
        candidates.append(
            (index, KeyedUtterances(entry.vendor_call_key, tuple(to_utterance(m) for m in entry.messages)))
        )
    limited = await over_utterance_limit(state, auth, [keyed for _, keyed in candidates])
    keyed = []
    for position, (index, entry_utterances) in enumerate(candidates):
        if position in limited:
            ids = [u.message_id for u in entry_utterances.utterances]
            refused[index] = EntryOutcome.rate_limited(entry_utterances.vendor_call_key, ids)
        else:
            keyed.append(entry_utterances)
    over = over_salesforce_limits(body)
    written: list[EntryOutcome] = []
    if keyed:
        job = IngestJob(auth.context.call_center_id, actor, tuple(keyed), auth.sighting, over)
        written = list((await submit(state, job, IngestOutcome)).entries)
        auth.recorded()
    else:
        await auth.record_alone()
    taken = iter(written)
    return [refused[index] if index in refused else next(taken) for index in range(len(body.entries))]
