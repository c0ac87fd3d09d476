"""Creating VoiceCalls and their transfer legs: the rules of ``POST /voiceCalls`` that need no database. The
writing is the create writer's (``callbridge.voice_calls.creator``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callbridge.auth.context import CallCenterContext
from callbridge.errors import InvalidRequest
from callbridge.kit import ids
from callbridge.kit.bodies import validate
from callbridge.models import Conversation, ConversationParticipant
from callbridge.voice_calls.errors import CallCenterMismatch
from callbridge.voice_calls.schemas import WEBRTC_DEFAULT, VoiceCallCreate
from callbridge.voice_calls.vocabulary import (
    CALL_ORIGINS,
    CALL_SUBTYPES,
    CREATE_INITIATION_METHODS,
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


def new_conversation(
    call_center_id: str, identifier: str, start: datetime, end_user: str | None
) -> tuple[Conversation, ConversationParticipant]:
    """A first leg's conversation and its end-user participant (``end_user``: the customer's number or key)."""
    conversation = Conversation(
        id=ids.new_id(ids.CONVERSATION),
        call_center_id=call_center_id,
        conversation_identifier=identifier,
        start_time=start,
    )
    participant = ConversationParticipant(
        id=ids.new_id(ids.CONVERSATION_PARTICIPANT),
        conversation_id=conversation.id,
        participant_role="EndUser",
        participant_key="END_USER",
        participant_display_name=end_user,
        joined_time=start,
    )
    return conversation, participant


def check_call_center(given: str | None, context: CallCenterContext) -> None:
    if given is not None and given != context.call_center_api_name:
        raise CallCenterMismatch(given, context.call_center_api_name)


def validate_create(data: Any) -> VoiceCallCreate:
    """The create body, or a 400 listing every problem: a body missing several required fields names each of
    them, ``to``/``from`` included (checked here because the model leaves them optional for WebRTC)."""
    try:
        return validate(VoiceCallCreate, data)
    except InvalidRequest as error:
        if not isinstance(data, dict):
            raise
        listed = {problem.split(":", 1)[0] for problem in error.errors}
        missing = [problem for problem in _missing_endpoints(data) if problem.split(":", 1)[0] not in listed]
        if not missing:
            raise
        raise InvalidRequest.for_fields([*error.errors, *missing]) from error


def _missing_endpoints(data: dict[str, Any]) -> list[str]:
    subtype = data.get("callSubtype", data.get("callSubType"))
    if isinstance(subtype, str) and subtype.strip().lower() == "webrtc":
        return []
    problems: list[str] = []
    for name in ("to", "from"):
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{name}: is required (it may be omitted only when callSubtype is WebRTC)")
    return problems


def _endpoint(value: str | None, subtype: str | None, name: str, problems: list[str]) -> str | None:
    if value and value.upper() == WEBRTC_DEFAULT:
        return WEBRTC_DEFAULT
    if value:
        return value
    if subtype == "WebRTC":
        return WEBRTC_DEFAULT
    problems.append(f"{name}: is required (it may be omitted only when callSubtype is WebRTC)")
    return None


@dataclass(frozen=True)
class PreparedCreate:
    """A create body checked against everything that needs no database: what the writer plans from."""

    body: VoiceCallCreate
    call_type: CallType
    subtype: str
    origin: str | None
    to: str
    from_: str
    end_user_key: str  # the first END_USER participant's key
    notes: tuple[str, ...]


def prepare_create(context: CallCenterContext, body: VoiceCallCreate) -> PreparedCreate:
    """Every problem of the body at once (400), before anything is written."""
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
    notes = body.plus_restored
    if len(end_users) > 1 or len(body.participants) > len(end_users):
        notes.append("only the first END_USER participant was kept")
    return PreparedCreate(body, call_type, subtype, origin, to, from_, end_users[0].participant_key, tuple(notes))
