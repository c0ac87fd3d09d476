"""HTTP endpoints for transcripts under ``/telephony/v1`` (thin: parse, authorize, call the service, answer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize, authorize_later, authorize_later_hot
from callbridge.auth.service import DeferredAuthorization, spent_if_refused
from callbridge.errors import error_responses
from callbridge.kit.bodies import decode, read_body, request_body_openapi
from callbridge.kit.fastlane import HotRequest, HotResponse, HotRoute
from callbridge.kit.http import actor_of, hot_actor, slash_twins
from callbridge.kit.state import app_state
from callbridge.transcripts import read, service
from callbridge.transcripts.jobs import EntryOutcome
from callbridge.transcripts.schemas import (
    BulkEntryResult,
    BulkErrorResponse,
    BulkMultiStatus,
    BulkTranscripts,
    EntryStatus,
    TranscriptMessage,
    TranscriptPage,
    TranscriptsAccepted,
)
from callbridge.voice_calls import warnings

router = APIRouter(tags=["Transcripts"])
route = slash_twins(router)

_WRITE_ERRORS = error_responses(400, 401, 404, 413, 415, 429, 503)


@route(
    "/voiceCalls/messages",
    methods=["POST"],
    summary="Create transcripts in bulk",
    status_code=202,
    response_model=TranscriptsAccepted,
    responses={
        202: {"description": "Every entry was taken."},
        207: {
            "model": BulkMultiStatus,
            "description": "Some entry was not taken: one result per entry, in request order (202 taken, 400 "
            "RESOURCE_EXHAUSTED, 404 unknown vendorCallKey, 409 transcription paused).",
        },
        **error_responses(400, 401, 413, 415, 503),
    },
    openapi_extra=request_body_openapi(BulkTranscripts),
)
async def create_transcripts(
    request: Request, auth: DeferredAuthorization = Depends(authorize_later)
) -> TranscriptsAccepted | JSONResponse:
    """Up to 100 entries (one per call, by vendorCallKey) of up to 100 messages each by default (Salesforce
    documents 5 x 5: more is taken and noted in the calls' timelines; the `salesforce` limits profile refuses
    it). Answers once every message is committed: 202 when every entry was taken (messages dropped on hold or
    outside the conversation included: the timeline says why), otherwise 207 with one result per entry."""
    state = app_state(request)
    async with spent_if_refused(auth):
        data = decode(await read_body(request, state.settings.max_body_bytes), request.headers.get("content-type"))
    outcomes = await service.create_transcripts(state, auth, actor_of(request), data)
    if all(outcome.status is EntryStatus.accepted for outcome in outcomes):
        return TranscriptsAccepted()
    return JSONResponse(multi_status(outcomes), status_code=207)


def multi_status(outcomes: list[EntryOutcome]) -> dict[str, Any]:
    """The 207 body Salesforce gives (and its Contact Lens processor reads)."""
    results = [BulkEntryResult(vendorCallKey=o.vendor_call_key, status=o.status, message=o.message) for o in outcomes]
    return BulkMultiStatus(errorResponse=BulkErrorResponse(errorResponseEntries=results)).model_dump(mode="json")


@route(
    "/voiceCalls/{vendorCallKey}/messages",
    methods=["POST"],
    summary="Create a transcript",
    response_model=TranscriptsAccepted,
    responses={200: {"headers": warnings.HEADER_OPENAPI}, **_WRITE_ERRORS},
    openapi_extra=request_body_openapi(TranscriptMessage),
)
async def create_transcript(
    request: Request, response: Response, vendorCallKey: str, auth: DeferredAuthorization = Depends(authorize_later)
) -> TranscriptsAccepted:
    """One message for the call whose **first** leg has this vendorCallKey (a VoiceCall id is refused with
    VENDOR_CALL_KEY_REQUIRED). Answers once the message is committed (or recorded as dropped). A startTime or
    endTime far in the future is accepted with a ``Callbridge-Warning`` header, noted in the timeline."""
    state = app_state(request)
    async with spent_if_refused(auth):
        data = decode(await read_body(request, state.settings.max_body_bytes), request.headers.get("content-type"))
    warned = await service.create_transcript(state, auth, actor_of(request), vendorCallKey, data)
    warnings.add_to(response, warned)
    return TranscriptsAccepted()


@route(
    "/voiceCalls/{voiceCallId}/messages",
    methods=["GET"],
    summary="Read a call's transcript",
    response_model=TranscriptPage,
    responses=error_responses(400, 401, 404),
)
async def list_transcript(
    request: Request,
    voiceCallId: str,
    limit: int = Query(default=100, ge=1, le=1000),
    after: str | None = Query(default=None, description="The `next` cursor of the previous page."),
    include: str | None = Query(default=None, description="`dropped` adds the records of dropped messages."),
    context: CallCenterContext = Depends(authorize),
) -> TranscriptPage:
    """A Callbridge addition: the entries of the call's conversation (every leg), in the order they were
    received. ``{voiceCallId}`` is the VoiceCall id or a vendorCallKey."""
    include_dropped = "dropped" in (include or "").split(",")
    async with app_state(request).database.read_session() as session:
        return await read.list_messages(
            session, context, voiceCallId, limit=limit, after=after, include_dropped=include_dropped
        )


# The fast lane (callbridge.kit.fastlane) takes these two POSTs when their body is plain JSON: the same
# service calls as the endpoints above, without FastAPI's per-request machinery.
_ACCEPTED = HotResponse.json(TranscriptsAccepted().model_dump(mode="json"))


_BULK_ACCEPTED = HotResponse.json(TranscriptsAccepted().model_dump(mode="json"), status_code=202)


async def _create_transcripts_hot(request: HotRequest) -> HotResponse:
    auth = await authorize_later_hot(request)
    outcomes = await service.create_transcripts(request.state, auth, hot_actor(request), request.data)
    if all(outcome.status is EntryStatus.accepted for outcome in outcomes):
        return _BULK_ACCEPTED
    return HotResponse.json(multi_status(outcomes), status_code=207)


async def _create_transcript_hot(request: HotRequest) -> HotResponse:
    auth = await authorize_later_hot(request)
    key = request.params["vendorCallKey"]
    warned = await service.create_transcript(request.state, auth, hot_actor(request), key, request.data)
    if warned:
        headers = tuple((warnings.HEADER.lower().encode(), w.encode("latin-1", "replace")) for w in warned)
        return HotResponse(_ACCEPTED.status_code, _ACCEPTED.body, headers)
    return _ACCEPTED


hot_routes = [
    HotRoute("POST", "/telephony/v1/voiceCalls/messages", _create_transcripts_hot),
    HotRoute("POST", "/telephony/v1/voiceCalls/{vendorCallKey}/messages", _create_transcript_hot),
]
