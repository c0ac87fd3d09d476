"""Request and response bodies of the newest telephony endpoints, with the field names Salesforce's 2026
Lambdas send and read."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from callbridge.contact_center.schemas import E164

_COUNTRY = re.compile(r"[A-Za-z]{2}")


def restore_plus(value: Any) -> Any:
    """A ``+`` sent unencoded in a query string arrives as a space (``" 14155550177"``): give it back."""
    if isinstance(value, str) and value[:1] == " " and value.strip().isdigit():
        return "+" + value.strip()
    return value.strip() if isinstance(value, str) else value


def _e164(value: Any) -> Any:
    value = restore_plus(value)
    if isinstance(value, str) and not E164.fullmatch(value):
        raise ValueError(f"must be an E.164 phone number (^\\+[1-9]\\d{{1,14}}$, e.g. +14155550100), not {value!r}")
    return value


def _country(value: Any) -> Any:
    if isinstance(value, str):
        if not _COUNTRY.fullmatch(value.strip()):
            raise ValueError(f"must be an ISO 3166-1 alpha-2 country code such as US or GB, not {value!r}")
        return value.strip().upper()
    return value


def iso_utc(moment: datetime) -> str:
    """``2026-05-22T18:45:11Z``: what the Lambdas pass on as ``expiresAt``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PhoneNumber = Annotated[str, BeforeValidator(_e164)]
CountryCode = Annotated[str, BeforeValidator(_country)]
Text = Annotated[str, Field(max_length=255)]


class _Body(BaseModel):
    # Unknown extra fields are ignored everywhere (real clients send many).
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class VoiceCallContextDetails(_Body):
    """``context`` of both POSTs: where the call will arrive and what it continues."""

    scrt2Domain: Text | None = Field(default=None, description="Origin of the SCRT host the client calls.")
    toNumber: PhoneNumber = Field(description="The number the call will arrive on (E.164).")
    callId: Text | None = Field(default=None, description="The original leg's VoiceCall id (VC1), to link the calls.")
    transactionId: Text | None = Field(default=None, description="A trace id of the caller's choosing.")


class RoutableNumberContext(VoiceCallContextDetails):
    originalFromNumber: PhoneNumber | None = Field(default=None, description="The caller when fromNumber differs.")


class RoutableNumberReserve(_Body):
    """``POST /voiceCalls/reserveRoutableNumber`` (the documentation's example names countryCode ``country``)."""

    countryCode: CountryCode = Field(
        validation_alias=AliasChoices("countryCode", "country"), description="ISO 3166-1 alpha-2, e.g. US."
    )
    fromNumber: PhoneNumber = Field(description="The caller's number (E.164): matched when the call arrives.")
    context: RoutableNumberContext


class RoutableNumberHandle(BaseModel):
    routableNumber: str = Field(description="The reserved number (E.164): transfer the call to it.")
    uid: str = Field(description="The lease's id.")
    expiresAt: str = Field(description="ISO 8601 UTC: the number is free again after this.")


class RoutableNumberReserved(BaseModel):
    status: Literal["success"] = "success"
    mode: Literal["number"] = "number"
    handle: RoutableNumberHandle


class VoiceCallContextCreate(_Body):
    """``POST /voiceCalls/createVoiceCallContext``."""

    fromNumber: PhoneNumber = Field(description="The caller's number (E.164).")
    context: VoiceCallContextDetails


class VoiceCallContextHandle(BaseModel):
    correlationId: str = Field(description="Opaque: pass it on with the call (callAttributes.correlationId).")
    expiresAt: str = Field(description="ISO 8601 UTC: the context cannot be correlated after this.")


class VoiceCallContextCreated(BaseModel):
    status: Literal["success"] = "success"
    mode: Literal["correlationID"] = "correlationID"
    handle: VoiceCallContextHandle


class VoicemailDrop(BaseModel):
    recordingUrl: str = Field(description="The recording of the drop the agent picked for the call.")


class DefaultOutboundPhoneNumber(BaseModel):
    phoneNumber: str = Field(description="The agent's default outbound caller id, else the call center's (E.164).")


class VoicemailGreeting(BaseModel):
    greetingUrl: str = Field(description="The voicemail greeting of the phone channel of the dialed number.")


class Correlation(BaseModel):
    """What a VoiceCall was correlated with when it was created (a Callbridge read-API addition)."""

    mode: Literal["correlationID", "number"] = Field(
        description="correlationID: a voice-call context; number: a routable-number reservation."
    )
    id: str = Field(description="The context's correlationId, or the reservation's uid.")
    routableNumber: str | None = None
    callId: str | None = Field(default=None, description="context.callId as the client sent it.")
    transactionId: str | None = Field(default=None, description="context.transactionId as the client sent it.")
    scrt2Domain: str | None = None
    correlatedAt: datetime


class VoicemailDropOption(BaseModel):
    name: str
    recordingUrl: str


class VoicemailDropPickUpdate(BaseModel):
    """``PUT /console/v1/calls/{voiceCallId}/voicemail-drop``: a drop of the call's call center, or null to clear."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        description="The drop's name as configured in voicemail_drops; null clears the pick."
    )


class VoicemailDropChoice(BaseModel):
    """A call's voicemail drops: what its call center offers and which one is picked."""

    voiceCallId: str
    drops: list[VoicemailDropOption]
    picked: str | None = Field(description="The picked drop's name; null when none is picked.")
    recordingUrl: str | None = Field(description="What GET /telephony/v1/voiceCalls/{id}/voicemailDrop answers.")
