"""Hold and paused recording: call states set by the rep's console that gate transcripts (spec §4.3)."""

from __future__ import annotations

from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall


def set_on_hold(uow: UnitOfWork, call: VoiceCall, on_hold: bool) -> bool:
    """Put the call on hold or resume it; True when that changed anything. Recorded in the timeline."""
    if call.is_on_hold == on_hold:
        return False
    call.is_on_hold = on_hold
    call.updated_at = uow.clock.now()
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="voice_call.hold" if on_hold else "voice_call.resumed",
        outcome="updated",
        reason="transcripts are dropped until the call is resumed" if on_hold else None,
    )
    return True


def set_recording_paused(uow: UnitOfWork, call: VoiceCall, paused: bool) -> bool:
    """Pause or resume recording (and so transcription); True when that changed anything."""
    if call.is_recording_paused == paused:
        return False
    call.is_recording_paused = paused
    call.updated_at = uow.clock.now()
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="voice_call.recording_paused" if paused else "voice_call.recording_resumed",
        outcome="updated",
        reason="transcripts are dropped until recording resumes" if paused else None,
    )
    return True
