"""The wire contract of every event Callbridge publishes (one discriminated union on ``type``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EventBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int = Field(description="Monotonic event id: the timeline entry it comes from; resume after it.")
    voice_call_id: str | None = Field(alias="voiceCallId")
    call_center_id: str = Field(alias="callCenterId")
    occurred_at: datetime = Field(alias="occurredAt")


class TimelineRecorded(EventBase):
    """Something happened to a call: the timeline entry, as stored."""

    type: Literal["timeline.recorded"] = "timeline.recorded"
    version: Literal[1] = 1
    kind: str
    actor: str
    outcome: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class TranscriptSender(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str = Field(description="EndUser, Agent, Supervisor, VirtualAgent or ExternalUser.")
    participantId: str = Field(description="The participantId after rewriting ({vendorCallKey}END_USER, 005...).")


class TranscriptEventBase(EventBase):
    """An utterance of a conversation; ``voiceCallId`` is the leg that was current when it arrived."""

    conversation_id: str = Field(alias="conversationId")
    message_id: str = Field(alias="messageId")
    sender: TranscriptSender
    start_time: int = Field(alias="startTime", description="Epoch ms, after seconds were normalised.")
    end_time: int = Field(alias="endTime", description="Epoch ms, after seconds were normalised.")


class TranscriptAccepted(TranscriptEventBase):
    """A new utterance was stored."""

    type: Literal["transcript.accepted"] = "transcript.accepted"
    version: Literal[1] = 1
    content: str
    server_received_timestamp: int = Field(alias="serverReceivedTimestamp", description="The ordering key.")


class TranscriptReplaced(TranscriptEventBase):
    """A resend with the same messageId replaced an utterance's content in place (a partial became final)."""

    type: Literal["transcript.replaced"] = "transcript.replaced"
    version: Literal[1] = 1
    content: str
    server_received_timestamp: int = Field(alias="serverReceivedTimestamp", description="Unchanged: its place.")
    entry_version: int = Field(alias="entryVersion", description="1 + how many times it was replaced.")


class TranscriptDropped(TranscriptEventBase):
    """An utterance was not stored (on hold, recording paused, outside the conversation); the text is not kept."""

    type: Literal["transcript.dropped"] = "transcript.dropped"
    version: Literal[1] = 1
    drop_reason: str = Field(alias="dropReason", description="on_hold, recording_paused, before_start, after_end.")
    reason: str


class TranscriptRedacted(EventBase):
    """An entry's text was replaced through the Connect API; ``content`` is the new (redacted) text."""

    type: Literal["transcript.redacted"] = "transcript.redacted"
    version: Literal[1] = 1
    conversation_id: str = Field(alias="conversationId")
    message_id: str = Field(alias="messageId")
    content: str


class IntelligenceSignal(EventBase):
    """A real-time intelligence signal (``realtimeConversationEvents``) for the live console: one per event of
    the request, in startTime order; ``voiceCallId`` is the leg that was current when it arrived."""

    type: Literal["intelligence.signal"] = "intelligence.signal"
    version: Literal[1] = 1
    conversation_id: str = Field(alias="conversationId")
    service: str = Field(description="The intelligence source, e.g. AmazonConnectContactLens.")
    signal_type: Literal["IntelligenceSignal__Category", "IntelligenceSignal__Sentiment"] = Field(alias="signalType")
    value: str = Field(description="Category: the rule name; Sentiment: -1000..1000, as sent.")
    score: float | None = Field(description="Vendor confidence 0..1000.")
    participant: Literal["AGENT", "CUSTOMER"] | None
    start_time: int = Field(alias="startTime", description="Epoch ms, after seconds were normalised.")
    details: dict[str, Any] | None = Field(description="As the client sent it (Contact Lens: PointsOfInterest).")
    persisted: bool = Field(description="Stored in the conversation data store (persist true, not a duplicate).")
    conversation_event_id: int | None = Field(alias="conversationEventId", description="The stored event's id.")
    conversation_closed: bool = Field(alias="conversationClosed", description="It arrived after the call ended.")


class IntelligencePostCallStored(EventBase):
    """A ``postConversationEvents`` batch was stored (a resent batch stores nothing new: ``duplicates``)."""

    type: Literal["intelligence.post_call_stored"] = "intelligence.post_call_stored"
    version: Literal[1] = 1
    conversation_id: str = Field(alias="conversationId")
    service: str
    received: int = Field(description="Events in the request.")
    stored: int = Field(description="Events new to the conversation data store.")
    duplicates: int = Field(description="Events already stored (a resent batch).")
    conversation_event_ids: list[int] = Field(alias="conversationEventIds", description="Ids of the stored events.")
    types: dict[str, int] = Field(description="How many of each signal type were stored.")


class SentimentScoreChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    participant: Literal["AGENT", "CUSTOMER"]
    value: str = Field(description="The OverallSentimentScore value as sent.")
    scale: Literal["-5..5", "-1000..1000"] = Field(description="How the value was read (intelligence.sentiment).")
    score: float = Field(description="The value on the VoiceCall's -5..5 scale.")
    previous: float | None


class VoiceCallSentimentUpdated(EventBase):
    """Post-call OverallSentimentScore events set the call's AgentSentimentScore / CustomerSentimentScore."""

    type: Literal["voice_call.sentiment_updated"] = "voice_call.sentiment_updated"
    version: Literal[1] = 1
    conversation_id: str = Field(alias="conversationId")
    agent_sentiment_score: float | None = Field(alias="agentSentimentScore")
    customer_sentiment_score: float | None = Field(alias="customerSentimentScore")
    changes: list[SentimentScoreChange]


AnyEvent = (
    TimelineRecorded
    | TranscriptAccepted
    | TranscriptReplaced
    | TranscriptDropped
    | TranscriptRedacted
    | IntelligenceSignal
    | IntelligencePostCallStored
    | VoiceCallSentimentUpdated
)
Event = Annotated[AnyEvent, Field(discriminator="type")]
