"""HTTP endpoints for routing a call (thin: parse, authorize, run the service in a unit of work, answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Request

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize
from callbridge.errors import CallbridgeError, error_responses
from callbridge.kit.bodies import parse_body, request_body_openapi
from callbridge.kit.http import actor_of, slash_twins
from callbridge.kit.state import app_state
from callbridge.kit.uow import UnitOfWork
from callbridge.routing import read, service
from callbridge.routing.schemas import (
    CallbackCreated,
    CallbackRequest,
    CallRouting,
    NoBody,
    OmniFlowRequest,
    OmniFlowResult,
    RouteRequest,
    RoutingStatus,
)
from callbridge.routing.tx import in_unit_of_work

router = APIRouter(tags=["Routing"])
route = slash_twins(router)

_ROUTING_ERRORS = error_responses(400, 401, 404, 409, 413, 415)
_CALLBACK_ERRORS = error_responses(400, 401, 404, 413, 415)
T = TypeVar("T")


async def _run(request: Request, step: Callable[[UnitOfWork], Awaitable[T | CallbridgeError]]) -> T:
    """The step in a unit of work (retried on a collision with another process); a refusal (ROUTING_FAILED,
    CALL_ENDED) is committed to the timeline first, then answered."""
    outcome = await in_unit_of_work(app_state(request), actor_of(request), step)
    if isinstance(outcome, CallbridgeError):
        raise outcome
    return outcome


@route(
    "/voiceCalls/{voiceCallId}/omniFlow",
    methods=["PATCH"],
    summary="Execute an Omni-Channel flow: decide the route and create the PendingServiceRouting",
    response_model=OmniFlowResult,
    response_model_exclude_none=True,
    responses=_ROUTING_ERRORS,
    openapi_extra=request_body_openapi(OmniFlowRequest, required=False),
)
async def execute_omni_flow(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> OmniFlowResult:
    """Tries voicemail routing (voicemail calls), the phone channel of ``dialedNumber`` (its flow, then its
    fallback queue), ``flowDevName`` (or ``flowName``), then ``fallbackQueue``. Answers the external ids of the
    agent and/or queue routed to; 400 ROUTING_FAILED lists what was tried when nothing routes; 409 CALL_ENDED
    for an ended call that is not a voicemail."""
    state = app_state(request)
    body = await parse_body(request, OmniFlowRequest, state.settings.max_body_bytes)
    return await _run(request, lambda uow: service.omni_flow(uow, context, voiceCallId, body, state.settings))


async def _route(request: Request, voice_call_id: str, context: CallCenterContext) -> RoutingStatus:
    state = app_state(request)
    body = await parse_body(request, RouteRequest, state.settings.max_body_bytes)
    await _run(request, lambda uow: service.route(uow, context, voice_call_id, body, state.settings))
    return RoutingStatus()


@route(
    "/voiceCalls/route/{voiceCallId}",
    methods=["PATCH"],
    summary="Route a VoiceCall to an agent, a queue or a flow (the path Salesforce's clients use)",
    response_model=RoutingStatus,
    responses=_ROUTING_ERRORS,
    openapi_extra=request_body_openapi(RouteRequest),
)
async def route_voice_call(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> RoutingStatus:
    """``routingTarget``: a 005 user id, a 00G queue id or a 300 flow id (or a queue's API name or external
    id, an agent's username or external id, a flow's API name); ``fallbackQueue`` when that fails."""
    return await _route(request, voiceCallId, context)


@route(
    "/voiceCalls/{voiceCallId}/routeVoiceCall",
    methods=["POST"],
    summary="Route a VoiceCall to an agent, a queue or a flow (the documented path)",
    response_model=RoutingStatus,
    responses=_ROUTING_ERRORS,
    openapi_extra=request_body_openapi(RouteRequest),
)
async def route_voice_call_documented(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> RoutingStatus:
    """The same as ``PATCH /voiceCalls/route/{voiceCallId}``."""
    return await _route(request, voiceCallId, context)


async def _reroute(request: Request, voice_call_id: str, context: CallCenterContext) -> RoutingStatus:
    await parse_body(request, NoBody, app_state(request).settings.max_body_bytes)
    await _run(request, lambda uow: service.reroute(uow, context, voice_call_id))
    return RoutingStatus()


_REROUTE = {
    "summary": "Reroute a VoiceCall: pass it over its current agent and route it to another",
    "response_model": RoutingStatus,
    "responses": error_responses(401, 404, 409, 413, 415),
    "openapi_extra": request_body_openapi(NoBody, required=False),
}


@route("/voiceCalls/{voiceCallId}/reroute", methods=["PATCH"], **_REROUTE)
async def reroute_voice_call(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> RoutingStatus:
    """No body (``null`` is fine). Passes the call over its current agent (accepted work closed, or the standing
    offer withdrawn; else the agent last offered it), drops the preferred agent and routes it again; 409
    NOTHING_TO_REROUTE when it was never routed, 409 CALL_ENDED when it has ended (not a voicemail)."""
    return await _reroute(request, voiceCallId, context)


@route("/voiceCalls/{voiceCallId}/reroute", methods=["POST"], **_REROUTE)
async def reroute_voice_call_documented(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> RoutingStatus:
    """The documented method for ``reroute``; the same as PATCH."""
    return await _reroute(request, voiceCallId, context)


@route(
    "/voiceCalls/{voiceCallId}/clearRouting",
    methods=["PATCH"],
    summary="Clear a call's pending routing",
    response_model=RoutingStatus,
    responses=error_responses(401, 404, 413, 415),
    openapi_extra=request_body_openapi(NoBody, required=False),
)
async def clear_routing(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> RoutingStatus:
    """No body (``null`` is fine). Deletes the PendingServiceRouting and withdraws its standing offer; a call
    with nothing to clear is a success too."""
    await parse_body(request, NoBody, app_state(request).settings.max_body_bytes)
    await _run(request, lambda uow: service.clear_routing(uow, context, voiceCallId))
    return RoutingStatus()


@route(
    "/voiceCalls/{voiceCallId}/requestCallback",
    methods=["POST"],
    summary="Request a callback: a ContactRequest, always recorded, routed by the callback routing",
    response_model=CallbackCreated,
    responses=_CALLBACK_ERRORS,
    openapi_extra=request_body_openapi(CallbackRequest, xml=False),
)
async def request_callback(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> CallbackCreated:
    """JSON only. The ContactRequest is always recorded: routed by the call center's ``callback`` flow, then its
    fallback queue, else the original call's queue, at ``scheduledRoutingDateTime`` (now when absent); when
    nothing routes it, it waits with status Unrouted, listed for supervisors (``GET /console/v1/callbacks``)."""
    state = app_state(request)
    body = await parse_body(request, CallbackRequest, state.settings.max_body_bytes, xml_allowed=False)
    record_id = await _run(
        request, lambda uow: service.request_callback(uow, context, voiceCallId, body, state.settings)
    )
    return CallbackCreated(recordId=record_id)


@route(
    "/voiceCalls/{voiceCallId}/routing",
    methods=["GET"],
    summary="A call's routing: pending routings, agent work, callbacks, owner",
    response_model=CallRouting,
    responses=error_responses(401, 404),
)
async def get_call_routing(
    request: Request, voiceCallId: str, context: CallCenterContext = Depends(authorize)
) -> CallRouting:
    """A Callbridge addition: what the call waits for and who has worked on it."""
    async with app_state(request).database.read_session() as session:
        return await read.get_call_routing(session, context, voiceCallId)
