"""HTTP endpoints for conversation intelligence under ``/telephony/v1`` (thin: parse, authorize, call the
service; the unit of work publishes after the commit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize
from callbridge.errors import error_responses
from callbridge.intelligence import read, service
from callbridge.intelligence.schemas import (
    ConversationEventPage,
    EventsAccepted,
    PostConversationEvents,
    RealtimeConversationEvents,
)
from callbridge.kit.bodies import decode, read_body, request_body_openapi
from callbridge.kit.http import actor_of, slash_twins
from callbridge.kit.state import app_state

router = APIRouter(tags=["Conversation intelligence"])
route = slash_twins(router)


@route(
    "/voiceCalls/{vendorCallKey}/realtimeConversationEvents",
    methods=["POST"],
    summary="Send real-time conversation events",
    responses=error_responses(400, 401, 404, 413, 415),
    openapi_extra=request_body_openapi(RealtimeConversationEvents),
    status_code=202,
    response_model=EventsAccepted,
)
async def send_realtime_events(
    request: Request, vendorCallKey: str, context: CallCenterContext = Depends(authorize)
) -> EventsAccepted:
    """Signals for the live console of the call whose **first** leg has this vendorCallKey (a VoiceCall id is
    refused with VENDOR_CALL_KEY_REQUIRED). Each is published as an ``intelligence.signal`` event once the
    request is committed, and stored in the conversation data store when ``persist`` is true. Signals for a
    call that already ended are still accepted, and flagged in the timeline and the events."""
    state = app_state(request)
    data = decode(await read_body(request, state.settings.max_body_bytes), request.headers.get("content-type"))
    body = service.parse_realtime(vendorCallKey, data)
    async with state.unit_of_work(actor_of(request)) as uow:
        await service.receive_realtime(uow, context, vendorCallKey, body)
    return EventsAccepted()


@route(
    "/voiceCalls/{vendorCallKey}/postConversationEvents",
    methods=["POST"],
    summary="Store post-call conversation events",
    responses=error_responses(400, 401, 404, 409, 413, 415),
    openapi_extra=request_body_openapi(PostConversationEvents),
    status_code=202,
    response_model=EventsAccepted,
)
async def store_post_call_events(
    request: Request, vendorCallKey: str, context: CallCenterContext = Depends(authorize)
) -> EventsAccepted:
    """Post-call signals, only once the conversation closed (409 CONVERSATION_NOT_CLOSED before). Each event
    is stored once (a resent batch changes nothing), linked to the VoiceCall and to the transcript entries
    its span overlaps; OverallSentimentScore sets the call's AgentSentimentScore / CustomerSentimentScore."""
    state = app_state(request)
    data = decode(await read_body(request, state.settings.max_body_bytes), request.headers.get("content-type"))
    body = service.parse_post_call(vendorCallKey, data)
    async with state.unit_of_work(actor_of(request)) as uow:
        await service.store_post_call(uow, context, vendorCallKey, body)
    return EventsAccepted()


@route(
    "/voiceCalls/{voiceCallId}/conversationEvents",
    methods=["GET"],
    summary="Read a call's stored conversation events",
    response_model=ConversationEventPage,
    responses=error_responses(400, 401, 404),
)
async def list_conversation_events(
    request: Request,
    voiceCallId: str,
    limit: int = Query(default=100, ge=1, le=1000),
    after: str | None = Query(default=None, description="The `next` cursor of the previous page."),
    type_filter: str | None = Query(
        default=None, alias="type", description="Only these signal types (comma-separated, any case)."
    ),
    context: CallCenterContext = Depends(authorize),
) -> ConversationEventPage:
    """A Callbridge addition: the conversation data store of the call's conversation (post-call events and
    persisted real-time events), in startTime order, each with the messageIds of the transcript entries it
    overlaps. ``{voiceCallId}`` is the VoiceCall id or a vendorCallKey."""
    async with app_state(request).database.read_session() as session:
        return await read.list_events(session, context, voiceCallId, limit=limit, after=after, type_filter=type_filter)
