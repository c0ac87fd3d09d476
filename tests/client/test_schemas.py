"""Request bodies on the wire: camelCase names, the Lambdas' defaults, unset fields left out."""

from __future__ import annotations

from datetime import UTC, datetime

from callbridge.client import (
    CallSubtype,
    TranscriptMessage,
    VoiceCallCreate,
    VoiceCallUpdate,
    isoformat_ms,
)
from callbridge.client.schemas import DisconnectReason


def test_create_body_is_the_lambdas() -> None:
    """An inbound create has the keys the Amazon Connect Lambda sends, callAttributes as a JSON string."""
    body = VoiceCallCreate(
        vendor_call_key="c-1",
        to="+14155550100",
        from_="+14155550123",
        start_time=datetime(2026, 11, 24, 18, 15, 55, 793000, tzinfo=UTC),
        call_subtype=CallSubtype.PSTN,
        call_attributes={"Department__c": "Support"},
    ).wire()
    assert body == {
        "vendorCallKey": "c-1",
        "to": "+14155550100",
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": "2026-11-24T18:15:55.793Z",
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
        "callSubtype": "PSTN",
        "callAttributes": '{"Department__c":"Support"}',
    }


def test_transfer_and_webrtc_defaults() -> None:
    """A parent makes the leg a Transfer; WebRTC without from keys the participant WebRTC_Default."""
    transfer = VoiceCallCreate(vendor_call_key="c-2", from_="+1", to="+2", parent_voice_call_id="c-1").wire()
    assert (transfer["initiationMethod"], transfer["parentVoiceCallId"]) == ("Transfer", "c-1")
    webrtc = VoiceCallCreate(vendor_call_key="c-3", call_subtype=CallSubtype.WEBRTC).wire()
    assert webrtc["participants"] == [{"participantKey": "WebRTC_Default", "type": "END_USER"}]
    assert "from" not in webrtc


def test_update_sends_only_what_is_set() -> None:
    """Unset update fields are left out; disconnectReason keeps both keys."""
    body = VoiceCallUpdate(
        total_hold_duration=10, disconnect_reason=DisconnectReason(value="CUSTOMER_DISCONNECT")
    ).wire()
    assert body == {"totalHoldDuration": 10, "disconnectReason": {"value": "CUSTOMER_DISCONNECT", "isError": False}}


def test_transcript_message_defaults_are_fixed_once() -> None:
    """messageId is chosen when the message is built, so every send of it carries the same id."""
    message = TranscriptMessage(content="hello", start_time=1_764_008_155_000)
    assert message.wire() == message.wire()
    assert message.wire() == {
        "content": "hello",
        "senderType": "END_USER",
        "participantId": "END_USER",
        "messageId": message.message_id,
        "startTime": 1_764_008_155_000,
        "endTime": 1_764_008_155_000,
    }


def test_isoformat_ms_treats_naive_times_as_utc() -> None:
    """Times are sent as UTC with milliseconds, like new Date().toISOString()."""
    assert isoformat_ms(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
