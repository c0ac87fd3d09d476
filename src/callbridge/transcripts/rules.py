"""The transcript rules that need no storage: sender types, participantId rewriting, epoch normalisation and
the conversation window (spec §4.1, §4.3; decisions.md "Transcripts")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from callbridge.kit import ids
from callbridge.kit.times import isoformat_z

# Below this an epoch value is read as seconds: 10^11 ms is 1973, 10^11 s is the year 5138.
SECONDS_THRESHOLD = 10**11

# Salesforce's ConversationEntry.MessageIdentifier column: longer ids are kept, and flagged.
SALESFORCE_MESSAGE_ID_LENGTH = 36

# What Salesforce documents for POST /voiceCalls/messages; its own Contact Lens processor sends more.
SALESFORCE_BULK_MAX_ENTRIES = 5
SALESFORCE_BULK_MAX_MESSAGES = 5


class SenderType(StrEnum):
    end_user = "END_USER"
    external_user = "EXTERNAL_USER"
    human_agent = "HUMAN_AGENT"
    supervisor = "SUPERVISOR"
    virtual_agent = "VIRTUAL_AGENT"


class SenderRole(StrEnum):
    """ConversationEntry / ConversationParticipant role of a sender."""

    end_user = "EndUser"
    external_user = "ExternalUser"
    agent = "Agent"
    supervisor = "Supervisor"
    virtual_agent = "VirtualAgent"


ROLE_OF = {
    SenderType.end_user: SenderRole.end_user,
    SenderType.external_user: SenderRole.external_user,
    SenderType.human_agent: SenderRole.agent,
    SenderType.supervisor: SenderRole.supervisor,
    SenderType.virtual_agent: SenderRole.virtual_agent,
}

# Senders whose id is derived from the conversation's key: any other value the client sends is rewritten.
_DERIVED = {SenderType.end_user, SenderType.supervisor, SenderType.virtual_agent}


class DropReason(StrEnum):
    on_hold = "on_hold"
    recording_paused = "recording_paused"
    before_start = "before_start"
    after_end = "after_end"


@dataclass(frozen=True)
class Sender:
    role: SenderRole
    participant_id: str  # after rewriting: what ConversationEntry stores
    participant_key: str  # ConversationParticipant.ParticipantKey
    rewritten: bool
    note: str | None = None


def sender_of(sender_type: SenderType, participant_id: str, conversation_key: str) -> Sender:
    """Who spoke. END_USER, SUPERVISOR and VIRTUAL_AGENT become ``{conversation key}{TYPE}`` whatever was sent
    (the end user's phone number is not kept, for privacy); HUMAN_AGENT and EXTERNAL_USER are kept as sent."""
    role = ROLE_OF[sender_type]
    if sender_type in _DERIVED:
        derived = f"{conversation_key}{sender_type.value}"
        return Sender(role, derived, sender_type.value, rewritten=participant_id != derived)
    note = None
    if sender_type is SenderType.human_agent and not ids.is_salesforce_id(participant_id, ids.USER):
        note = "participantId of a HUMAN_AGENT should be the rep's 005 User Id; it was kept as sent"
    return Sender(role, participant_id, participant_id, rewritten=False, note=note)


@dataclass(frozen=True)
class EpochMs:
    value: int
    note: str | None


def normalise_epoch(name: str, value: int) -> EpochMs:
    """Epoch milliseconds; a value below 10^11 is read as seconds (a real client sends seconds)."""
    if value >= SECONDS_THRESHOLD:
        return EpochMs(value, None)
    ms = value * 1000
    return EpochMs(ms, f"{name} {value} is below 10^11 and was read as seconds ({ms_to_iso(ms)})")


# 2000-01-01T00:00:00Z: a message time before it, once read as ms or seconds, cannot be real.
EARLIEST_REAL_MS = 946_684_800_000


def voicemail_time(name: str, sent_ms: int, own_ms: int) -> EpochMs:
    """A voicemail message's time: kept when it can be real, else the voicemail's own start or end (the
    voicemail packager sends ``parseInt`` of a date string, which reads ``"2026-11-24…"`` as 2026)."""
    if sent_ms >= EARLIEST_REAL_MS:
        return EpochMs(sent_ms, None)
    note = (
        f"{name} read as {ms_to_iso(sent_ms)} cannot be real (before 2000) on a voicemail: "
        f"the voicemail's own {'start' if name == 'startTime' else 'end'} {ms_to_iso(own_ms)} was used"
    )
    return EpochMs(own_ms, note)


def ms_to_iso(ms: int) -> str:
    return isoformat_z(datetime.fromtimestamp(ms / 1000, UTC))


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def outside_window(start_ms: int, conversation_start: int, conversation_end: int | None) -> DropReason | None:
    """Why an utterance starting at ``start_ms`` falls outside its conversation (no end yet = open)."""
    if start_ms < conversation_start:
        return DropReason.before_start
    if conversation_end is not None and start_ms > conversation_end:
        return DropReason.after_end
    return None


def describe_window(reason: DropReason, start_ms: int, conversation_start: int, conversation_end: int | None) -> str:
    if reason is DropReason.before_start:
        return f"startTime {ms_to_iso(start_ms)} is before the conversation started ({ms_to_iso(conversation_start)})"
    assert conversation_end is not None
    return f"startTime {ms_to_iso(start_ms)} is after the conversation ended ({ms_to_iso(conversation_end)})"


HOLD_REASONS = {
    DropReason.on_hold: "the call is on hold: transcription is paused and the message is not stored",
    DropReason.recording_paused: "recording is paused: transcription is paused and the message is not stored",
}


# The Connect API names roles in upper case (spec §14: ParticipantRole -> role).
CONNECT_ROLE_OF = {
    "EndUser": "END_USER",
    "Agent": "AGENT",
    "Supervisor": "SUPERVISOR",
    "VirtualAgent": "VIRTUAL_AGENT",
    "ExternalUser": "EXTERNAL_USER",
    "Chatbot": "CHATBOT",
    "System": "SYSTEM",
    "Router": "ROUTER",
}
PARTICIPANT_ROLE_OF = {connect: role for role, connect in CONNECT_ROLE_OF.items()}


def connect_role(participant_role: str) -> str:
    return CONNECT_ROLE_OF.get(participant_role, participant_role.upper())
