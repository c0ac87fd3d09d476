"""``PATCH /voiceCalls/{id}``: post-call data, recordings, closing, and creating a call that was never made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callbridge.auth.context import CallCenterContext
from callbridge.errors import InvalidRequest
from callbridge.kit import ids
from callbridge.kit.times import isoformat_z
from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall, VoiceCallRecording
from callbridge.routing import hooks as routing_hooks
from callbridge.voice_calls import repository, warnings
from callbridge.voice_calls.errors import ParentVoiceCallNotFound, VoiceCallNotFound
from callbridge.voice_calls.schemas import VoiceCallUpdate
from callbridge.voice_calls.service import check_call_center, new_conversation
from callbridge.voice_calls.state import call_record, snapshot
from callbridge.voice_calls.vocabulary import (
    CALL_ORIGINS,
    CALL_SUBTYPES,
    UPDATE_INITIATION_METHODS,
    CallDisposition,
    CallType,
    pick,
)

# Request field -> VoiceCall attribute, for the fields copied as they are.
_COPIED = {
    "enqueue_time": "call_queued_date_time",
    "accept_time": "call_accept_date_time",
    "from_number": "from_phone_number",
    "to_number": "to_phone_number",
    "total_hold_duration": "customer_hold_duration",
    "longest_hold_duration": "longest_hold_duration",
    "number_of_holds": "number_of_holds",
    "agent_interaction_duration": "agent_interaction_duration",
    "queue": "queue_name",
    "agent": "agent_username",
    "start_time": "call_start_date_time",
    "end_time": "call_end_date_time",
}


def _jsonable(value: Any) -> Any:
    return isoformat_z(value) if isinstance(value, datetime) else value


async def update_voice_call(
    uow: UnitOfWork, context: CallCenterContext, id_or_key: str, body: VoiceCallUpdate, provider: str | None
) -> list[str]:
    """Applies the update; returns the warnings about suspicious but accepted input (also in the timeline)."""
    check_call_center(body.call_center_api_name, context)
    problems: list[str] = []
    call_type = pick(body.initiation_method, UPDATE_INITIATION_METHODS, "initiationMethod", problems)
    origin = pick(body.call_origin, CALL_ORIGINS, "callOrigin", problems)
    subtype = pick(body.call_subtype, CALL_SUBTYPES, "callSubtype", problems)
    if problems:
        raise InvalidRequest.for_fields(problems)

    sent = body.model_fields_set
    notes: list[str] = body.plus_restored
    call = await repository.resolve(uow.session, context.call_center_id, id_or_key)
    created = call is None
    if call is None:
        if ids.is_salesforce_id(id_or_key, ids.VOICE_CALL):
            raise VoiceCallNotFound(id_or_key)
        call = await _create_missing_call(uow, context, id_or_key, body, call_type, subtype, provider)
    elif "initiation_method" in sent:
        notes.append("initiationMethod is only used when the update creates the call")

    changes: dict[str, Any] = {}
    was_active = bool(call.is_active_call) and not created

    def change(attribute: str, value: Any) -> None:
        if getattr(call, attribute) != value:
            changes[attribute] = _jsonable(value)
            setattr(call, attribute, value)

    for field, attribute in _COPIED.items():
        if field in sent:
            change(attribute, getattr(body, field))
    if origin is not None:
        change("call_origin", origin)
    if subtype is not None:
        change("call_subtype", subtype)
    if body.start_time is not None and body.end_time is not None:
        duration = int((body.end_time - body.start_time).total_seconds())
        if duration >= 0:
            change("call_duration_in_seconds", duration)
        else:
            notes.append("endTime is before startTime: CallDurationInSeconds was left as it was")
    if body.call_attributes:
        change("call_attributes", {**call.call_attributes, **body.call_attributes})
    if body.disconnect_reason is not None:
        change("disconnect_reason", body.disconnect_reason.value)
        change("disconnect_reason_is_error", body.disconnect_reason.is_error)

    await _apply_recording(uow, call, body, changes, notes)
    await _apply_activity(uow, call, bool(body.is_active_call), changes, notes)
    if not call.is_active_call and call.call_end_date_time is None:
        # A post-call update (the demo connector's recording PATCH) completes the call without an end time.
        change("call_end_date_time", uow.clock.now())
        notes.append(
            "the update marked the call complete without an endTime: CallEndDateTime is the server's receive time"
        )
    # A closed call leaves routing and an ended one frees its agent (spec §3.1).
    await routing_hooks.on_call_updated(uow, call, closed=not call.is_active_call, ended=body.end_time is not None)

    call.updated_at = uow.clock.now()
    warned = warnings.of_update(call, body, uow.clock.now())
    state_change = _change_of(created, was_active, bool(call.is_active_call))
    uow.record(
        call_center_id=context.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="voice_call.updated",
        outcome="created" if created else ("updated" if changes else "unchanged"),
        reason="; ".join([*warned, *notes]) or None,
        data={
            "changes": changes,
            **({"warnings": warned} if warned else {}),
            "fields": sorted(body.model_dump(by_alias=True, exclude_unset=True)),
            "state": snapshot(call, state_change),
            **({"record": call_record(call)} if state_change == "closed" else {}),
        },
    )
    return warned


def _change_of(created: bool, was_active: bool, active: bool) -> str:
    if created:
        return "created"
    if was_active != active:
        return "reopened" if active else "closed"
    return "updated"


async def _create_missing_call(
    uow: UnitOfWork,
    context: CallCenterContext,
    vendor_call_key: str,
    body: VoiceCallUpdate,
    call_type: str | None,
    subtype: str | None,
    provider: str | None,
) -> VoiceCall:
    """Update creates a call that never got a record (missed or abandoned calls, outbound calls)."""
    session = uow.session
    now = uow.clock.now()
    parent = None
    if body.parent_call_identifier:
        parent = await repository.resolve(session, context.call_center_id, body.parent_call_identifier)
        if parent is None:
            raise ParentVoiceCallNotFound("parentCallIdentifier", body.parent_call_identifier)
    start = body.start_time or now
    if parent is None:
        customer = body.from_number if call_type != CallType.outbound else body.to_number
        conversation, end_user = new_conversation(context.call_center_id, vendor_call_key, start, customer)
        session.add(conversation)
        session.add(end_user)
        conversation_id = conversation.id
    else:
        conversation_id = parent.conversation_id
    call = VoiceCall(
        id=ids.new_id(ids.VOICE_CALL),
        call_center_id=context.call_center_id,
        vendor_call_key=vendor_call_key,
        conversation_id=conversation_id,
        call_type=call_type or CallType.inbound.value,
        call_subtype=subtype or "PSTN",
        call_disposition=CallDisposition.new.value,
        call_attributes={},
        previous_call_id=parent.id if parent else None,
        telephony_provider_name=provider,
        is_active_call=True,
        is_on_hold=False,
        is_recording_paused=False,
        is_recorded=False,
        created_at=now,
        updated_at=now,
    )
    if parent is not None and parent.next_call_id is None:
        parent.next_call_id = call.id
    session.add(call)
    await session.flush()
    return call


async def _apply_recording(
    uow: UnitOfWork, call: VoiceCall, body: VoiceCallUpdate, changes: dict[str, Any], notes: list[str]
) -> None:
    """One VoiceCallRecording per call, made only when recordingLocation is given. Its duration is
    totalRecordingDuration if sent, else agentInteractionDuration + totalHoldDuration."""
    recording = await repository.recording_of(uow.session, call.id)
    if body.recording_location is None and recording is None:
        if body.total_recording_duration is not None:
            notes.append("totalRecordingDuration without recordingLocation: no recording exists to hold it")
        return
    if body.total_recording_duration is not None:
        duration: int | None = body.total_recording_duration
    elif call.agent_interaction_duration is not None or call.customer_hold_duration is not None:
        duration = (call.agent_interaction_duration or 0) + (call.customer_hold_duration or 0)
    else:
        duration = recording.duration_in_seconds if recording else None
    now = uow.clock.now()
    if recording is None:
        assert body.recording_location is not None
        recording = VoiceCallRecording(
            id=ids.new_id(ids.VOICE_CALL_RECORDING),
            voice_call_id=call.id,
            recording_location=body.recording_location,
            duration_in_seconds=duration,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(recording)
        call.call_recording_id = recording.id
        call.is_recorded = True
        changes["recording"] = {
            "id": recording.id,
            "location": recording.recording_location,
            "duration": duration,
        }
        return
    before = (recording.recording_location, recording.duration_in_seconds)
    if body.recording_location is not None:
        recording.recording_location = body.recording_location
    recording.duration_in_seconds = duration
    if (recording.recording_location, recording.duration_in_seconds) != before:
        recording.updated_at = now
        changes["recording"] = {
            "id": recording.id,
            "location": recording.recording_location,
            "duration": duration,
        }


async def _apply_activity(
    uow: UnitOfWork, call: VoiceCall, active: bool, changes: dict[str, Any], notes: list[str]
) -> None:
    """isActiveCall true keeps the conversation open; false (or absent) completes the call and closes the
    conversation unless the call was transferred on (NextCallId set)."""
    conversation = await repository.get_conversation(uow.session, call.conversation_id)
    if active:
        if call.call_disposition != CallDisposition.in_progress:
            changes["call_disposition"] = CallDisposition.in_progress.value
            call.call_disposition = CallDisposition.in_progress.value
        call.is_active_call = True
        if conversation.end_time is not None:
            conversation.end_time = None
            changes["conversation"] = "reopened"
        return
    if call.call_disposition != CallDisposition.completed:
        changes["call_disposition"] = CallDisposition.completed.value
        call.call_disposition = CallDisposition.completed.value
    call.is_active_call = False
    if call.next_call_id is not None:
        notes.append(f"the conversation stays open: the call continues on leg {call.next_call_id}")
    elif conversation.end_time is None:
        conversation.end_time = uow.clock.now()
        changes["conversation"] = "closed"
