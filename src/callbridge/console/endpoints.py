"""HTTP endpoints of the agent console API, ``/console/v1`` (JSON; a session token as Bearer or cookie)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response

from callbridge.console import service, supervision, throttle
from callbridge.console.dependencies import current_agent
from callbridge.console.errors import InvalidCredentials, NotSupervisor
from callbridge.console.schemas import (
    AgentLoad,
    AgentOut,
    CallState,
    LiveCall,
    Offer,
    OfferAccepted,
    OfferDeclined,
    PendingCleared,
    PendingRouting,
    PresenceUpdate,
    SessionCreate,
    SessionCreated,
    WaitingCallback,
    Work,
    WorkClosed,
)
from callbridge.console.sessions import COOKIE, SignedIn, close_session
from callbridge.console.watch import signed_out_here
from callbridge.errors import CallbridgeError, ErrorBody, error_responses
from callbridge.kit.state import app_state
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.routing.tx import in_unit_of_work
from callbridge.transcripts.schemas import TranscriptPage
from callbridge.voice_calls.schemas import Timeline, VoiceCall

router = APIRouter(prefix="/console/v1", tags=["Console"])
T = TypeVar("T")

_FORBIDDEN = {
    "model": ErrorBody,
    "description": "Another agent's offer, work or call (or not a supervisor); a cross-site request (CSRF_...).",
}
_CROSS_SITE = {"model": ErrorBody, "description": "Cross-site request (CSRF_ORIGIN_MISMATCH, CSRF_HEADER_MISSING)."}
_OFFER_ERRORS = {**error_responses(401, 404, 409), 403: _FORBIDDEN}


def _actor(request: Request, signed: SignedIn) -> Actor:
    return Actor(name=f"agent:{signed.agent.username}", request=f"{request.method} {request.url.path}")


async def _run(request: Request, signed: SignedIn, step: Callable[[UnitOfWork], Awaitable[T | CallbridgeError]]) -> T:
    """The step in a committed unit of work; a refusal it returns is raised after the commit."""
    outcome = await in_unit_of_work(app_state(request), _actor(request, signed), step)
    if isinstance(outcome, CallbridgeError):
        raise outcome
    return outcome


@router.post(
    "/session",
    summary="Sign in: a session token for the console",
    response_model=SessionCreated,
    responses={**error_responses(400, 401, 429), 403: _CROSS_SITE},
)
async def create_session(request: Request, response: Response, body: SessionCreate) -> SessionCreated:
    """Checks the agent's password (set with ``callbridge agent set-password`` or ``password_hash`` in the
    config file). The token is also set as the HttpOnly cookie ``callbridge_session`` (``Secure`` with
    ``CALLBRIDGE_COOKIE_SECURE``). Failed sign-ins are throttled per username and per client address: 429
    SIGN_IN_THROTTLED with ``Retry-After`` (docs/security.md)."""
    state = app_state(request)
    attempt = await throttle.begin(state, body.username, request.client.host if request.client else "unknown")
    try:
        async with state.database.read_session() as session:
            agent = await service.authenticate(session, body.username, body.password, body.orgId)
    except InvalidCredentials:
        throttle.failed(attempt, "the username or password is wrong")
        raise
    except CallbridgeError:
        await throttle.not_a_guess(state, attempt)
        raise
    await throttle.succeeded(state, attempt)
    settings = state.settings
    ttl = settings.console_session_ttl_seconds
    actor = Actor(name=f"agent:{agent.username}", request="POST /console/v1/session")
    async with state.unit_of_work(actor) as uow:
        token, expires_at = await service.sign_in(uow, agent, ttl)
        out = await service.agent_out(uow.session, agent)
    response.set_cookie(
        COOKIE, token, max_age=ttl, httponly=True, samesite="strict", path="/console", secure=settings.cookie_secure
    )
    return SessionCreated(token=token, expiresAt=expires_at, agent=out)


@router.delete("/session", status_code=204, summary="Sign out", responses={**error_responses(401), 403: _CROSS_SITE})
async def delete_session(request: Request, signed: SignedIn = Depends(current_agent)) -> Response:
    state = app_state(request)
    async with state.unit_of_work(_actor(request, signed)) as uow:
        await close_session(uow.session, signed.token_sha256)
    signed_out_here(signed.token_sha256)  # other processes' streams find the session gone when they check
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE, path="/console", httponly=True, samesite="strict", secure=state.settings.cookie_secure
    )
    return response


@router.get("/me", summary="The signed-in agent", response_model=AgentOut, responses=error_responses(401))
async def me(request: Request, signed: SignedIn = Depends(current_agent)) -> AgentOut:
    async with app_state(request).database.read_session() as session:
        return await service.agent_out(session, signed.agent)


@router.put(
    "/presence",
    summary="Set presence: Available, Busy or Offline",
    response_model=AgentOut,
    responses={**error_responses(400, 401), 403: _CROSS_SITE},
)
async def set_presence(request: Request, body: PresenceUpdate, signed: SignedIn = Depends(current_agent)) -> AgentOut:
    """Available: waiting work is offered at once. Busy or Offline: standing offers go to other agents."""
    return await _run(request, signed, lambda uow: service.set_presence(uow, signed.agent, body.status))


@router.get(
    "/offers", summary="The agent's standing offers", response_model=list[Offer], responses=error_responses(401)
)
async def list_offers(request: Request, signed: SignedIn = Depends(current_agent)) -> list[Offer]:
    state = app_state(request)
    async with state.database.read_session() as session:
        return await service.offers(session, signed.agent, state.clock.now())


@router.post(
    "/offers/{offerId}/accept",
    summary="Accept an offer: the work is the agent's",
    response_model=OfferAccepted,
    responses=_OFFER_ERRORS,
)
async def accept_offer(request: Request, offerId: str, signed: SignedIn = Depends(current_agent)) -> OfferAccepted:
    """409 OFFER_EXPIRED after the push timeout, OFFER_ALREADY_ACCEPTED, CAPACITY_EXCEEDED; 403 NOT_YOUR_OFFER."""
    work = await _run(request, signed, lambda uow: service.accept(uow, signed.agent, offerId))
    return OfferAccepted(workId=work.id, voiceCallId=work.voice_call_id)


@router.post(
    "/offers/{offerId}/decline",
    summary="Decline an offer: it goes to the next eligible agent",
    response_model=OfferDeclined,
    responses=_OFFER_ERRORS,
)
async def decline_offer(request: Request, offerId: str, signed: SignedIn = Depends(current_agent)) -> OfferDeclined:
    work = await _run(request, signed, lambda uow: service.decline(uow, signed.agent, offerId))
    return OfferDeclined(id=work.id, status=work.status)


@router.get(
    "/work",
    summary="Open work: the agent's own, or every agent's for a supervisor",
    response_model=list[Work],
    responses=error_responses(401),
)
async def list_work(request: Request, signed: SignedIn = Depends(current_agent)) -> list[Work]:
    async with app_state(request).database.read_session() as session:
        return await service.open_work(session, signed)


@router.post(
    "/work/{workId}/close",
    summary="Close accepted work and free the capacity it held",
    response_model=WorkClosed,
    responses=_OFFER_ERRORS,
)
async def close_work(request: Request, workId: str, signed: SignedIn = Depends(current_agent)) -> WorkClosed:
    work = await _run(request, signed, lambda uow: service.close_work(uow, signed, workId))
    return WorkClosed(id=work.id, status=work.status)


_SUPERVISOR_ERRORS = {**error_responses(401), 403: _FORBIDDEN}


async def _supervisor(signed: SignedIn = Depends(current_agent)) -> SignedIn:
    if not signed.is_supervisor:
        raise NotSupervisor()
    return signed


@router.get(
    "/pending",
    summary="Every pending routing of the org, stale ones included (supervisors)",
    response_model=list[PendingRouting],
    responses=_SUPERVISOR_ERRORS,
)
async def list_pending(request: Request, signed: SignedIn = Depends(_supervisor)) -> list[PendingRouting]:
    """Oldest first; ``stale`` marks a missed or abandoned call's routing that still waits for an agent."""
    async with app_state(request).database.read_session() as session:
        return await supervision.pending(session, signed.agent.org_id)


@router.get(
    "/callbacks",
    summary="Callbacks that nothing could route, waiting for a supervisor (supervisors)",
    response_model=list[WaitingCallback],
    responses=_SUPERVISOR_ERRORS,
)
async def list_waiting_callbacks(request: Request, signed: SignedIn = Depends(_supervisor)) -> list[WaitingCallback]:
    """Oldest first: ContactRequests recorded by ``requestCallback`` when the call center has no callback flow
    or queue and the original call had no queue (status ``Unrouted``)."""
    async with app_state(request).database.read_session() as session:
        return await supervision.waiting_callbacks(session, signed.agent.org_id)


@router.post(
    "/pending/{psrId}/clear",
    summary="Clear a pending routing, as clearRouting does (supervisors)",
    response_model=PendingCleared,
    responses={**error_responses(401, 404), 403: _FORBIDDEN},
)
async def clear_pending(request: Request, psrId: str, signed: SignedIn = Depends(_supervisor)) -> PendingCleared:
    """The PSR is deleted and its standing offer withdrawn; the call's timeline says who cleared it."""
    return await _run(request, signed, lambda uow: supervision.clear_pending(uow, signed, psrId))


@router.get(
    "/agents",
    summary="The org's agents with presence and load (supervisors)",
    response_model=list[AgentLoad],
    responses=_SUPERVISOR_ERRORS,
)
async def list_agents(request: Request, signed: SignedIn = Depends(_supervisor)) -> list[AgentLoad]:
    async with app_state(request).database.read_session() as session:
        return await supervision.agents(session, signed.agent.org_id)


@router.get(
    "/calls",
    summary="The org's live calls and where each stands in routing (supervisors)",
    response_model=list[LiveCall],
    responses=_SUPERVISOR_ERRORS,
)
async def list_calls(request: Request, signed: SignedIn = Depends(_supervisor)) -> list[LiveCall]:
    """Active calls (isActiveCall, no end time), newest first, at most 500."""
    async with app_state(request).database.read_session() as session:
        return await supervision.live_calls(session, signed.agent.org_id)


@router.get(
    "/calls/{idOrVendorCallKey}",
    summary="A call of the org: the agent's offered or accepted call, any call for a supervisor",
    response_model=VoiceCall,
    responses={**error_responses(401, 404), 403: _FORBIDDEN},
)
async def get_call(request: Request, idOrVendorCallKey: str, signed: SignedIn = Depends(current_agent)) -> VoiceCall:
    """The telephony API's VoiceCall read (caller, queue, attributes, legs), for any call center of the org."""
    state = app_state(request)
    async with state.database.read_session() as session:
        return await supervision.voice_call(session, signed, idOrVendorCallKey, state.clock)


@router.get(
    "/calls/{idOrVendorCallKey}/messages",
    summary="A call's transcript so far, dropped messages included: the agent's call, any call for a supervisor",
    response_model=TranscriptPage,
    responses={**error_responses(400, 401, 404), 403: _FORBIDDEN},
)
async def list_call_messages(
    request: Request,
    idOrVendorCallKey: str,
    limit: int = Query(default=100, ge=1, le=1000),
    after: str | None = Query(default=None, description="The `next` cursor of the previous page."),
    signed: SignedIn = Depends(current_agent),
) -> TranscriptPage:
    """The telephony API's ``GET /voiceCalls/{id}/messages?include=dropped``, for a page opened mid-call; live
    utterances then come from the stream."""
    state = app_state(request)
    async with state.database.read_session() as session:
        return await supervision.messages(session, signed, idOrVendorCallKey, state.clock, limit=limit, after=after)


@router.get(
    "/calls/{idOrVendorCallKey}/timeline",
    summary="What happened to a call, and why (supervisors)",
    response_model=Timeline,
    responses={**error_responses(400, 401, 404), 403: _FORBIDDEN},
)
async def get_call_timeline(
    request: Request,
    idOrVendorCallKey: str,
    limit: int = Query(default=1000, ge=1, le=10000),
    signed: SignedIn = Depends(_supervisor),
) -> Timeline:
    """The telephony API's timeline: every request, routing step, transcript decision and event of the call's
    conversation, oldest first; by VoiceCall id or vendorCallKey, in any call center of the org."""
    state = app_state(request)
    async with state.database.read_session() as session:
        return await supervision.timeline(session, signed, idOrVendorCallKey, limit, state.clock)


CallAction = Literal["hold", "resume", "pause-recording", "resume-recording"]


def _call_route(action: CallAction, summary: str) -> None:
    async def control(request: Request, voiceCallId: str, signed: SignedIn = Depends(current_agent)) -> CallState:
        call, did_change = await _run(
            request, signed, lambda uow: service.control_call(uow, signed, voiceCallId, action)
        )
        return CallState(
            voiceCallId=call.id,
            isOnHold=call.is_on_hold,
            isRecordingPaused=call.is_recording_paused,
            changed=did_change,
        )

    router.add_api_route(
        f"/calls/{{voiceCallId}}/{action}",
        control,
        methods=["POST"],
        name=f"call_{action.replace('-', '_')}",
        summary=summary,
        response_model=CallState,
        responses=_OFFER_ERRORS,
    )


_call_route("hold", "Put the call on hold (transcripts are dropped until it resumes)")
_call_route("resume", "Resume a held call")
_call_route("pause-recording", "Pause recording (and transcription)")
_call_route("resume-recording", "Resume recording")
