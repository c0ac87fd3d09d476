"""Request and response bodies of the VoiceCall endpoints, with the field names real clients send."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    NonNegativeInt,
    PrivateAttr,
    model_validator,
)

from callbridge.kit.bounds import MAX_FIELD_DEPTH, OutOfRange, deeper_than, storable_datetime, too_deep, too_deep_error
from callbridge.kit.phones import phone_number, restored_note, restored_plus
from callbridge.kit.times import parse_iso_datetime
from callbridge.outbound.schemas import Correlation

WEBRTC_DEFAULT = "WEBRTC_DEFAULT"


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_iso_datetime(value)
        except OutOfRange as exc:
            raise ValueError(f"{value!r} {exc}") from None
        except ValueError:
            raise ValueError(f"must be an ISO-8601 UTC date-time such as 2026-11-24T18:15:55Z, not {value!r}") from None
    if isinstance(value, datetime):
        return storable_datetime(value)
    raise ValueError("must be an ISO-8601 UTC date-time string such as 2026-11-24T18:15:55Z")


def _optional_iso_datetime(value: Any) -> Any:
    # CTR sync copies an empty acceptTime for a caller who never reached a rep: that means "no value".
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _iso_datetime(value)


def _json_object(value: Any) -> Any:
    """A JSON object serialised in a string (as documented), or an object; nothing else. Nested at most
    MAX_FIELD_DEPTH levels either way."""
    if isinstance(value, dict):
        if deeper_than(value, MAX_FIELD_DEPTH):
            raise too_deep_error()
        return value
    if value is None:
        return value
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"must be a JSON object serialised as a string; it is not valid JSON ({exc.msg})"
            ) from None
        except RecursionError:  # nested past what the decoder takes (about 1,000 levels)
            raise too_deep_error() from None
        if too_deep(value, decoded, MAX_FIELD_DEPTH):
            raise too_deep_error()
        if not isinstance(decoded, dict):
            raise ValueError('must be a JSON object serialised as a string, e.g. "{\\"Department__c\\":\\"Support\\"}"')
        return decoded
    raise ValueError("must be a JSON object, or a JSON object serialised as a string")


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
PhoneNumber = Annotated[str, BeforeValidator(phone_number)]
"""A phone number: trimmed, and its ``+`` restored when it arrived as a space (``callbridge.kit.phones``)."""
OptionalIsoDateTime = Annotated[datetime | None, BeforeValidator(_optional_iso_datetime)]
JsonObject = Annotated[dict[str, Any] | None, BeforeValidator(_json_object)]
Trimmed = Annotated[str, BeforeValidator(_trimmed)]


class RestoresPlus(BaseModel):
    """A body with phone numbers: ``plus_restored`` notes each one whose ``+`` was restored, for the timeline."""

    _plus_restored: list[str] = PrivateAttr(default_factory=list)
    PHONE_FIELDS: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _note_restored(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, RestoresPlus):
            model._plus_restored = [
                restored_note(name, data[name]) for name in cls.PHONE_FIELDS if restored_plus(data.get(name))
            ]
            participants = data.get("participants")
            if isinstance(participants, list):
                model._plus_restored += [
                    restored_note(f"participants[{index}].participantKey", item["participantKey"])
                    for index, item in enumerate(participants)
                    if isinstance(item, dict) and restored_plus(item.get("participantKey"))
                ]
        return model

    @property
    def plus_restored(self) -> list[str]:
        return list(self._plus_restored)


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    participant_key: PhoneNumber = Field(
        alias="participantKey", max_length=255, description="Any unique id of the end user."
    )
    type: str = Field(max_length=255, description="Always END_USER.")


class VoiceCallCreate(RestoresPlus):
    """Body of ``POST /voiceCalls``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    PHONE_FIELDS: ClassVar[tuple[str, ...]] = ("to", "from")

    call_center_api_name: str = Field(alias="callCenterApiName", min_length=1)
    vendor_call_key: Trimmed = Field(alias="vendorCallKey", min_length=1, max_length=255)
    to: PhoneNumber | None = Field(default=None, max_length=255)
    from_: PhoneNumber | None = Field(default=None, alias="from", max_length=255)
    initiation_method: str = Field(alias="initiationMethod", description="Inbound or Transfer (any case).")
    start_time: IsoDateTime = Field(alias="startTime")
    participants: list[Participant] = Field(min_length=1)
    parent_voice_call_id: Trimmed | None = Field(default=None, alias="parentVoiceCallId", max_length=255)
    call_origin: str | None = Field(default=None, alias="callOrigin", description="Preview, Progressive or Voicemail.")
    queue: str | None = Field(
        default=None, max_length=255, description="Transfers only: queue Id or the vendor's queue id."
    )
    call_subtype: str | None = Field(
        default=None,
        validation_alias=AliasChoices("callSubtype", "callSubType"),
        serialization_alias="callSubtype",
        description="PSTN (default) or WebRTC; callSubType is accepted too.",
    )
    call_attributes: JsonObject = Field(
        default=None,
        alias="callAttributes",
        description="A JSON object serialised as a string (an object is accepted).",
    )


class DisconnectReason(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str = Field(min_length=1, max_length=255)
    is_error: bool = Field(alias="isError")


class VoiceCallUpdate(RestoresPlus):
    """Body of ``PATCH /voiceCalls/{id}``: every field optional; only the ones sent change the call."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    PHONE_FIELDS: ClassVar[tuple[str, ...]] = ("fromNumber", "toNumber")

    call_center_api_name: str | None = Field(default=None, alias="callCenterApiName")
    start_time: OptionalIsoDateTime = Field(default=None, alias="startTime")
    end_time: OptionalIsoDateTime = Field(default=None, alias="endTime")
    enqueue_time: OptionalIsoDateTime = Field(default=None, alias="enqueueTime")
    accept_time: OptionalIsoDateTime = Field(default=None, alias="acceptTime")
    from_number: PhoneNumber | None = Field(default=None, alias="fromNumber", max_length=255)
    to_number: PhoneNumber | None = Field(default=None, alias="toNumber", max_length=255)
    total_hold_duration: NonNegativeInt | None = Field(default=None, alias="totalHoldDuration")
    longest_hold_duration: NonNegativeInt | None = Field(default=None, alias="longestHoldDuration")
    number_of_holds: NonNegativeInt | None = Field(default=None, alias="numberOfHolds")
    agent_interaction_duration: NonNegativeInt | None = Field(default=None, alias="agentInteractionDuration")
    total_recording_duration: NonNegativeInt | None = Field(default=None, alias="totalRecordingDuration")
    queue: str | None = Field(default=None, max_length=255, description="Name of the queue of the servicing rep.")
    agent: str | None = Field(default=None, max_length=255, description="The rep's username.")
    call_origin: str | None = Field(default=None, alias="callOrigin")
    recording_location: str | None = Field(default=None, alias="recordingLocation", min_length=1, max_length=1000)
    call_attributes: JsonObject = Field(default=None, alias="callAttributes")
    is_active_call: bool | None = Field(
        default=None, alias="isActiveCall", description="Absent means false: the call is closed."
    )
    disconnect_reason: DisconnectReason | None = Field(default=None, alias="disconnectReason")
    initiation_method: str | None = Field(default=None, alias="initiationMethod")
    parent_call_identifier: str | None = Field(default=None, alias="parentCallIdentifier", max_length=255)
    call_subtype: str | None = Field(
        default=None,
        validation_alias=AliasChoices("callSubtype", "callSubType"),
        serialization_alias="callSubtype",
    )


class VoiceCallCreated(BaseModel):
    """``errors`` is an empty list, or a string when the call was created despite a problem (as in Salesforce)."""

    voiceCallId: str
    errors: list[str] | str


class UpdateAccepted(BaseModel):
    status: str = "pending"


class DisconnectReasonOut(BaseModel):
    value: str
    isError: bool | None


class ParticipantOut(BaseModel):
    id: str
    participantRole: str
    participantKey: str
    participantDisplayName: str | None
    joinedTime: datetime


class ConversationOut(BaseModel):
    id: str
    conversationIdentifier: str
    startTime: datetime
    endTime: datetime | None
    participants: list[ParticipantOut]


class RecordingOut(BaseModel):
    id: str
    recordingLocation: str
    durationInSeconds: int | None


class LegOut(BaseModel):
    id: str
    vendorCallKey: str
    callType: str
    previousCallId: str | None
    nextCallId: str | None
    createdAt: datetime


class VoiceCall(BaseModel):
    """A stored VoiceCall with its conversation, recording and every leg of its transfer chain."""

    id: str
    vendorCallKey: str
    callCenterApiName: str
    callType: str
    callSubtype: str | None
    callOrigin: str | None
    callDisposition: str
    fromPhoneNumber: str | None
    toPhoneNumber: str | None
    callStartDateTime: datetime | None
    callEndDateTime: datetime | None
    callDurationInSeconds: int | None
    callAcceptDateTime: datetime | None
    callQueuedDateTime: datetime | None
    customerHoldDuration: int | None
    longestHoldDuration: int | None
    numberOfHolds: int | None
    agentInteractionDuration: int | None
    queueName: str | None
    ownerQueueId: str | None
    agent: str | None
    disconnectReason: DisconnectReasonOut | None
    isActiveCall: bool
    isOnHold: bool
    isRecordingPaused: bool
    isRecorded: bool
    callAttributes: dict[str, Any]
    previousCallId: str | None
    nextCallId: str | None
    conversationId: str
    conversation: ConversationOut
    recording: RecordingOut | None
    legs: list[LegOut]
    agentSentimentScore: float | None = Field(description="AgentSentimentScore, -5..5, from post-call events.")
    customerSentimentScore: float | None = Field(description="CustomerSentimentScore, -5..5, from post-call events.")
    telephonyProviderName: str | None
    correlation: Correlation | None = Field(
        default=None,
        description="The voice-call context or routable-number reservation the call was correlated with on create.",
    )
    createdAt: datetime
    updatedAt: datetime


class TimelineEntryOut(BaseModel):
    id: int
    voiceCallId: str | None
    occurredAt: datetime
    kind: str
    actor: str
    request: str | None
    outcome: str
    reason: str | None
    data: dict[str, Any]


class Timeline(BaseModel):
    voiceCallId: str
    entries: list[TimelineEntryOut]
