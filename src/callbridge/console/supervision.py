"""What the console reads about the org (agents and their load, live calls, the backlog of pending routings, a
call and its timeline) and the supervisor's one action on the backlog: clearing a stale pending routing.

Reads of a call reuse the telephony API's (``voice_calls.read``) for the call center the call belongs to, so
the console and integrators see the same VoiceCall and the same timeline.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.console import errors, repository
from callbridge.console.schemas import (
    AgentLoad,
    LiveCall,
    LiveCallStatus,
    PendingCleared,
    PendingRouting,
    Presence,
    WaitingCallback,
)
from callbridge.console.sessions import SignedIn
from callbridge.kit.clock import Clock
from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall
from callbridge.routing import repository as routing
from callbridge.routing import service as routing_service
from callbridge.routing.read import pending_out
from callbridge.routing.repository import OFFERED, OPENED
from callbridge.transcripts import read as transcripts
from callbridge.transcripts.schemas import TranscriptPage
from callbridge.voice_calls import read
from callbridge.voice_calls.schemas import Timeline
from callbridge.voice_calls.schemas import VoiceCall as VoiceCallOut

LIVE_CALLS_LIMIT = 500


def require_supervisor(signed: SignedIn) -> None:
    if not signed.is_supervisor:
        raise errors.NotSupervisor()


async def agents(session: AsyncSession, org_id: str) -> list[AgentLoad]:
    """Every agent of the org, by username, with presence and load."""
    counts = await repository.work_counts_of_org(session, org_id)
    return [
        AgentLoad(
            userId=agent.user_id,
            username=agent.username,
            role=agent.role,
            presence=Presence(state.status) if state else Presence.offline,
            capacity=agent.capacity,
            capacityUsed=state.capacity_used if state else 0,
            offers=counts.get((agent.user_id, OFFERED), 0),
            openWork=counts.get((agent.user_id, OPENED), 0),
            statusChangedAt=state.status_changed_at if state else None,
        )
        for agent, state in await repository.agents_of_org(session, org_id)
    ]


async def live_calls(session: AsyncSession, org_id: str) -> list[LiveCall]:
    """The org's active calls, newest first, each with where it stands in routing."""
    calls = await repository.live_calls_of_org(session, org_id, LIVE_CALLS_LIMIT)
    call_ids = [call.id for call in calls]
    psrs = await repository.psrs_of_calls(session, call_ids)
    works = await repository.open_work_of_calls(session, call_ids)
    call_centers = await repository.call_centers_of_org(session, org_id)
    listed = []
    for call in calls:
        psr, work = psrs.get(call.id), works.get(call.id)
        if work is not None:
            status = LiveCallStatus.connected
        elif psr is not None:
            status = LiveCallStatus.offered if psr.offer_id else LiveCallStatus.waiting
        else:
            status = LiveCallStatus.unrouted
        call_center = call_centers.get(call.call_center_id)
        listed.append(
            LiveCall(
                voiceCallId=call.id,
                vendorCallKey=call.vendor_call_key,
                conversationId=call.conversation_id,
                callCenterApiName=call_center.api_name if call_center else None,
                callType=call.call_type,
                fromPhoneNumber=call.from_phone_number,
                toPhoneNumber=call.to_phone_number,
                queueName=call.queue_name or (psr.queue_name if psr else None),
                agent=call.agent_username if work is not None else None,
                status=status,
                isOnHold=call.is_on_hold,
                isRecordingPaused=call.is_recording_paused,
                startedAt=call.call_start_date_time or call.created_at,
                psrId=psr.id if psr else None,
                workId=work.id if work else None,
            )
        )
    return listed


def _ended(call: VoiceCall) -> bool:
    return not call.is_active_call or call.call_end_date_time is not None


async def pending(session: AsyncSession, org_id: str) -> list[PendingRouting]:
    """Every PSR of the org, each saying whether its call ended while it still waits (a missed call's)."""
    psrs = await routing.psrs_of_org(session, org_id)
    calls = await repository.calls_by_id(session, [psr.voice_call_id for psr in psrs])
    listed = []
    for psr in psrs:
        call = calls.get(psr.voice_call_id)
        ended = call is not None and _ended(call)
        waits_on_purpose = psr.work_item_type != "VoiceCall" or (call is not None and call.call_origin == "Voicemail")
        listed.append(
            PendingRouting(
                **pending_out(psr).model_dump(),
                vendorCallKey=call.vendor_call_key if call else None,
                fromPhoneNumber=call.from_phone_number if call else None,
                callEnded=ended,
                stale=ended and not waits_on_purpose,
            )
        )
    return listed


async def waiting_callbacks(session: AsyncSession, org_id: str) -> list[WaitingCallback]:
    """Callbacks nothing could route (no callback flow or queue, and no original queue), oldest first."""
    rows = await repository.contact_requests_of_org(
        session, org_id, routing_service.CALLBACK_UNROUTED, LIVE_CALLS_LIMIT
    )
    return [
        WaitingCallback(
            id=request.id,
            voiceCallId=request.voice_call_id,
            vendorCallKey=call.vendor_call_key if call else None,
            queueName=call.queue_name if call else None,
            callbackNumber=request.callback_number,
            isPreviewCallback=request.is_preview_callback,
            scheduledRoutingDateTime=request.scheduled_routing_at,
            status=request.status,
            createdAt=request.created_at,
        )
        for request, call in rows
    ]


async def clear_pending(uow: UnitOfWork, signed: SignedIn, psr_id: str) -> PendingCleared:
    """Remove a pending routing of the org as clearRouting does (its offer withdrawn, the timeline told)."""
    psr = await routing.get_psr(uow.session, psr_id)
    if psr is None or psr.org_id != signed.agent.org_id:
        raise errors.PendingRoutingNotFound(psr_id)
    reason = f"cleared by supervisor {signed.agent.username} in the console"
    if not await routing_service.clear_pending(uow, psr, reason):
        raise errors.PendingRoutingNotFound(psr_id)
    return PendingCleared(id=psr.id, workItemId=psr.work_item_id, voiceCallId=psr.voice_call_id)


async def _call_of(
    session: AsyncSession, signed: SignedIn, id_or_key: str, clock: Clock
) -> tuple[CallCenterContext, str]:
    """A call of the signed-in agent's org that they may see (a supervisor any, an agent one offered to or
    accepted by them), with the call center context the telephony reads take."""
    org_id = signed.agent.org_id
    call = await repository.find_call_of_org(session, org_id, id_or_key)
    call_center = (await repository.call_centers_of_org(session, org_id)).get(call.call_center_id) if call else None
    if call is None or call_center is None:
        raise errors.CallNotFound(id_or_key)
    if not signed.is_supervisor and not await repository.has_work_on_call(session, signed.agent.user_id, call.id):
        raise errors.NotYourCall(id_or_key)
    context = CallCenterContext(
        org_id=org_id,
        call_center_id=call_center.id,
        call_center_api_name=call_center.api_name,
        jti=None,
        expires_at=clock.now(),
    )
    return context, call.id


async def voice_call(session: AsyncSession, signed: SignedIn, id_or_key: str, clock: Clock) -> VoiceCallOut:
    context, voice_call_id = await _call_of(session, signed, id_or_key, clock)
    return await read.get_voice_call(session, context, voice_call_id)


async def timeline(session: AsyncSession, signed: SignedIn, id_or_key: str, limit: int, clock: Clock) -> Timeline:
    context, voice_call_id = await _call_of(session, signed, id_or_key, clock)
    return await read.get_timeline(session, context, voice_call_id, limit)


async def messages(
    session: AsyncSession, signed: SignedIn, id_or_key: str, clock: Clock, *, limit: int, after: str | None
) -> TranscriptPage:
    """The call's transcript so far, dropped messages' records included, for a page that opens mid-call."""
    context, voice_call_id = await _call_of(session, signed, id_or_key, clock)
    return await transcripts.list_messages(
        session, context, voice_call_id, limit=limit, after=after, include_dropped=True
    )
