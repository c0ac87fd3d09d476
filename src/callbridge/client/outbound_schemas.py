"""Wire models of the newest endpoints (voicemail drops, default outbound numbers, greetings, routable numbers and
voice-call contexts), re-exported by ``callbridge.client``."""

from __future__ import annotations

from datetime import datetime

from callbridge.client.schemas import WireModel


class VoiceCallContextDetails(WireModel):
    """``context`` of reserveRoutableNumber and createVoiceCallContext."""

    to_number: str
    scrt2_domain: str | None = None
    call_id: str | None = None
    transaction_id: str | None = None


class RoutableNumberContext(VoiceCallContextDetails):
    original_from_number: str | None = None


class RoutableNumberReserve(WireModel):
    """``POST /voiceCalls/reserveRoutableNumber``: E.164 numbers, an ISO 3166-1 alpha-2 country code."""

    country_code: str
    from_number: str
    context: RoutableNumberContext


class RoutableNumberHandle(WireModel):
    routable_number: str
    uid: str
    expires_at: datetime


class RoutableNumberReservation(WireModel):
    status: str
    mode: str
    handle: RoutableNumberHandle


class VoiceCallContextRequest(WireModel):
    """``POST /voiceCalls/createVoiceCallContext``."""

    from_number: str
    context: VoiceCallContextDetails


class VoiceCallContextHandle(WireModel):
    correlation_id: str
    expires_at: datetime


class VoiceCallContextCreated(WireModel):
    status: str
    mode: str
    handle: VoiceCallContextHandle


class VoicemailDrop(WireModel):
    recording_url: str


class DefaultOutboundPhoneNumber(WireModel):
    phone_number: str


class VoicemailGreeting(WireModel):
    greeting_url: str
