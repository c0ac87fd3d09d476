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
    conversation_id: str | None = Field(default=None, alias="conversationId")
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


class VoiceCallStateChanged(EventBase):
    """The call was created, updated, closed or reopened, put on hold or resumed, or its recording paused or
    resumed; the flags are the call's state after the change."""

    type: Literal["voice_call.state_changed"] = "voice_call.state_changed"
    version: Literal[1] = 1
    change: Literal[
        "created",
        "updated",
        "closed",
        "reopened",
        "hold_started",
        "hold_ended",
        "recording_paused",
        "recording_resumed",
    ]
    conversation_id: str | None = Field(alias="conversationId")
    vendor_call_key: str | None = Field(alias="vendorCallKey")
    is_active_call: bool = Field(alias="isActiveCall")
    is_on_hold: bool = Field(alias="isOnHold")
    is_recording_paused: bool = Field(alias="isRecordingPaused")
    reason: str | None = None
    # the whole VoiceCall as it was when this change closed it (the voice_call.record webhook); never serialised
    record: dict[str, Any] | None = Field(default=None, exclude=True)


class RoutingOffered(EventBase):
    """Work was offered to an agent (AgentWork ``Assigned``); it is withdrawn at ``expiresAt`` unless accepted."""

    type: Literal["routing.offered"] = "routing.offered"
    version: Literal[1] = 1
    conversation_id: str | None = Field(alias="conversationId")
    offer_id: str = Field(alias="offerId", description="The AgentWork (0Bz) id: accept or decline it.")
    psr_id: str = Field(alias="psrId")
    user_id: str = Field(alias="userId")
    username: str
    queue_id: str | None = Field(alias="queueId")
    queue_name: str | None = Field(alias="queueName")
    expires_at: datetime | None = Field(alias="expiresAt", description="The push timeout's end; null: none.")
    push_timeout_seconds: int | None = Field(alias="pushTimeoutSeconds")
    reason: str | None = None


class RoutingOfferEnded(EventBase):
    """A standing offer ended: accepted (the work is the agent's), declined, expired or withdrawn."""

    type: Literal["routing.offer_ended"] = "routing.offer_ended"
    version: Literal[1] = 1
    conversation_id: str | None = Field(alias="conversationId")
    offer_id: str = Field(alias="offerId")
    psr_id: str = Field(alias="psrId")
    user_id: str = Field(alias="userId")
    outcome: Literal["accepted", "declined", "expired", "withdrawn"]
    reason: str | None = None


class RoutingWorkClosed(EventBase):
    """Accepted work ended: closed by the agent or the call, or transferred to another agent."""

    type: Literal["routing.work_closed"] = "routing.work_closed"
    version: Literal[1] = 1
    conversation_id: str | None = Field(alias="conversationId")
    work_id: str = Field(alias="workId")
    user_id: str = Field(alias="userId")
    status: Literal["closed", "transferred"]
    reason: str | None = None


class AgentPresenceChanged(EventBase):
    """An agent's presence changed. Org-wide: ``callCenterId`` holds the org id (``orgId``)."""

    type: Literal["agent.presence_changed"] = "agent.presence_changed"
    version: Literal[1] = 1
    org_id: str = Field(alias="orgId")
    user_id: str = Field(alias="userId")
    username: str
    presence: Literal["Available", "Busy", "Offline"]
    capacity_used: int = Field(alias="capacityUsed")
    capacity: int


class QueueBacklog(EventBase):
    """A queue's pending routings after a change. Org-wide: ``callCenterId`` holds the org id (``orgId``)."""

    type: Literal["queue.backlog"] = "queue.backlog"
    version: Literal[1] = 1
    org_id: str = Field(alias="orgId")
    queue_id: str = Field(alias="queueId")
    queue_name: str = Field(alias="queueName")
    queue_api_name: str = Field(alias="queueApiName")
    waiting: int = Field(description="Pending routings not offered to anyone.")
    offered: int = Field(description="Pending routings with a standing offer.")
    oldest_waiting_since: datetime | None = Field(alias="oldestWaitingSince")


AnyEvent = (
    TimelineRecorded
    | TranscriptAccepted
    | TranscriptReplaced
    | TranscriptDropped
    | TranscriptRedacted
    | IntelligenceSignal
    | IntelligencePostCallStored
    | VoiceCallSentimentUpdated
    | VoiceCallStateChanged
    | RoutingOffered
    | RoutingOfferEnded
    | RoutingWorkClosed
    | AgentPresenceChanged
    | QueueBacklog
)
Event = Annotated[AnyEvent, Field(discriminator="type")]


class StreamControl(BaseModel):
    """Messages of the stream itself; ``id`` is the last event id sent so far (resume after it)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int


class StreamHello(StreamControl):
    """The first message of a connection: who is listening and from where the stream resumes."""

    type: Literal["stream.hello"] = "stream.hello"
    version: Literal[1] = 1
    role: Literal["agent", "supervisor"]
    user_id: str = Field(alias="userId")
    heartbeat_seconds: float = Field(alias="heartbeatSeconds")
    resumed_after: int | None = Field(alias="resumedAfter", description="The ``after`` asked for; null: live only.")
    replayed: int = Field(description="Events replayed from storage right after this message.")


class StreamHeartbeat(StreamControl):
    type: Literal["stream.heartbeat"] = "stream.heartbeat"
    version: Literal[1] = 1


class StreamReconnect(StreamControl):
    """The server is about to close the connection: reconnect with ``after`` = ``id``."""

    type: Literal["stream.reconnect"] = "stream.reconnect"
    version: Literal[1] = 1
    reason: str
    retry_after_ms: int = Field(alias="retryAfterMs")


class StreamError(StreamControl):
    """The connection is refused or must end (e.g. the session expired); the socket closes after it."""

    type: Literal["stream.error"] = "stream.error"
    version: Literal[1] = 1
    code: str
    message: str


AnyControl = StreamHello | StreamHeartbeat | StreamReconnect | StreamError
