"""The work the transcript writer does, as plain values: what requests submit and what they get back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from callbridge.auth.replay import PendingSighting
from callbridge.kit.uow import Actor
from callbridge.transcripts.rules import SALESFORCE_BULK_MAX_ENTRIES, SALESFORCE_BULK_MAX_MESSAGES, SenderType
from callbridge.transcripts.schemas import EntryStatus


@dataclass(frozen=True)
class Utterance:
    """A validated message, its times already in epoch milliseconds."""

    message_id: str
    participant_id: str  # as the client sent it
    sender_type: SenderType
    start_ms: int
    end_ms: int
    content: str
    notes: tuple[str, ...] = ()  # what normalisation did (seconds read as such, a long messageId, ...)


@dataclass(frozen=True)
class KeyedUtterances:
    vendor_call_key: str
    utterances: tuple[Utterance, ...]


@dataclass(frozen=True)
class OverSalesforceLimits:
    """A bulk request larger than Salesforce documents (5 entries of 5 messages): taken, but production could
    refuse it, so each of its calls' timelines says so."""

    entries: int
    largest_entry: int  # messages in its largest entry

    @property
    def reason(self) -> str:
        return (
            f"this bulk request has {self.entries} entries and up to {self.largest_entry} messages per entry; "
            f"Salesforce documents at most {SALESFORCE_BULK_MAX_ENTRIES} entries of "
            f"{SALESFORCE_BULK_MAX_MESSAGES} messages and production could refuse it with 400 "
            "(CALLBRIDGE_LIMITS=salesforce refuses it here too)"
        )


@dataclass(frozen=True)
class IngestJob:
    """Messages of one request (single or bulk), for the call center of its token."""

    call_center_id: str
    actor: Actor
    entries: tuple[KeyedUtterances, ...]
    # The token's first sighting, recorded in the batch's transaction: one commit per request, not two.
    sighting: PendingSighting | None = None
    over_salesforce_limits: OverSalesforceLimits | None = None

    @property
    def weight(self) -> int:
        return sum(len(entry.utterances) for entry in self.entries)


ACCEPTED_MESSAGE = "Successfully Processed Transcripts"
PAUSED_MESSAGE = "Transcription paused for participant"
RATE_LIMITED_MESSAGE = (
    "Error Processing Transcript with Id(s) [{ids}]. Error: io.grpc.StatusRuntimeException: "
    "RESOURCE_EXHAUSTED: Rate limit exceeded"
)


@dataclass(frozen=True)
class EntryOutcome:
    """What became of one bulk entry: its line of the 207 (the messages are Salesforce's own)."""

    vendor_call_key: str
    status: EntryStatus
    message: str

    @classmethod
    def taken(cls, vendor_call_key: str) -> EntryOutcome:
        return cls(vendor_call_key, EntryStatus.accepted, ACCEPTED_MESSAGE)

    @classmethod
    def not_found(cls, vendor_call_key: str, message: str | None = None) -> EntryOutcome:
        why = message or f"No VoiceCall with vendorCallKey '{vendor_call_key}' in this call center."
        return cls(vendor_call_key, EntryStatus.not_found, why)

    @classmethod
    def paused(cls, vendor_call_key: str) -> EntryOutcome:
        return cls(vendor_call_key, EntryStatus.paused, PAUSED_MESSAGE)

    @classmethod
    def rate_limited(cls, vendor_call_key: str, message_ids: Sequence[str]) -> EntryOutcome:
        """Refused by the org's utterance limit: Contact Lens retries the entries whose message says
        RESOURCE_EXHAUSTED (after 5, 10 and 20 s)."""
        return cls(vendor_call_key, EntryStatus.rate_limited, RATE_LIMITED_MESSAGE.format(ids=", ".join(message_ids)))


@dataclass(frozen=True)
class IngestOutcome:
    entries: tuple[EntryOutcome, ...]


@dataclass(frozen=True)
class RedactJob:
    call_center_id: str
    conversation_id: str
    actor: Actor
    updates: tuple[tuple[str, str], ...]  # (identifier, new text)

    @property
    def weight(self) -> int:
        return len(self.updates)


@dataclass(frozen=True)
class UpdateOutcome:
    identifier: str
    success: bool
    error: str | None


@dataclass(frozen=True)
class RedactOutcome:
    updates: tuple[UpdateOutcome, ...]


@dataclass(frozen=True)
class UploadedEntry:
    """One ``conversationEntry`` line of an upload file, validated."""

    identifier: str
    message_text: str
    client_timestamp: int
    client_duration: int
    role: str  # ConversationParticipant role: EndUser, Agent, ...
    subject: str  # ParticipantKey
    app_type: str
    voice_call_id: str | None  # the first VoiceCall of relatedRecords that belongs to the conversation


@dataclass(frozen=True)
class UploadChunkJob:
    call_center_id: str
    conversation_id: str
    upload_id: str
    entries: tuple[UploadedEntry, ...]

    @property
    def weight(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class ChunkOutcome:
    success_count: int
    failed: tuple[tuple[str, str], ...]  # (entry id, why)


@dataclass
class UploadRecord:
    """The status row of one uploaded conversation, as it stands."""

    upload_id: str
    call_center_id: str
    conversation_identifier: str
    conversation_id: str | None
    status: str
    error_detail: str | None = None
    success_entry_count: int = 0
    failed_entry_count: int = 0
    failed_entry_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UploadStatusJob:
    """Create or update an upload's status row; the final one is recorded in the conversation's timeline."""

    record: UploadRecord
    actor: Actor
    create: bool
    finished: bool

    @property
    def weight(self) -> int:
        return 1


@dataclass(frozen=True)
class StatusOutcome:
    upload_id: str


TranscriptJob = IngestJob | RedactJob | UploadChunkJob | UploadStatusJob
TranscriptResult = IngestOutcome | RedactOutcome | ChunkOutcome | StatusOutcome
