"""Hold and paused recording: call states set by the rep's console that gate transcripts (spec §4.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall


def snapshot(call: VoiceCall, change: str) -> dict[str, Any]:
    """The call's state after a change, kept in its timeline entry (the ``voice_call.state_changed`` event)."""
    return {
        "change": change,
        "vendorCallKey": call.vendor_call_key,
        "isActiveCall": bool(call.is_active_call),
        "isOnHold": bool(call.is_on_hold),
        "isRecordingPaused": bool(call.is_recording_paused),
    }


def call_record(call: VoiceCall) -> dict[str, Any]:
    """The whole VoiceCall in the API's names (Amazon Connect's contact record): kept in the timeline entry of the
    change that closes the call, so the ``voice_call.record`` webhook sends the call as it was when it ended."""
    record: dict[str, Any] = {}
    for column in VoiceCall.__table__.columns:
        value = getattr(call, column.key)
        head, *rest = column.key.split("_")
        name = head + "".join(part.title() for part in rest)
        record[name] = value.isoformat() if isinstance(value, datetime) else value
    return record


_CHANGES = {
    "is_on_hold": ("hold_started", "hold_ended"),
    "is_recording_paused": ("recording_paused", "recording_resumed"),
}


def _set_gate(uow: UnitOfWork, call: VoiceCall, attribute: str, value: bool, kinds: tuple[str, str], why: str) -> bool:
    """Set one transcript-gating flag; True when that changed anything. Recorded in the timeline."""
    if getattr(call, attribute) == value:
        return False
    setattr(call, attribute, value)
    call.updated_at = uow.clock.now()
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind=kinds[0] if value else kinds[1],
        outcome="updated",
        reason=why if value else None,
        data={"state": snapshot(call, _CHANGES[attribute][0 if value else 1])},
    )
    return True


def set_on_hold(uow: UnitOfWork, call: VoiceCall, on_hold: bool) -> bool:
    """Put the call on hold or resume it; True when that changed anything."""
    return _set_gate(
        uow,
        call,
        "is_on_hold",
        on_hold,
        ("voice_call.hold", "voice_call.resumed"),
        "transcripts are dropped until the call is resumed",
    )


def set_recording_paused(uow: UnitOfWork, call: VoiceCall, paused: bool) -> bool:
    """Pause or resume recording (and so transcription); True when that changed anything."""
    return _set_gate(
        uow,
        call,
        "is_recording_paused",
        paused,
        ("voice_call.recording_paused", "voice_call.recording_resumed"),
        "transcripts are dropped until recording resumes",
    )
