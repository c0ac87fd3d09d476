"""Reading a call's routing as it stands (the original API has no such read; integrators need one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.models import Agent, ContactRequest, PendingServiceRouting
from callbridge.routing import repository
from callbridge.routing.engine import WorkStatus
from callbridge.routing.schemas import AgentWorkOut, CallRouting, ContactRequestOut, PendingRoutingOut
from callbridge.voice_calls import repository as calls
from callbridge.voice_calls.errors import VoiceCallNotFound


def pending_out(psr: PendingServiceRouting) -> PendingRoutingOut:
    return PendingRoutingOut(
        id=psr.id,
        workItemId=psr.work_item_id,
        workItemType=psr.work_item_type,
        routingType=psr.routing_type,
        queueId=psr.queue_id,
        queueName=psr.queue_name,
        skills=psr.skills,
        preferredUserId=psr.preferred_user_id,
        isPreferredUserRequired=psr.is_preferred_user_required,
        priority=psr.priority,
        pushTimeout=psr.push_timeout,
        capacityWeight=psr.capacity_weight,
        isTransfer=psr.is_transfer,
        isReadyForRouting=psr.is_ready_for_routing,
        readyAt=psr.ready_at,
        offeredTo=psr.offered_to,
        offerId=psr.offer_id,
        passedOver=[str(user) for user in psr.declined_by],
        decision=psr.decision,
        createdAt=psr.created_at,
    )


async def get_call_routing(session: AsyncSession, context: CallCenterContext, id_or_key: str) -> CallRouting:
    call = await calls.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    psrs = (
        await session.scalars(select(PendingServiceRouting).where(PendingServiceRouting.voice_call_id == call.id))
    ).all()
    works = await repository.works_of_call(session, call.id)
    usernames = {
        agent.user_id: agent.username
        for agent in await session.scalars(select(Agent).where(Agent.user_id.in_({w.user_id for w in works})))
    }
    requests = (await session.scalars(select(ContactRequest).where(ContactRequest.voice_call_id == call.id))).all()
    open_work = [w for w in works if w.work_item_id == call.id and w.status == WorkStatus.opened]
    own = next((p for p in psrs if p.work_item_id == call.id), None)
    owner = open_work[-1].user_id if open_work else (own.queue_id if own else None) or call.owner_queue_id
    return CallRouting(
        voiceCallId=call.id,
        ownerId=owner,
        agent=call.agent_username,
        pendingServiceRoutings=[pending_out(psr) for psr in psrs],
        agentWork=[
            AgentWorkOut(
                id=w.id,
                userId=w.user_id,
                username=usernames.get(w.user_id),
                workItemId=w.work_item_id,
                workItemType=w.work_item_type,
                status=w.status,
                offeredAt=w.offered_at,
                expiresAt=w.expires_at,
                acceptedAt=w.accepted_at,
                endedAt=w.ended_at,
                endReason=w.end_reason,
            )
            for w in works
        ],
        contactRequests=[
            ContactRequestOut(
                id=r.id,
                callbackNumber=r.callback_number,
                isPreviewCallback=r.is_preview_callback,
                scheduledRoutingDateTime=r.scheduled_routing_at,
                status=r.status,
                createdAt=r.created_at,
            )
            for r in requests
        ],
    )
