"""HTTP endpoints of the newest telephony calls (thin). They are registered before ``/voiceCalls/{voiceCallId}``
(callbridge.app), which would otherwise read ``defaultOutboundPhoneNumber`` as a call's id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize
from callbridge.errors import ErrorBody, InvalidRequest, error_responses
from callbridge.kit.bodies import parse_body, request_body_openapi
from callbridge.kit.http import actor_of, slash_twins
from callbridge.kit.state import app_state
from callbridge.outbound import service
from callbridge.outbound.schemas import (
    DefaultOutboundPhoneNumber,
    RoutableNumberReserve,
    RoutableNumberReserved,
    VoiceCallContextCreate,
    VoiceCallContextCreated,
    VoicemailDrop,
    VoicemailGreeting,
    restore_plus,
)
from callbridge.routing.tx import in_unit_of_work

router = APIRouter(tags=["Outbound"])
route = slash_twins(router)

_PERM_MISSING = {"model": ErrorBody, "description": "PERM_MISSING: the call center has no routable_numbers."}


# What the columns compared with hold: an agent's external_id, a phone channel's dialed_number.
_QUERY_LIMITS = {"externalRepId": 1024, "toPhoneNumber": 64}


def _required(name: str, value: str | None) -> str:
    """The query value, present and within its length (a NUL never gets here: callbridge.kit.paths refuses it)."""
    if value is None or not value.strip():
        raise InvalidRequest.for_fields([f"{name}: is required (a query parameter)"])
    if len(value) > _QUERY_LIMITS[name]:
        raise InvalidRequest.for_fields([f"{name}: is longer than {_QUERY_LIMITS[name]} characters"])
    return value


@route(
    "/voiceCalls/defaultOutboundPhoneNumber",
    methods=["GET"],
    summary="The default outbound caller id of an agent (by external id), else of the call center",
    response_model=DefaultOutboundPhoneNumber,
    responses=error_responses(400, 401, 404),
)
async def get_default_outbound_phone_number(
    request: Request,
    externalRepId: str | None = Query(default=None, description="The agent's external id (the Lambda sends its ARN)."),
    context: CallCenterContext = Depends(authorize),
) -> DefaultOutboundPhoneNumber:
    """The agent's ``default_outbound_number``, else the call center's; 404 DEFAULT_OUTBOUND_NUMBER_NOT_FOUND when
    neither is configured."""
    external_rep_id = _required("externalRepId", externalRepId)
    async with app_state(request).database.read_session() as session:
        return await service.default_outbound_number(session, context, external_rep_id)


@route(
    "/voiceCalls/voicemailGreeting",
    methods=["GET"],
    summary="The voicemail greeting of the phone channel of a dialed number",
    response_model=VoicemailGreeting,
    responses=error_responses(400, 401, 404),
)
async def get_voicemail_greeting(
    request: Request,
    toPhoneNumber: str | None = Query(
        default=None, description="The dialed number, E.164 (a `+` sent as a space is read as `+`)."
    ),
    context: CallCenterContext = Depends(authorize),
) -> VoicemailGreeting:
    """The ``voicemail_greeting_url`` of the phone channel whose ``dialed_number`` is ``toPhoneNumber``; 404
    VOICEMAIL_GREETING_NOT_FOUND when there is none."""
    number = restore_plus(_required("toPhoneNumber", toPhoneNumber))
    async with app_state(request).database.read_session() as session:
        return await service.voicemail_greeting(session, context, number)


@route(
    "/voiceCalls/reserveRoutableNumber",
    methods=["POST"],
    summary="Reserve a number of the call center's pool for a transfer (Agentforce Voice number pool)",
    response_model=RoutableNumberReserved,
    responses={**error_responses(400, 401, 413, 415, 429), 403: _PERM_MISSING},
    openapi_extra=request_body_openapi(RoutableNumberReserve),
)
async def reserve_routable_number(
    request: Request, context: CallCenterContext = Depends(authorize)
) -> RoutableNumberReserved:
    """A free number of ``routable_numbers``, leased for ``routable_number_ttl_seconds``; a call arriving on it
    from ``fromNumber`` is correlated with the reservation. 429 RATE_LIMITED with Retry-After when every number
    is leased; 403 PERM_MISSING when the call center has no pool. Retried from scratch after a collision with
    another process (SQLite's busy snapshot, a PostgreSQL deadlock): the unique constraint decides, not the retry."""
    state = app_state(request)
    body = await parse_body(request, RoutableNumberReserve, state.settings.max_body_bytes)
    return await in_unit_of_work(
        state, actor_of(request), lambda uow: service.reserve_routable_number(uow, context, body)
    )


@route(
    "/voiceCalls/createVoiceCallContext",
    methods=["POST"],
    summary="Create a voice-call context that a later create is correlated with",
    response_model=VoiceCallContextCreated,
    responses=error_responses(400, 401, 413, 415),
    openapi_extra=request_body_openapi(VoiceCallContextCreate),
)
async def create_voice_call_context(
    request: Request, context: CallCenterContext = Depends(authorize)
) -> VoiceCallContextCreated:
    """An opaque correlationId, live for ``routable_number_ttl_seconds``. A later ``POST /voiceCalls`` carrying it
    in ``callAttributes.correlationId``, or from ``fromNumber`` to ``context.toNumber``, is linked to it."""
    state = app_state(request)
    body = await parse_body(request, VoiceCallContextCreate, state.settings.max_body_bytes)
    return await in_unit_of_work(
        state, actor_of(request), lambda uow: service.create_voice_call_context(uow, context, body)
    )


@route(
    "/voiceCalls/{voiceCallId}/voicemailDrop",
    methods=["GET"],
    summary="The voicemail drop the agent picked for a call",
    response_model=VoicemailDrop,
    responses=error_responses(401, 404),
)
async def get_voicemail_drop(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> VoicemailDrop:
    """``{voiceCallId}`` is the VoiceCall id or the vendorCallKey (the Lambda sends the contact id). 404
    VOICEMAIL_DROP_NOT_FOUND when no drop was picked (the client reads it as "no drop"), VOICE_CALL_NOT_FOUND
    for an unknown call."""
    async with app_state(request).database.read_session() as session:
        return await service.voicemail_drop(session, context, voiceCallId)
