"""The work the transcript writer does, as plain values: what requests submit and what they get back."""

from __future__ import annotations

from dataclasses import dataclass, field

from callbridge.auth.replay import PendingSighting
from callbridge.kit.uow import Actor
from callbridge.transcripts.rules import SenderType
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
class IngestJob:
    """Messages of one request (single or bulk), for the call center of its token."""

    call_center_id: str
    actor: Actor
    entries: tuple[KeyedUtterances, ...]
    # The token's first sighting, recorded in the batch's transaction: one commit per request, not two.
    sighting: PendingSighting | None = None

    @property
    def weight(self) -> int:
        return sum(len(entry.utterances) for entry in self.entries)


@dataclass(frozen=True)
class EntryOutcome:
    vendor_call_key: str
    status: EntryStatus
    message: str


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
