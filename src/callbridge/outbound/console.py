"""The console's voicemail-drop picker: ``/console/v1/calls/{voiceCallId}/voicemail-drop`` (thin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from callbridge.console.dependencies import current_agent
from callbridge.console.sessions import SignedIn
from callbridge.errors import ErrorBody, error_responses
from callbridge.kit.state import app_state
from callbridge.kit.uow import Actor
from callbridge.outbound import picks
from callbridge.outbound.schemas import VoicemailDropChoice, VoicemailDropPickUpdate
from callbridge.routing.tx import in_unit_of_work

router = APIRouter(prefix="/console/v1", tags=["Console"])

_FORBIDDEN = {"model": ErrorBody, "description": "Another agent's call."}


@router.get(
    "/calls/{voiceCallId}/voicemail-drop",
    summary="The voicemail drops of a call's call center, and the one picked",
    response_model=VoicemailDropChoice,
    responses={**error_responses(401, 404), 403: _FORBIDDEN},
)
async def get_voicemail_drop(
    request: Request, voiceCallId: str, signed: SignedIn = Depends(current_agent)
) -> VoicemailDropChoice:
    """For a call the agent is offered or working (a supervisor: any call of the org)."""
    async with app_state(request).database.read_session() as session:
        return await picks.choice(session, signed, voiceCallId)


@router.put(
    "/calls/{voiceCallId}/voicemail-drop",
    summary="Pick the voicemail drop of the agent's current call (null clears it)",
    response_model=VoicemailDropChoice,
    responses={**error_responses(400, 401, 404), 403: _FORBIDDEN},
)
async def put_voicemail_drop(
    request: Request, voiceCallId: str, body: VoicemailDropPickUpdate, signed: SignedIn = Depends(current_agent)
) -> VoicemailDropChoice:
    """Only for a call the agent is working (ringing for them or accepted); 400 UNKNOWN_VOICEMAIL_DROP for a
    name the call center does not have. The pick is recorded in the call's timeline; the telephony side reads
    it with ``GET /telephony/v1/voiceCalls/{id}/voicemailDrop``."""
    actor = Actor(name=f"agent:{signed.agent.username}", request=f"{request.method} {request.url.path}")
    return await in_unit_of_work(app_state(request), actor, lambda uow: picks.pick(uow, signed, voiceCallId, body.name))
