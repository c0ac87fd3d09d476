"""Planning real-time messages inside a writer batch: resolve the key, gate on hold and the window, then store,
replace in place or leave unchanged, and record every decision in the timeline (never the text)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

from callbridge.kit.uow import Actor
from callbridge.transcripts import events
from callbridge.transcripts.batch import Batch, ConversationState, EntryState, Leg
from callbridge.transcripts.jobs import EntryOutcome, IngestJob, IngestOutcome, Utterance
from callbridge.transcripts.rules import (
    EARLIEST_REAL_MS,
    HOLD_REASONS,
    SALESFORCE_BULK_MAX_ENTRIES,
    SALESFORCE_BULK_MAX_MESSAGES,
    DropReason,
    describe_window,
    outside_window,
    sender_of,
    voicemail_time,
)

ACCEPTED = "transcript.accepted"
REPLACED = "transcript.replaced"
UNCHANGED = "transcript.unchanged"
DROPPED = "transcript.dropped"
OVER_SALESFORCE_LIMITS = "transcript.bulk_over_salesforce_limits"


@dataclass(frozen=True)
class Stored:
    outcome: Literal["accepted", "replaced", "unchanged"]
    entry: EntryState
    why: str | None = None


def store_entry(
    batch: Batch,
    conversation: ConversationState,
    *,
    identifier: str,
    text: str,
    sender_id: str,
    sender_role: str,
    participant_id: str,
    client_timestamp: int,
    client_duration: int,
    voice_call_id: str | None,
    source: str,
) -> Stored:
    """messageId is unique in a conversation: a new one is stored; a resend with new content replaces the
    content in place (it keeps its place in the order); an identical resend, or one for a redacted entry,
    changes nothing."""
    existing = batch.entry(conversation.id, identifier)
    if existing is None:
        entry = EntryState(
            id=None,
            conversation_id=conversation.id,
            identifier=identifier,
            message_text=text,
            version=1,
            is_redacted=False,
            sender_id=sender_id,
            client_timestamp=client_timestamp,
            client_duration=client_duration,
            server_received_timestamp=batch.next_received(conversation),
            voice_call_id=voice_call_id,
        )
        batch.add_entry(entry, sender_role=sender_role, participant_id=participant_id, source=source)
        return Stored("accepted", entry)
    if existing.is_redacted:
        return Stored("unchanged", existing, "the entry was redacted; a resend does not restore its text")
    if existing.message_text == text and existing.sender_id == sender_id:
        return Stored("unchanged", existing, "the same message was already stored")
    changed = batch.change_entry(
        existing,
        message_text=text,
        sender_id=sender_id,
        client_timestamp=client_timestamp,
        client_duration=client_duration,
        version=existing.version + 1,
    )
    return Stored("replaced", changed)


def plan_ingest(batch: Batch, job: IngestJob) -> IngestOutcome:
    outcomes = []
    noted: set[str] = set()  # conversations whose timeline has this request's over-the-limits note
    for keyed in job.entries:
        resolved = batch.resolve(job.call_center_id, keyed.vendor_call_key)
        if resolved is None:
            outcomes.append(EntryOutcome.not_found(keyed.vendor_call_key))
            continue
        conversation, leg = resolved.conversation, resolved.conversation.current_leg
        if job.over_salesforce_limits is not None and conversation.id not in noted:
            noted.add(conversation.id)
            _note_over_limits(batch, job, conversation, leg)
        drops = {_ingest(batch, job.actor, conversation, leg, u, resolved.note) for u in keyed.utterances}
        # Paused transcription is the one drop Salesforce's bulk answer reports (hold and the window are silent).
        paused = DropReason.recording_paused in drops
        outcomes.append(
            EntryOutcome.paused(keyed.vendor_call_key) if paused else EntryOutcome.taken(keyed.vendor_call_key)
        )
    return IngestOutcome(tuple(outcomes))


def _note_over_limits(batch: Batch, job: IngestJob, conversation: ConversationState, leg: Leg) -> None:
    over = job.over_salesforce_limits
    assert over is not None
    batch.record(
        conversation=conversation,
        voice_call_id=leg.id,
        actor=job.actor,
        kind=OVER_SALESFORCE_LIMITS,
        outcome="accepted",
        reason=over.reason,
        data={
            "entries": over.entries,
            "largestEntry": over.largest_entry,
            "salesforceLimits": {
                "entries": SALESFORCE_BULK_MAX_ENTRIES,
                "messagesPerEntry": SALESFORCE_BULK_MAX_MESSAGES,
            },
        },
    )


def _drop_reason(leg: Leg, conversation: ConversationState, start_ms: int) -> tuple[DropReason, str] | None:
    if leg.is_on_hold:
        return DropReason.on_hold, HOLD_REASONS[DropReason.on_hold]
    if leg.is_recording_paused:
        return DropReason.recording_paused, HOLD_REASONS[DropReason.recording_paused]
    window = outside_window(start_ms, conversation.start_ms, conversation.end_ms)
    if window is not None:
        return window, describe_window(window, start_ms, conversation.start_ms, conversation.end_ms)
    return None


def _voicemail_times(conversation: ConversationState, leg: Leg, u: Utterance) -> Utterance:
    """A voicemail's message times that cannot be real are replaced by the voicemail's own start and end."""
    if not leg.is_voicemail or min(u.start_ms, u.end_ms) >= EARLIEST_REAL_MS:
        return u
    own_start = max(leg.start_ms or conversation.start_ms, conversation.start_ms)
    own_end = leg.end_ms if leg.end_ms is not None and leg.end_ms >= own_start else own_start
    start = voicemail_time("startTime", u.start_ms, own_start)
    end = voicemail_time("endTime", u.end_ms, own_end)
    replaced = {name for name, time in (("startTime", start), ("endTime", end)) if time.note}
    # The "read as seconds" note of a replaced time is superseded by the replacement's.
    notes = [note for note in u.notes if note.split(" ", 1)[0] not in replaced]
    notes += [note for note in (start.note, end.note) if note]
    return replace(u, start_ms=start.value, end_ms=end.value, notes=tuple(notes))


def _ingest(
    batch: Batch, actor: Actor, conversation: ConversationState, leg: Leg, u: Utterance, key_note: str | None
) -> DropReason | None:
    """Plan one message; the reason it was dropped, if it was."""
    u = _voicemail_times(conversation, leg, u)
    sender = sender_of(u.sender_type, u.participant_id, conversation.identifier)
    notes = [*u.notes]
    if u.end_ms < u.start_ms:
        notes.append("endTime is before startTime: clientDuration is 0")
    notes += [note for note in (key_note, sender.note) if note]
    data: dict[str, Any] = {
        "messageId": u.message_id,
        "senderType": u.sender_type.value,
        "sender": {"role": sender.role.value, "participantId": sender.participant_id},
        "participantIdRewritten": sender.rewritten,
        "startTime": u.start_ms,
        "endTime": u.end_ms,
    }
    if notes:
        data["notes"] = notes
    about = events.Utterance(
        call_center_id=conversation.call_center_id,
        voice_call_id=leg.id,
        conversation_id=conversation.id,
        occurred_at=batch.now,
        message_id=u.message_id,
        role=sender.role.value,
        participant_id=sender.participant_id,
        start_time=u.start_ms,
        end_time=u.end_ms,
    )
    record = partial(batch.record, conversation=conversation, voice_call_id=leg.id, actor=actor)

    drop = _drop_reason(leg, conversation, u.start_ms)
    if drop is not None:
        code, why = drop
        data |= {"dropReason": code.value, "serverReceivedTimestamp": batch.next_received(conversation)}
        why = "; ".join([*notes, why])
        record(kind=DROPPED, outcome="dropped", reason=why, data=data, event=events.dropped(about, code, why))
        return code

    participant_id = batch.participant(conversation, sender.role.value, sender.participant_key, None)
    stored = store_entry(
        batch,
        conversation,
        identifier=u.message_id,
        text=u.content,
        sender_id=sender.participant_id,
        sender_role=sender.role.value,
        participant_id=participant_id,
        client_timestamp=u.start_ms,
        client_duration=max(0, u.end_ms - u.start_ms),
        voice_call_id=leg.id,
        source="realtime",
    )
    entry = stored.entry
    received = entry.server_received_timestamp
    data |= {"serverReceivedTimestamp": received, "version": entry.version}
    reason = "; ".join(notes + ([stored.why] if stored.why else [])) or None
    if stored.outcome == "accepted":
        event = events.accepted(about, entry.message_text, received)
        record(kind=ACCEPTED, outcome="accepted", reason=reason, data=data, event=event)
    elif stored.outcome == "replaced":
        event = events.replaced(about, entry.message_text, received, entry.version)
        record(kind=REPLACED, outcome="replaced", reason=reason, data=data, event=event)
    else:
        record(kind=UNCHANGED, outcome="unchanged", reason=reason, data=data)
    return None
