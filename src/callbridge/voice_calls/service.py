"""Creating VoiceCalls and their transfer legs; the domain rules of ``POST /voiceCalls``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from callbridge.auth.context import CallCenterContext
from callbridge.errors import InvalidRequest
from callbridge.kit import ids
from callbridge.kit.db import Base
from callbridge.kit.uow import UnitOfWork
from callbridge.models import Conversation, ConversationParticipant, VoiceCall
from callbridge.voice_calls import repository
from callbridge.voice_calls.errors import CallCenterMismatch, ParentVoiceCallNotFound
from callbridge.voice_calls.schemas import WEBRTC_DEFAULT, VoiceCallCreate
from callbridge.voice_calls.state import snapshot
from callbridge.voice_calls.vocabulary import (
    CALL_ORIGINS,
    CALL_SUBTYPES,
    CREATE_INITIATION_METHODS,
    CallDisposition,
    CallType,
    pick,
)

PARTIAL_ERRORS_PREFIX = "We created your voice call but there were some errors : "


@dataclass
class CreateOutcome:
    voice_call_id: str
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str] | str:
        """Salesforce's shape: ``[]`` on success, one string when the call was created despite problems."""
        return PARTIAL_ERRORS_PREFIX + "; ".join(self.warnings) if self.warnings else []


def check_call_center(given: str | None, context: CallCenterContext) -> None:
    if given is not None and given != context.call_center_api_name:
        raise CallCenterMismatch(given, context.call_center_api_name)


def _endpoint(value: str | None, subtype: str | None, name: str, problems: list[str]) -> str | None:
    if value and value.upper() == WEBRTC_DEFAULT:
        return WEBRTC_DEFAULT
    if value:
        return value
    if subtype == "WebRTC":
        return WEBRTC_DEFAULT
    problems.append(f"{name}: is required (it may be omitted only when callSubtype is WebRTC)")
    return None


async def create_voice_call(
    uow: UnitOfWork, context: CallCenterContext, body: VoiceCallCreate, provider: str | None
) -> CreateOutcome:
    check_call_center(body.call_center_api_name, context)
    problems: list[str] = []
    if body.initiation_method.strip().lower() == "outbound":
        problems.append(
            "initiationMethod: Outbound calls cannot be created here (Salesforce creates them when the rep "
            "dials); use Inbound or Transfer"
        )
        call_type = None
    else:
        call_type = pick(body.initiation_method, CREATE_INITIATION_METHODS, "initiationMethod", problems)
    subtype = pick(body.call_subtype, CALL_SUBTYPES, "callSubtype", problems) or "PSTN"
    origin = pick(body.call_origin, CALL_ORIGINS, "callOrigin", problems)
    to = _endpoint(body.to, subtype, "to", problems)
    from_ = _endpoint(body.from_, subtype, "from", problems)
    end_users = [p for p in body.participants if p.type.strip().upper() == "END_USER"]
    if not end_users:
        problems.append("participants: needs one participant of type END_USER")
    if call_type is CallType.transfer and not body.parent_voice_call_id:
        problems.append("parentVoiceCallId: is required when initiationMethod is Transfer")
    if problems:
        raise InvalidRequest.for_fields(problems)
    assert call_type is not None and to is not None and from_ is not None

    session = uow.session
    parent = None
    if body.parent_voice_call_id:
        parent = await repository.resolve(session, context.call_center_id, body.parent_voice_call_id)
        if parent is None:
            raise ParentVoiceCallNotFound("parentVoiceCallId", body.parent_voice_call_id)
    else:
        existing = await repository.get_first_leg_by_vendor_call_key(
            session, context.call_center_id, body.vendor_call_key
        )
        if existing is not None:
            return _repeated_create(uow, existing)

    warnings: list[str] = []
    notes: list[str] = []
    if len(end_users) > 1 or len(body.participants) > len(end_users):
        notes.append("only the first END_USER participant was kept")
    now = uow.clock.now()
    new_rows: list[Base] = []
    if parent is None:
        conversation = Conversation(
            id=ids.new_id(ids.CONVERSATION),
            call_center_id=context.call_center_id,
            conversation_identifier=body.vendor_call_key,
            start_time=body.start_time,
        )
        end_user = ConversationParticipant(
            id=ids.new_id(ids.CONVERSATION_PARTICIPANT),
            conversation_id=conversation.id,
            participant_role="EndUser",
            participant_key="END_USER",
            participant_display_name=end_users[0].participant_key,
            joined_time=body.start_time,
        )
        new_rows += [conversation, end_user]
        conversation_id = conversation.id
    else:
        conversation_id = parent.conversation_id

    call = VoiceCall(
        id=ids.new_id(ids.VOICE_CALL),
        call_center_id=context.call_center_id,
        vendor_call_key=body.vendor_call_key,
        conversation_id=conversation_id,
        call_type=call_type.value,
        call_subtype=subtype,
        call_origin=origin,
        call_disposition=CallDisposition.new.value,
        from_phone_number=from_,
        to_phone_number=to,
        call_start_date_time=body.start_time,
        call_attributes=body.call_attributes or {},
        previous_call_id=parent.id if parent else None,
        telephony_provider_name=provider,
        is_active_call=True,
        is_on_hold=False,
        is_recording_paused=False,
        is_recorded=False,
        created_at=now,
        updated_at=now,
    )
    if body.queue:
        if call_type is CallType.transfer:
            queue = await repository.find_queue(session, context.org_id, body.queue)
            if queue is None:
                warnings.append(f"queue: no queue with Id, external id or API name '{body.queue}'; no owner set")
            else:
                call.owner_queue_id, call.queue_name = queue.id, queue.api_name
        else:
            notes.append("queue is ignored on a call that is not a transfer")
    if parent is not None:
        if parent.next_call_id is None:
            parent.next_call_id = call.id
            parent.updated_at = now
        else:
            notes.append(f"the parent {parent.id} already has NextCallId {parent.next_call_id}; it was kept")

    try:
        async with session.begin_nested():
            await repository.insert_new(session, [*new_rows, call])
    except IntegrityError:
        # A concurrent create of the same first leg won the race: answer as the idempotent retry it is.
        existing = await repository.get_first_leg_by_vendor_call_key(
            session, context.call_center_id, body.vendor_call_key
        )
        if existing is None:
            raise
        return _repeated_create(uow, existing)

    uow.record(
        call_center_id=context.call_center_id,
        voice_call_id=call.id,
        conversation_id=conversation_id,
        kind="voice_call.created",
        outcome="created",
        reason="; ".join(warnings + notes) or None,
        data={
            "vendorCallKey": call.vendor_call_key,
            "callType": call.call_type,
            "from": from_,
            "to": to,
            "previousCallId": call.previous_call_id,
            "queue": body.queue,
            "state": snapshot(call, "created"),
        },
    )
    return CreateOutcome(call.id, warnings)


def _repeated_create(uow: UnitOfWork, existing: VoiceCall) -> CreateOutcome:
    uow.record(
        call_center_id=existing.call_center_id,
        voice_call_id=existing.id,
        conversation_id=existing.conversation_id,
        kind="voice_call.created",
        outcome="unchanged",
        reason="a VoiceCall with this vendorCallKey exists: its id is returned and nothing is created",
        data={"vendorCallKey": existing.vendor_call_key},
    )
    return CreateOutcome(existing.id)
