"""Typed bodies of the Telephony Integration API (``/telephony/v1``) as the client sends and reads them.

Attributes are snake_case; on the wire every field has its camelCase name (``vendor_call_key`` is
``vendorCallKey``, ``from_`` is ``from``). Requests leave out what was not set; responses ignore fields they
do not know, so a newer server does not break an older client.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body: camelCase names, unset (``None``) fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def isoformat_ms(value: datetime) -> str:
    """``2026-11-24T18:15:55.793Z``: what ``new Date().toISOString()`` gives the Lambdas."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def epoch_ms(value: datetime | None = None) -> int:
    """Epoch milliseconds (transcript and event times) of ``value``, or of now."""
    moment = datetime.now(UTC) if value is None else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _iso(value: datetime | str | None) -> str | None:
    return isoformat_ms(value) if isinstance(value, datetime) else value


# ---- requests -------------------------------------------------------------------------------------------------


class InitiationMethod(StrEnum):
    INBOUND = "Inbound"
    TRANSFER = "Transfer"


class CallSubtype(StrEnum):
    PSTN = "PSTN"
    WEBRTC = "WebRTC"


class CallOrigin(StrEnum):
    PREVIEW = "Preview"
    PROGRESSIVE = "Progressive"
    VOICEMAIL = "Voicemail"


class Participant(WireModel):
    """The call's end user (``participants[]`` of a create)."""

    participant_key: str
    type: str = "END_USER"


class VoiceCallCreate(WireModel):
    """Body of ``POST /voiceCalls``.

    Defaults follow the Amazon Connect Lambda: ``start_time`` now, ``initiation_method`` Inbound (Transfer
    when ``parent_voice_call_id`` is given), one END_USER participant keyed by ``from_``, and
    ``call_center_api_name`` filled in by the client from its token signer.

    >>> VoiceCallCreate(vendor_call_key="c-1", to="+14155550100", from_="+14155550123").wire()["participants"]
    [{'participantKey': '+14155550123', 'type': 'END_USER'}]
    """

    vendor_call_key: str
    to: str | None = None
    from_: str | None = Field(default=None, validation_alias="from", serialization_alias="from")
    initiation_method: InitiationMethod | None = None
    start_time: datetime | str = Field(default_factory=lambda: datetime.now(UTC))
    participants: list[Participant] = Field(default_factory=list)
    parent_voice_call_id: str | None = None
    call_center_api_name: str | None = None
    call_origin: CallOrigin | None = None
    queue: str | None = None
    call_subtype: CallSubtype | None = None
    call_attributes: dict[str, Any] | str | None = Field(
        default=None, description="Field API name to value; sent as a JSON string, as the API documents."
    )

    @model_validator(mode="after")
    def _lambda_defaults(self) -> VoiceCallCreate:
        if self.initiation_method is None:
            self.initiation_method = (
                InitiationMethod.TRANSFER if self.parent_voice_call_id is not None else InitiationMethod.INBOUND
            )
        if not self.participants:
            key = self.from_ or ("WebRTC_Default" if self.call_subtype == CallSubtype.WEBRTC else None)
            if key is not None:
                self.participants = [Participant(participant_key=key)]
        return self

    @field_serializer("start_time")
    def _start_time(self, value: datetime | str) -> str | None:
        return _iso(value)

    @field_serializer("call_attributes")
    def _attributes(self, value: dict[str, Any] | str | None) -> str | None:
        return json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else value


class DisconnectReason(WireModel):
    value: str
    is_error: bool = False


class VoiceCallUpdate(WireModel):
    """Body of ``PATCH /voiceCalls/{id}``: only the fields set are sent.

    ``is_active_call`` absent or False closes the call (and its conversation); True keeps it open.

    >>> VoiceCallUpdate(end_time="2026-11-24T18:24:10Z", is_active_call=False).wire()
    {'endTime': '2026-11-24T18:24:10Z', 'isActiveCall': False}
    """

    start_time: datetime | str | None = None
    end_time: datetime | str | None = None
    enqueue_time: datetime | str | None = None
    accept_time: datetime | str | None = None
    from_number: str | None = None
    to_number: str | None = None
    total_hold_duration: int | None = None
    longest_hold_duration: int | None = None
    number_of_holds: int | None = None
    agent_interaction_duration: int | None = None
    total_recording_duration: int | None = None
    queue: str | None = None
    agent: str | None = None
    call_origin: CallOrigin | None = None
    recording_location: str | None = None
    call_attributes: dict[str, Any] | str | None = None
    is_active_call: bool | None = None
    disconnect_reason: DisconnectReason | None = None
    initiation_method: str | None = Field(default=None, description="CTR values: INBOUND, OUTBOUND, TRANSFER, ...")
    parent_call_identifier: str | None = None
    call_subtype: CallSubtype | None = None
    call_center_api_name: str | None = None

    @field_serializer("start_time", "end_time", "enqueue_time", "accept_time")
    def _times(self, value: datetime | str | None) -> str | None:
        return _iso(value)

    @field_serializer("call_attributes")
    def _attributes(self, value: dict[str, Any] | str | None) -> str | None:
        return json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else value


class SenderType(StrEnum):
    END_USER = "END_USER"
    EXTERNAL_USER = "EXTERNAL_USER"
    HUMAN_AGENT = "HUMAN_AGENT"
    SUPERVISOR = "SUPERVISOR"
    VIRTUAL_AGENT = "VIRTUAL_AGENT"


class TranscriptMessage(WireModel):
    """One utterance (``POST /voiceCalls/{vendorCallKey}/messages``, and each message of a bulk entry).

    ``message_id`` is fixed when the message is built (a new UUID unless given), so a retry or a deliberate
    resend carries the same id and the server replaces rather than duplicates. ``participant_id`` defaults
    to the bare role (as Contact Lens sends it; the server rewrites it to ``{vendorCallKey}END_USER``),
    ``start_time`` to now and ``end_time`` to ``start_time``; times are epoch milliseconds.

    >>> TranscriptMessage(content="Hello", message_id="m-1", start_time=1764008155000).wire()["participantId"]
    'END_USER'
    """

    content: str
    sender_type: SenderType = SenderType.END_USER
    participant_id: str | None = None
    message_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    start_time: int = Field(default_factory=epoch_ms)
    end_time: int | None = None

    @model_validator(mode="after")
    def _defaults(self) -> TranscriptMessage:
        if self.participant_id is None:
            self.participant_id = self.sender_type.value
        if self.end_time is None:
            self.end_time = self.start_time
        return self


class BulkTranscriptEntry(WireModel):
    """One call's messages in ``POST /voiceCalls/messages`` (5 entries of 5 messages at most by default)."""

    vendor_call_key: str
    messages: list[TranscriptMessage]


class OmniFlowRequest(WireModel):
    """Body of ``PATCH /voiceCalls/{id}/omniFlow``: the phone channel of ``dialed_number``, then
    ``flow_dev_name``, then ``fallback_queue``, whichever routes first."""

    dialed_number: str | None = None
    flow_dev_name: str | None = None
    fallback_queue: str | None = None
    flow_input_parameters: dict[str, Any] | None = None
    transfer_target: str | None = None


class RouteRequest(WireModel):
    """Body of the route endpoint: ``routing_target`` is a 005 user, 00G queue or 300 flow id (or a name)."""

    routing_target: str
    fallback_queue: str | None = None
    flow_input_parameters: dict[str, Any] | None = None


class CallbackRequest(WireModel):
    """Body of ``POST /voiceCalls/{id}/requestCallback`` (JSON only)."""

    callback_number: str
    is_preview_callback: bool | None = None
    scheduled_routing_date_time: datetime | str | None = None
    vendor_call_key: str | None = None

    @field_serializer("scheduled_routing_date_time")
    def _time(self, value: datetime | str | None) -> str | None:
        return _iso(value)


class SignalType(StrEnum):
    CATEGORY = "IntelligenceSignal__Category"
    SENTIMENT = "IntelligenceSignal__Sentiment"
    OVERALL_SENTIMENT_SCORE = "IntelligenceSignal__OverallSentimentScore"


class SignalParticipant(StrEnum):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"


class RealtimeEvent(WireModel):
    """One real-time signal: a Category (``value`` is its name) or a Sentiment (-1000..1000, needs a participant)."""

    type: SignalType
    value: str
    start_time: int = Field(default_factory=epoch_ms)
    score: float | None = None
    participant: SignalParticipant | None = None
    details: dict[str, Any] | None = None


class RealtimeConversationEvents(WireModel):
    """Body of ``POST /voiceCalls/{vendorCallKey}/realtimeConversationEvents``."""

    service: str
    events: list[RealtimeEvent]
    persist: bool | None = None


class PostCallEvent(WireModel):
    """One post-call signal, over the time span it describes."""

    type: SignalType
    value: str
    start_time: int
    end_time: int
    participant: SignalParticipant | None = None


class PostConversationEvents(WireModel):
    """Body of ``POST /voiceCalls/{vendorCallKey}/postConversationEvents`` (only once the call has ended)."""

    service: str
    events: list[PostCallEvent]


# ---- responses ------------------------------------------------------------------------------------------------


class VoiceCallCreated(WireModel):
    """``errors`` is ``[]``, or Salesforce's partial-failure string when the call was created despite a problem."""

    voice_call_id: str
    errors: list[str] | str = Field(default_factory=list)


class UpdateAccepted(WireModel):
    status: str


class TranscriptsAccepted(WireModel):
    result: str


class BulkEntryResult(WireModel):
    """One entry's line of a 207, in the request's order."""

    vendor_call_key: str
    status: int = Field(description="202 taken, 400 rate limited (RESOURCE_EXHAUSTED), 404 no such call, 409 paused")
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == 202

    @property
    def rate_limited(self) -> bool:
        """Refused by the org's utterance limit: send the entry again later (Contact Lens waits 5, 10, 20 s)."""
        return "RESOURCE_EXHAUSTED" in self.message


class BulkTranscriptsAccepted(WireModel):
    """202 ``{"result": "Accepted"}``: every entry was taken."""

    result: Literal["Accepted"]

    @property
    def accepted(self) -> bool:
        return True

    @property
    def entries(self) -> list[BulkEntryResult]:
        return []

    @property
    def rate_limited_keys(self) -> list[str]:
        return []


class BulkErrorResponse(WireModel):
    error_response_entries: list[BulkEntryResult] = Field(default_factory=list)


class BulkTranscriptsMultiStatus(WireModel):
    """207 ``{"errorResponse": {"errorResponseEntries": [...]}}``: some entry was not taken; one result per entry,
    in the request's order."""

    error_response: BulkErrorResponse

    @property
    def accepted(self) -> bool:
        return False

    @property
    def entries(self) -> list[BulkEntryResult]:
        return self.error_response.error_response_entries

    @property
    def rate_limited_keys(self) -> list[str]:
        """The vendorCallKeys whose entries to send again later (what Contact Lens retries)."""
        return [entry.vendor_call_key for entry in self.entries if entry.rate_limited]


# What ``send_transcripts`` answers: both shapes have ``accepted``, ``entries`` and ``rate_limited_keys``.
BulkTranscriptsResult = BulkTranscriptsAccepted | BulkTranscriptsMultiStatus


class OmniFlowResult(WireModel):
    """The external ids Amazon Connect flows read (``$.External.agent`` / ``queue``); absent keys are None."""

    agent: str | None = None
    queue: str | None = None


class RoutingStatus(WireModel):
    status: str


class CallbackCreated(WireModel):
    record_id: str


class EventsAccepted(WireModel):
    status: str


class DisconnectReasonOut(WireModel):
    value: str
    is_error: bool | None = None


class ConversationParticipant(WireModel):
    id: str
    participant_role: str
    participant_key: str
    participant_display_name: str | None = None
    joined_time: datetime


class Conversation(WireModel):
    id: str
    conversation_identifier: str
    start_time: datetime
    end_time: datetime | None = None
    participants: list[ConversationParticipant] = Field(default_factory=list)


class Recording(WireModel):
    id: str
    recording_location: str
    duration_in_seconds: int | None = None


class Leg(WireModel):
    id: str
    vendor_call_key: str
    call_type: str
    previous_call_id: str | None = None
    next_call_id: str | None = None
    created_at: datetime


class VoiceCall(WireModel):
    """A stored VoiceCall (``GET /voiceCalls/{id}``, a Callbridge addition) with its conversation and legs."""

    id: str
    vendor_call_key: str
    call_center_api_name: str
    call_type: str
    call_subtype: str | None = None
    call_origin: str | None = None
    call_disposition: str
    from_phone_number: str | None = None
    to_phone_number: str | None = None
    call_start_date_time: datetime | None = None
    call_end_date_time: datetime | None = None
    call_duration_in_seconds: int | None = None
    call_accept_date_time: datetime | None = None
    call_queued_date_time: datetime | None = None
    customer_hold_duration: int | None = None
    longest_hold_duration: int | None = None
    number_of_holds: int | None = None
    agent_interaction_duration: int | None = None
    queue_name: str | None = None
    owner_queue_id: str | None = None
    agent: str | None = None
    disconnect_reason: DisconnectReasonOut | None = None
    is_active_call: bool
    is_on_hold: bool = False
    is_recording_paused: bool = False
    is_recorded: bool = False
    call_attributes: dict[str, Any] = Field(default_factory=dict)
    previous_call_id: str | None = None
    next_call_id: str | None = None
    conversation_id: str
    conversation: Conversation
    recording: Recording | None = None
    legs: list[Leg] = Field(default_factory=list)
    agent_sentiment_score: float | None = None
    customer_sentiment_score: float | None = None
    telephony_provider_name: str | None = None
    correlation: Correlation | None = None
    created_at: datetime
    updated_at: datetime


class TimelineEntry(WireModel):
    """One thing that happened to a conversation: ``kind`` (e.g. ``transcript.dropped``), who did it
    (``actor``), the request, the ``outcome``, the ``reason`` for anything refused or ignored, and ``data``."""

    id: int
    voice_call_id: str | None = None
    occurred_at: datetime
    kind: str
    actor: str
    request: str | None = None
    outcome: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Timeline(WireModel):
    voice_call_id: str
    entries: list[TimelineEntry]

    def of_kind(self, *kinds: str) -> list[TimelineEntry]:
        """The entries whose ``kind`` is one of ``kinds``, oldest first."""
        return [entry for entry in self.entries if entry.kind in kinds]


class TranscriptSender(WireModel):
    role: str
    participant_id: str


class TranscriptEntry(WireModel):
    """A stored utterance, or (``include_dropped``) the record of a dropped one, whose text is not kept."""

    message_id: str
    status: Literal["stored", "dropped"]
    content: str | None = None
    sender: TranscriptSender
    start_time: int
    end_time: int
    server_received_timestamp: int
    voice_call_id: str | None = None
    version: int | None = None
    redacted: bool = False
    source: str | None = None
    drop_reason: str | None = None
    reason: str | None = None


class TranscriptPage(WireModel):
    voice_call_id: str
    conversation_id: str
    conversation_identifier: str
    entries: list[TranscriptEntry]
    next: str | None = None


class ConversationEvent(WireModel):
    id: int
    source: str = Field(description="realtime or post_call")
    service: str
    type: str
    value: str
    sentiment_score: float | None = None
    score: float | None = None
    participant: str | None = None
    start_time: int
    end_time: int | None = None
    details: dict[str, Any] | None = None
    voice_call_id: str
    entry_identifiers: list[str] = Field(default_factory=list)
    received_at: datetime


class ConversationEventPage(WireModel):
    voice_call_id: str
    conversation_id: str
    conversation_identifier: str
    events: list[ConversationEvent]
    next: str | None = None


class PendingRouting(WireModel):
    """A PendingServiceRouting (``0JR…``): the routed call waiting for an agent."""

    id: str
    work_item_id: str
    work_item_type: str
    routing_type: str
    queue_id: str | None = None
    queue_name: str | None = None
    skills: dict[str, Any] = Field(default_factory=dict)
    preferred_user_id: str | None = None
    is_preferred_user_required: bool = False
    priority: int
    push_timeout: int
    capacity_weight: int
    is_transfer: bool = False
    is_ready_for_routing: bool = True
    ready_at: datetime
    offered_to: str | None = None
    offer_id: str | None = None
    passed_over: list[str] = Field(default_factory=list)
    decision: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class AgentWork(WireModel):
    id: str
    user_id: str
    username: str | None = None
    work_item_id: str
    work_item_type: str
    status: str
    offered_at: datetime
    expires_at: datetime | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None


class ContactRequest(WireModel):
    id: str
    callback_number: str
    is_preview_callback: bool
    scheduled_routing_date_time: datetime | None = None
    status: str
    created_at: datetime


class CallRouting(WireModel):
    """``GET /voiceCalls/{id}/routing`` (a Callbridge addition): the call's routing as it stands."""

    voice_call_id: str
    owner_id: str | None = None
    agent: str | None = None
    pending_service_routings: list[PendingRouting]
    agent_work: list[AgentWork]
    contact_requests: list[ContactRequest]


class Correlation(WireModel):
    """What a VoiceCall was correlated with on create (``mode``: ``correlationID`` or ``number``)."""

    mode: str
    id: str
    routable_number: str | None = None
    call_id: str | None = None
    transaction_id: str | None = None
    scrt2_domain: str | None = None
    correlated_at: datetime
