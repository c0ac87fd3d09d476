"""Request and response bodies of the conversation intelligence endpoints, with the field names real clients
send. Rules that span fields (participant and value of sentiment types) live in ``intelligence.rules``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from callbridge.kit.bounds import MAX_FIELD_DEPTH, deeper_than, too_deep_error


class SignalType(StrEnum):
    category = "IntelligenceSignal__Category"
    sentiment = "IntelligenceSignal__Sentiment"
    overall_sentiment_score = "IntelligenceSignal__OverallSentimentScore"


REALTIME_TYPES = (SignalType.category, SignalType.sentiment)
POST_CALL_TYPES = (SignalType.sentiment, SignalType.overall_sentiment_score, SignalType.category)
# Types whose value is a sentiment number (-1000..1000) and that need a participant.
SENTIMENT_TYPES = (SignalType.sentiment, SignalType.overall_sentiment_score)


class Participant(StrEnum):
    agent = "AGENT"
    customer = "CUSTOMER"


def signal_type(value: Any, allowed: tuple[SignalType, ...]) -> SignalType | None:
    """The signal type ``value`` names (any case) among ``allowed``; None when it names none."""
    if isinstance(value, str):
        for member in allowed:
            if value.strip().lower() == member.value.lower():
                return member
    return None


def _one_of(allowed: tuple[SignalType, ...]) -> BeforeValidator:
    def check(value: Any) -> Any:
        found = signal_type(value, allowed)
        if found is None:
            raise PydanticCustomError(
                "signal_type",
                "'{given}' is not one of {allowed}",
                {"given": value, "allowed": ", ".join(member.value for member in allowed)},
            )
        return found

    return BeforeValidator(check)


def _enum_schema(allowed: tuple[SignalType, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": [member.value for member in allowed]})


def _participant(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Participant(value.strip().upper())
        except ValueError:
            raise PydanticCustomError("participant", "'{given}' is not AGENT or CUSTOMER", {"given": value}) from None
    return value


def _value(value: Any) -> Any:
    # Values are strings; a client that sends a number (the documented example's score, Sentiment values) means
    # the same thing, kept in its string form.
    if isinstance(value, bool):
        raise PydanticCustomError("signal_value", "must be a string or a number, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


def _score(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("score", "must be a number from 0 to 1000, not a boolean")
    return value


def _epoch(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("epoch", "must be epoch milliseconds (an integer), not a boolean")
    return value


def _details(value: Any) -> Any:
    if isinstance(value, dict) and deeper_than(value, MAX_FIELD_DEPTH):
        raise too_deep_error()
    return value


def _optional_flag(value: Any) -> Any:
    return False if value is None else value


# Constraints come before the validators so that the JSON schema names them (minimum, maxLength, ...).
# Epoch ms up to 10^14 (the year 5138): beyond any real time, and inside 64-bit columns whatever is sent.
Epoch = Annotated[int, Field(ge=0, le=10**14), BeforeValidator(_epoch)]
SignalValue = Annotated[str, Field(min_length=1, max_length=1024), BeforeValidator(_value)]
ParticipantValue = Annotated[Participant, BeforeValidator(_participant)]
Score = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False), BeforeValidator(_score)]
RealtimeSignalType = Annotated[SignalType, _one_of(REALTIME_TYPES), _enum_schema(REALTIME_TYPES)]
PostCallSignalType = Annotated[SignalType, _one_of(POST_CALL_TYPES), _enum_schema(POST_CALL_TYPES)]


class RealtimeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: RealtimeSignalType = Field(
        description="IntelligenceSignal__Category or IntelligenceSignal__Sentiment (any case)."
    )
    value: SignalValue = Field(
        description="Category: the vendor's rule name. Sentiment: -1000..1000 (a number is accepted)."
    )
    start_time: Epoch = Field(alias="startTime", description="Epoch ms (a value below 10^11 is read as seconds).")
    score: Score | None = Field(default=None, description="Vendor confidence 0..1000, a number or a string.")
    participant: ParticipantValue | None = Field(
        default=None, description="AGENT or CUSTOMER; required for IntelligenceSignal__Sentiment."
    )
    details: Annotated[dict[str, Any] | None, BeforeValidator(_details)] = Field(
        default=None, description=f"Any object nested at most {MAX_FIELD_DEPTH} levels; kept as given."
    )


class RealtimeConversationEvents(BaseModel):
    """Body of ``POST /voiceCalls/{vendorCallKey}/realtimeConversationEvents``."""

    model_config = ConfigDict(extra="ignore")

    service: str = Field(min_length=1, max_length=255, description="The intelligence source.")
    persist: Annotated[bool, BeforeValidator(_optional_flag)] = Field(
        default=False, description="Also store the events in the conversation data store."
    )
    events: list[RealtimeEvent] = Field(min_length=1, description="Sorted by startTime here if they are not.")


class PostCallEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: PostCallSignalType = Field(
        description="IntelligenceSignal__Sentiment, IntelligenceSignal__OverallSentimentScore or "
        "IntelligenceSignal__Category (any case)."
    )
    value: SignalValue = Field(
        description="Sentiment: -1000..1000. OverallSentimentScore: -5..5 (Contact Lens) or -1000..1000."
    )
    start_time: Epoch = Field(alias="startTime", description="Epoch ms (a value below 10^11 is read as seconds).")
    end_time: Epoch = Field(alias="endTime", description="Epoch ms (a value below 10^11 is read as seconds).")
    participant: ParticipantValue | None = Field(
        default=None, description="AGENT or CUSTOMER; required except for IntelligenceSignal__Category."
    )


class PostConversationEvents(BaseModel):
    """Body of ``POST /voiceCalls/{vendorCallKey}/postConversationEvents`` (Salesforce's Lambda sends 25 a time)."""

    model_config = ConfigDict(extra="ignore")

    service: str = Field(min_length=1, max_length=255, description="The intelligence source.")
    events: list[PostCallEvent] = Field(min_length=1, description="Sorted by startTime here if they are not.")


class EventsAccepted(BaseModel):
    status: Literal["202 Accepted"] = "202 Accepted"


class ConversationEventOut(BaseModel):
    """A stored event of the conversation data store."""

    id: int
    source: Literal["realtime", "post_call"]
    service: str
    type: str
    value: str = Field(description="As sent.")
    sentimentScore: float | None = Field(description="OverallSentimentScore on the VoiceCall's -5..5 scale.")
    score: float | None = Field(description="Vendor confidence 0..1000 (real-time events).")
    participant: str | None
    startTime: int = Field(description="Epoch ms.")
    endTime: int | None = Field(description="Epoch ms; null for real-time events.")
    details: dict[str, Any] | None
    voiceCallId: str = Field(description="The VoiceCall the event is linked to.")
    entryIdentifiers: list[str] = Field(
        description="messageIds of the transcript entries whose span overlaps the event's, in spoken order."
    )
    receivedAt: datetime


class ConversationEventPage(BaseModel):
    voiceCallId: str
    conversationId: str
    conversationIdentifier: str
    events: list[ConversationEventOut]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page.")
