"""HTTP endpoints for VoiceCall records (thin: parse, authorize, call the service, answer)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize, authorize_later, authorize_later_hot
from callbridge.auth.service import DeferredAuthorization, spent_if_refused
from callbridge.errors import CallbridgeError, error_responses
from callbridge.kit.bodies import decode, parse_body, read_body, request_body_openapi
from callbridge.kit.fastlane import HotRequest, HotResponse, HotRoute
from callbridge.kit.http import actor_of, header_provider, hot_actor, provider_name, slash_twins
from callbridge.kit.state import AppState, app_state
from callbridge.kit.uow import Actor
from callbridge.voice_calls import creator, read, service, updates, warnings
from callbridge.voice_calls.creator import CreateJob
from callbridge.voice_calls.schemas import (
    Timeline,
    UpdateAccepted,
    VoiceCall,
    VoiceCallCreate,
    VoiceCallCreated,
    VoiceCallUpdate,
)

router = APIRouter(tags=["VoiceCall"])

_WRITE_ERRORS = error_responses(400, 401, 404, 413, 415)
_CREATE_ERRORS = error_responses(400, 401, 404, 413, 415, 429, 503)


# Registers a path with and without a trailing slash (real clients send both).
route = slash_twins(router)


@route(
    "/voiceCalls",
    methods=["POST"],
    summary="Create a VoiceCall (or a transfer leg)",
    response_model=VoiceCallCreated,
    responses=_CREATE_ERRORS,
    openapi_extra=request_body_openapi(VoiceCallCreate),
)
async def create_voice_call(
    request: Request, auth: DeferredAuthorization = Depends(authorize_later)
) -> VoiceCallCreated:
    """Creates the call, its conversation and end-user participant. A repeat with the same vendorCallKey and
    no parentVoiceCallId returns the existing id; with parentVoiceCallId it makes a new leg of the chain."""
    state = app_state(request)
    async with spent_if_refused(auth):
        raw = await read_body(request, state.settings.max_body_bytes)
        body = service.validate_create(decode(raw, request.headers.get("content-type")))
    return await _create(state, auth, actor_of(request), body, provider_name(request))


async def _create(
    state: AppState, auth: DeferredAuthorization, actor: Actor, body: VoiceCallCreate, provider: str | None
) -> VoiceCallCreated:
    """Checked here, written by the create writer with the token's jti (callbridge.voice_calls.creator)."""
    async with spent_if_refused(auth):
        prepared = service.prepare_create(auth.context, body)
    if state.limiter is not None:  # a 429 leaves the token's jti unspent: nothing was processed
        await state.limiter.take_or_refuse(state.limiter.new_voice_calls, auth.context.org_id)
    job = CreateJob(auth.context, prepared, provider, actor, auth.sighting)
    outcome = await creator.submit(state, job)
    auth.recorded()
    if isinstance(outcome, CallbridgeError):
        raise outcome
    return VoiceCallCreated(voiceCallId=outcome.voice_call_id, errors=outcome.errors)


async def _create_voice_call_hot(request: HotRequest) -> HotResponse:
    """``POST /voiceCalls`` with a JSON body, in the fast lane (``callbridge.kit.fastlane``)."""
    auth = await authorize_later_hot(request)
    async with spent_if_refused(auth):
        body = service.validate_create(request.data)
    provider = header_provider(request.headers.get("telephony-provider-name"))
    created = await _create(request.state, auth, hot_actor(request), body, provider)
    return HotResponse.json(created.model_dump(mode="json", by_alias=True))


hot_routes = [HotRoute("POST", "/telephony/v1/voiceCalls", _create_voice_call_hot)]


@route(
    "/voiceCalls/{voiceCallId}",
    methods=["PATCH"],
    summary="Update a VoiceCall (creates it if it does not exist)",
    response_model=UpdateAccepted,
    responses={200: {"headers": warnings.HEADER_OPENAPI}, **_WRITE_ERRORS},
    openapi_extra=request_body_openapi(VoiceCallUpdate, required=False),
)
async def update_voice_call(
    request: Request, response: Response, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> UpdateAccepted:
    """``{voiceCallId}`` is the VoiceCall id or the vendorCallKey. The change is visible to the next read.
    Suspicious but accepted input (an endTime before the call's start, a time in the future, durations longer
    than the call) is answered with one ``Callbridge-Warning`` header per warning, also in the timeline."""
    state = app_state(request)
    body = await parse_body(request, VoiceCallUpdate, state.settings.max_body_bytes)
    async with state.unit_of_work(actor_of(request)) as uow:
        warned = await updates.update_voice_call(uow, context, voiceCallId, body, provider_name(request))
    warnings.add_to(response, warned)
    return UpdateAccepted()


@route(
    "/voiceCalls/{voiceCallId}",
    methods=["GET"],
    summary="Read a VoiceCall with its legs, conversation and recording",
    response_model=VoiceCall,
    responses=error_responses(401, 404),
)
async def get_voice_call(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> VoiceCall:
    """A Callbridge addition: the original API has no read. ``{voiceCallId}`` is the id or the vendorCallKey."""
    async with app_state(request).database.read_session() as session:
        return await read.get_voice_call(session, context, voiceCallId)


@route(
    "/voiceCalls/{voiceCallId}/timeline",
    methods=["GET"],
    summary="What happened to a call, and why",
    response_model=Timeline,
    responses=error_responses(400, 401, 404),
)
async def get_timeline(
    request: Request,
    voiceCallId: str,
    limit: int = Query(default=1000, ge=1, le=10000),
    context: CallCenterContext = Depends(authorize),
) -> Timeline:
    """A Callbridge addition: every request, routing step and transcript decision of the call's conversation
    (all of its legs), oldest first."""
    async with app_state(request).database.read_session() as session:
        return await read.get_timeline(session, context, voiceCallId, limit)
