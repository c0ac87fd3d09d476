"""Request and response bodies of the transcript endpoints, with the field names real clients send."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from callbridge.kit.bounds import MAX_EPOCH_MS
from callbridge.transcripts.rules import SenderType


def _sender_type(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return SenderType(value.strip().upper())
        except ValueError:
            allowed = ", ".join(member.value for member in SenderType)
            raise PydanticCustomError(
                "sender_type", "'{given}' is not one of {allowed}", {"given": value, "allowed": allowed}
            ) from None
    return value


def _epoch(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("epoch", "must be epoch milliseconds (an integer), not a boolean")
    return value


def _identifier(value: Any) -> Any:
    # A messageId is a string; a client that sends a number means the same id.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


EpochValue = Annotated[int, BeforeValidator(_epoch), Field(ge=0, le=MAX_EPOCH_MS)]
SenderTypeValue = Annotated[SenderType, BeforeValidator(_sender_type)]
Identifier = Annotated[str, BeforeValidator(_identifier), Field(min_length=1, max_length=255)]


class TranscriptMessage(BaseModel):
    """One utterance: the body of ``POST /voiceCalls/{vendorCallKey}/messages``, and each bulk message."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    participant_id: str = Field(
        alias="participantId", min_length=1, max_length=255, description="Who spoke; rewritten as spec §4.1 says."
    )
    message_id: Identifier = Field(alias="messageId", description="Unique within the conversation.")
    start_time: EpochValue = Field(alias="startTime", description="Epoch ms (a value below 10^11 is seconds).")
    end_time: EpochValue = Field(alias="endTime", description="Epoch ms (a value below 10^11 is seconds).")
    content: str = Field(description="The text, up to 32,000 characters by default.")
    sender_type: SenderTypeValue = Field(
        alias="senderType", description="END_USER, EXTERNAL_USER, HUMAN_AGENT, SUPERVISOR or VIRTUAL_AGENT."
    )


class BulkEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    vendor_call_key: str = Field(alias="vendorCallKey", min_length=1, max_length=255)
    messages: list[TranscriptMessage] = Field(min_length=1)


class BulkTranscripts(BaseModel):
    """Body of ``POST /voiceCalls/messages``: at most 100 entries of at most 100 messages by default (5 x 5 with
    the ``salesforce`` limits profile)."""

    model_config = ConfigDict(extra="ignore")

    entries: list[BulkEntry] = Field(min_length=1)


class TranscriptsAccepted(BaseModel):
    result: Literal["Accepted"] = "Accepted"


class EntryStatus(IntEnum):
    """The HTTP status of one bulk entry, as Salesforce's 207 gives it (decisions.md "Responses")."""

    accepted = 202
    rate_limited = 400  # over the org's utterance limit: the message says RESOURCE_EXHAUSTED
    not_found = 404
    paused = 409  # transcription (recording) is paused for the call


class BulkEntryResult(BaseModel):
    vendorCallKey: str
    status: EntryStatus = Field(
        description="202 taken; 400 over the utterance rate limit (the message contains RESOURCE_EXHAUSTED: "
        "retry the entry later); 404 no such call; 409 transcription paused."
    )
    message: str = Field(examples=["Successfully Processed Transcripts"])


class BulkErrorResponse(BaseModel):
    errorResponseEntries: list[BulkEntryResult] = Field(description="One per entry of the request, in its order.")


class BulkMultiStatus(BaseModel):
    """207: some entry was not taken; one result per entry of the request, in its order."""

    errorResponse: BulkErrorResponse


class TranscriptSenderOut(BaseModel):
    role: str
    participantId: str


class TranscriptEntryOut(BaseModel):
    """A stored entry, or (with ``include=dropped``) the record of a dropped message, whose text is not kept."""

    messageId: str
    status: Literal["stored", "dropped"]
    content: str | None
    sender: TranscriptSenderOut
    startTime: int = Field(description="clientTimestamp: epoch ms.")
    endTime: int
    serverReceivedTimestamp: int = Field(description="The ordering key, strictly increasing per conversation.")
    voiceCallId: str | None = Field(description="The leg that was current when the message arrived.")
    version: int | None = Field(description="1 + how many times a resend replaced the content.")
    redacted: bool
    source: str | None = Field(description="realtime or upload.")
    dropReason: str | None
    reason: str | None


class TranscriptPage(BaseModel):
    voiceCallId: str
    conversationId: str
    conversationIdentifier: str
    entries: list[TranscriptEntryOut]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page.")


# The Connect REST API (spec §14).


class ConnectSender(BaseModel):
    appType: str
    role: str
    subject: str


class ConnectEntry(BaseModel):
    clientDuration: int
    clientTimestamp: int
    identifier: str
    messageText: str
    relatedRecords: list[str]
    sender: ConnectSender
    serverReceivedTimestamp: int


class ConnectEntries(BaseModel):
    conversationEntries: list[ConnectEntry]


class EntryUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    identifier: Identifier
    messageText: str
    relatedRecords: list[str] | None = None


class EntriesUpdate(BaseModel):
    """Body of ``PATCH …/connect/conversation/{conversationIdentifier}/entries``: used to redact."""

    model_config = ConfigDict(extra="ignore")

    conversationEntriesUpdates: list[EntryUpdate] = Field(min_length=1, max_length=1000)


class EntryUpdateResult(BaseModel):
    identifier: str
    success: bool
    errorMessage: str | None


class EntriesUpdated(BaseModel):
    conversationEntriesUpdates: list[EntryUpdateResult]


class UploadSender(BaseModel):
    model_config = ConfigDict(extra="ignore")

    appType: str | None = None
    subject: str = Field(min_length=1, max_length=120)
    role: str = Field(min_length=1, max_length=36)


class UploadEntryPayload(BaseModel):
    """The payload of a ``conversationEntry`` line of an upload file."""

    model_config = ConfigDict(extra="ignore")

    conversationId: str | None = None
    id: Identifier
    clientSentTimestamp: EpochValue
    clientDuration: EpochValue = 0
    messageText: str
    sender: UploadSender
    relatedRecords: list[str] = Field(default_factory=list)


class UploadStarted(BaseModel):
    conversationId: str
    uploadId: str
    status: str


class ConversationBulkUploads(BaseModel):
    conversationBulkUploads: list[UploadStarted]


class UploadStatus(BaseModel):
    conversationId: str
    errorDetail: str | None
    failedEntryCount: int
    failedEntryIds: list[str]
    lastUpdatedTimestamp: int
    status: str
    successEntryCount: int
    uploadId: str


class ConversationBulkUploadStatuses(BaseModel):
    conversationBulkUploadStatuses: list[UploadStatus]
