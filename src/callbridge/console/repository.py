"""The queries of the supervisor's view: an org's agents and their load, its live calls, and finding a call of
the org by id or vendorCallKey whichever call center it belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit import ids
from callbridge.models import (
    Agent,
    AgentState,
    AgentWork,
    CallCenter,
    ContactRequest,
    PendingServiceRouting,
    VoiceCall,
)
from callbridge.routing.repository import OFFERED, OPENED


async def agents_of_org(session: AsyncSession, org_id: str) -> Sequence[tuple[Agent, AgentState | None]]:
    """Every agent of the org with their presence row (none: never signed in, so Offline), by username."""
    query = (
        select(Agent, AgentState)
        .outerjoin(AgentState, AgentState.user_id == Agent.user_id)
        .where(Agent.org_id == org_id)
        .order_by(Agent.username)
    )
    return [(agent, state) for agent, state in (await session.execute(query)).all()]


async def work_counts_of_org(session: AsyncSession, org_id: str) -> dict[tuple[str, str], int]:
    """(user id, status) -> how many standing offers (Assigned) and open work (Opened) each agent has."""
    query = (
        select(AgentWork.user_id, AgentWork.status, func.count())
        .where(AgentWork.org_id == org_id, AgentWork.status.in_((OFFERED, OPENED)))
        .group_by(AgentWork.user_id, AgentWork.status)
    )
    return {(user_id, status): count for user_id, status, count in (await session.execute(query)).all()}


async def call_centers_of_org(session: AsyncSession, org_id: str) -> dict[str, CallCenter]:
    query = select(CallCenter).where(CallCenter.org_id == org_id)
    return {call_center.id: call_center for call_center in await session.scalars(query)}


async def live_calls_of_org(session: AsyncSession, org_id: str, limit: int) -> Sequence[VoiceCall]:
    """Active calls of the org (isActiveCall, no end time), newest first."""
    query = (
        select(VoiceCall)
        .join(CallCenter, CallCenter.id == VoiceCall.call_center_id)
        .where(
            CallCenter.org_id == org_id,
            VoiceCall.is_active_call.is_(True),
            VoiceCall.call_end_date_time.is_(None),
        )
        .order_by(VoiceCall.created_at.desc(), VoiceCall.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def calls_by_id(session: AsyncSession, voice_call_ids: Iterable[str]) -> dict[str, VoiceCall]:
    wanted = set(voice_call_ids)
    if not wanted:
        return {}
    return {call.id: call for call in await session.scalars(select(VoiceCall).where(VoiceCall.id.in_(wanted)))}


async def psrs_of_calls(session: AsyncSession, voice_call_ids: Iterable[str]) -> dict[str, PendingServiceRouting]:
    """The pending routing of each call (its own work item, not a callback's)."""
    wanted = set(voice_call_ids)
    if not wanted:
        return {}
    query = select(PendingServiceRouting).where(PendingServiceRouting.work_item_id.in_(wanted))
    return {psr.work_item_id: psr for psr in await session.scalars(query)}


async def open_work_of_calls(session: AsyncSession, voice_call_ids: Iterable[str]) -> dict[str, AgentWork]:
    wanted = set(voice_call_ids)
    if not wanted:
        return {}
    query = select(AgentWork).where(AgentWork.voice_call_id.in_(wanted), AgentWork.status == OPENED)
    return {work.voice_call_id: work for work in await session.scalars(query)}


async def find_call_of_org(session: AsyncSession, org_id: str, id_or_key: str) -> VoiceCall | None:
    """A VoiceCall id (15 or 18 characters) or a vendorCallKey (the newest leg with it, in any call center of
    the org), as the telephony API's ``{id}`` but across the org's call centers."""
    in_org = select(CallCenter.id).where(CallCenter.org_id == org_id)
    if ids.is_salesforce_id(id_or_key, ids.VOICE_CALL):
        call = await session.scalar(
            select(VoiceCall).where(VoiceCall.id == ids.to_18(id_or_key), VoiceCall.call_center_id.in_(in_org))
        )
        if call is not None:
            return call
    query = (
        select(VoiceCall)
        .where(VoiceCall.vendor_call_key == id_or_key, VoiceCall.call_center_id.in_(in_org))
        .order_by(VoiceCall.created_at.desc(), VoiceCall.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def has_work_on_call(session: AsyncSession, user_id: str, voice_call_id: str) -> bool:
    """The agent has a standing offer or open work on the call."""
    query = select(AgentWork.id).where(
        AgentWork.user_id == user_id,
        AgentWork.voice_call_id == voice_call_id,
        AgentWork.status.in_((OFFERED, OPENED)),
    )
    return (await session.scalars(query.limit(1))).first() is not None


async def has_worked_on_conversation(session: AsyncSession, user_id: str, conversation_id: str) -> bool:
    """The agent was ever offered work on the conversation (any leg, the offer or work ended or not)."""
    query = select(AgentWork.id).where(AgentWork.user_id == user_id, AgentWork.conversation_id == conversation_id)
    return (await session.scalars(query.limit(1))).first() is not None


async def contact_requests_of_org(
    session: AsyncSession, org_id: str, status: str, limit: int
) -> Sequence[tuple[ContactRequest, VoiceCall | None]]:
    """The org's ContactRequests in ``status``, oldest first, each with the call it was asked from."""
    query = (
        select(ContactRequest, VoiceCall)
        .join(CallCenter, CallCenter.id == ContactRequest.call_center_id)
        .outerjoin(VoiceCall, VoiceCall.id == ContactRequest.voice_call_id)
        .where(CallCenter.org_id == org_id, ContactRequest.status == status)
        .order_by(ContactRequest.created_at, ContactRequest.id)
        .limit(limit)
    )
    return [(request, call) for request, call in (await session.execute(query)).all()]
