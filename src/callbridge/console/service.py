"""What an agent does from the console: sign in, set presence, take or decline offers, close work, and
hold or pause the recording of their own calls (a supervisor: of any call of the org).

Refusals that follow a recorded change (an offer found expired when accepted) are returned, not raised,
so the caller commits the change before answering with the error.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.console import errors, sessions
from callbridge.console.passwords import verify_password
from callbridge.console.schemas import AgentOut, Offer, Presence, Work
from callbridge.console.sessions import SignedIn
from callbridge.errors import CallbridgeError
from callbridge.kit import ids
from callbridge.kit.uow import UnitOfWork
from callbridge.models import Agent, AgentState, AgentWork, CallCenter, VoiceCall
from callbridge.routing import engine, repository
from callbridge.routing.engine import AcceptOutcome, WorkStatus
from callbridge.routing.repository import changed
from callbridge.routing.snapshots import touch_agent
from callbridge.voice_calls import state as call_state


async def authenticate(session: AsyncSession, username: str, password: str, org_id: str | None) -> Agent:
    """The agent these credentials sign in; 401 INVALID_CREDENTIALS otherwise (the same for every cause)."""
    query = select(Agent).where(Agent.username == username)
    agents = [a for a in (await session.scalars(query)).all() if org_id is None or a.org_id[:15] == org_id[:15]]
    if not agents:
        await asyncio.to_thread(verify_password, password, None)
        raise errors.InvalidCredentials()
    matching = [a for a in agents if await asyncio.to_thread(verify_password, password, a.password_hash)]
    if len(matching) > 1:
        raise errors.OrgRequired()
    if not matching:
        raise errors.InvalidCredentials()
    return matching[0]


async def agent_out(session: AsyncSession, agent: Agent) -> AgentOut:
    state = await repository.get_state(session, agent.user_id)
    return AgentOut(
        userId=agent.user_id,
        username=agent.username,
        orgId=agent.org_id,
        role=agent.role,
        presence=Presence(state.status) if state else Presence.offline,
        capacity=agent.capacity,
        capacityUsed=state.capacity_used if state else 0,
    )


async def sign_in(uow: UnitOfWork, agent: Agent, ttl_seconds: int) -> tuple[str, datetime]:
    now = uow.clock.now()
    await sessions.forget_expired(uow.session, now)
    token, row = sessions.open_session(uow.session, agent, now, ttl_seconds)
    return token, row.expires_at


async def set_presence(uow: UnitOfWork, agent: Agent, status: Presence) -> AgentOut:
    """Available: the engine offers waiting work at once. Busy or Offline: standing offers are withdrawn and
    go to other agents; accepted work carries on."""
    session, now = uow.session, uow.clock.now()
    current = await repository.get_state(session, agent.user_id)
    if current is None or current.status != status.value:
        touch_agent(uow, agent.user_id)
    if current is None:
        row = AgentState(
            user_id=agent.user_id,
            org_id=agent.org_id,
            status=status.value,
            capacity_used=await repository.capacity_held(session, agent.user_id),
            idle_since=now,
            status_changed_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            current = await repository.get_state(session, agent.user_id)
    if current is not None and current.status != status.value:
        values: dict[str, object] = {"status": status.value, "status_changed_at": now}
        if status is Presence.available:
            values["idle_since"] = now
        await changed(session, update(AgentState).where(AgentState.user_id == agent.user_id).values(**values))
    if status is not Presence.available:
        for offer in await repository.works_of_user(session, agent.user_id, WorkStatus.assigned.value):
            reason = f"{agent.username} went {status.value}: the offer goes to another agent"
            await engine.end_offer(uow, offer, WorkStatus.canceled, reason, pass_over=True)
    await engine.dispatch(uow, agent.org_id)
    return await agent_out(session, agent)


async def _call_of(session: AsyncSession, work: AgentWork) -> VoiceCall | None:
    return await session.get(VoiceCall, work.voice_call_id)


async def offers(session: AsyncSession, agent: Agent, now: datetime) -> list[Offer]:
    """The agent's standing offers (those past their push timeout are about to be withdrawn: not listed)."""
    found = []
    for work in await repository.works_of_user(session, agent.user_id, WorkStatus.assigned.value):
        if work.expires_at is not None and work.expires_at <= now:
            continue
        call = await _call_of(session, work)
        request = None
        if work.work_item_type == "ContactRequest":
            request = await repository.get_contact_request(session, work.work_item_id)
        routing = work.routing
        found.append(
            Offer(
                id=work.id,
                voiceCallId=work.voice_call_id,
                vendorCallKey=call.vendor_call_key if call else None,
                workItemId=work.work_item_id,
                workItemType=work.work_item_type,
                queue=routing.get("queueName"),
                routingType=routing.get("routingType", ""),
                skills=routing.get("skills") or {},
                priority=int(routing.get("priority", 0)),
                isTransfer=bool(routing.get("isTransfer")),
                offeredAt=work.offered_at,
                expiresAt=work.expires_at,
                fromPhoneNumber=call.from_phone_number if call else None,
                toPhoneNumber=call.to_phone_number if call else None,
                callbackNumber=request.callback_number if request else None,
                isPreviewCallback=request.is_preview_callback if request else None,
            )
        )
    return found


async def _offer_of(uow: UnitOfWork, agent: Agent, offer_id: str) -> AgentWork:
    work = await repository.get_work(uow.session, offer_id)
    if work is None or work.org_id != agent.org_id:
        raise errors.OfferNotFound(offer_id)
    if work.user_id != agent.user_id:
        raise errors.NotYourOffer(offer_id)
    if work.status == WorkStatus.opened:
        raise errors.OfferAlreadyAccepted(offer_id)
    if work.status != WorkStatus.assigned:
        raise errors.OfferExpired(offer_id, work.status)
    return work


async def accept(uow: UnitOfWork, agent: Agent, offer_id: str) -> AgentWork | CallbridgeError:
    work = await _offer_of(uow, agent, offer_id)
    fresh = await repository.get_agent(uow.session, agent.user_id)
    result = await engine.accept(uow, work, fresh or agent)
    if result.outcome is AcceptOutcome.accepted:
        return result.work
    if result.outcome is AcceptOutcome.already_accepted:
        return errors.OfferAlreadyAccepted(offer_id)
    if result.outcome is AcceptOutcome.capacity_exceeded:
        held = await repository.capacity_held(uow.session, agent.user_id)
        return errors.CapacityExceeded(f"{held} held of {(fresh or agent).capacity}")
    return errors.OfferExpired(offer_id, result.work.status)


async def decline(uow: UnitOfWork, agent: Agent, offer_id: str) -> AgentWork | CallbridgeError:
    work = await _offer_of(uow, agent, offer_id)
    if work.expires_at is not None and work.expires_at <= uow.clock.now():
        reason = "the push timeout passed before it was declined"
        await engine.end_offer(uow, work, WorkStatus.timed_out, reason, pass_over=True)
        await engine.dispatch(uow, agent.org_id)
        return errors.OfferExpired(offer_id, WorkStatus.timed_out.value)
    if not await engine.end_offer(uow, work, WorkStatus.declined, f"{agent.username} declined", pass_over=True):
        return errors.OfferExpired(offer_id, "gone")
    await engine.dispatch(uow, agent.org_id)
    ended = await repository.get_work(uow.session, offer_id)
    assert ended is not None
    return ended


async def close_work(uow: UnitOfWork, signed: SignedIn, work_id: str) -> AgentWork:
    agent = signed.agent
    work = await repository.get_work(uow.session, work_id)
    if work is None or work.org_id != agent.org_id:
        raise errors.WorkNotFound(work_id)
    if work.user_id != agent.user_id and not signed.is_supervisor:
        raise errors.NotYourWork(work_id)
    if work.status != WorkStatus.opened or not await engine.close(
        uow, work, WorkStatus.closed, f"closed by {agent.username}"
    ):
        raise errors.WorkNotOpen(work_id, work.status)
    await engine.dispatch(uow, agent.org_id)
    closed = await repository.get_work(uow.session, work_id)
    assert closed is not None
    return closed


async def open_work(session: AsyncSession, signed: SignedIn) -> list[Work]:
    """The agent's accepted work; a supervisor sees every agent's in the org."""
    agent = signed.agent
    if signed.is_supervisor:
        works = await repository.open_works_of_org(session, agent.org_id)
    else:
        works = await repository.works_of_user(session, agent.user_id, WorkStatus.opened.value)
    usernames = {
        a.user_id: a.username
        for a in await session.scalars(select(Agent).where(Agent.user_id.in_({w.user_id for w in works})))
    }
    listed = []
    for work in works:
        call = await _call_of(session, work)
        listed.append(
            Work(
                id=work.id,
                userId=work.user_id,
                username=usernames.get(work.user_id),
                voiceCallId=work.voice_call_id,
                vendorCallKey=call.vendor_call_key if call else None,
                workItemId=work.work_item_id,
                workItemType=work.work_item_type,
                status=work.status,
                acceptedAt=work.accepted_at,
            )
        )
    return listed


async def controlled_call(uow: UnitOfWork, signed: SignedIn, voice_call_id: str) -> VoiceCall:
    """The call, when this agent holds its open work or is a supervisor of its org."""
    session = uow.session
    call = None
    if ids.is_salesforce_id(voice_call_id, ids.VOICE_CALL):
        call = await session.get(VoiceCall, ids.to_18(voice_call_id))
    call_center = await session.get(CallCenter, call.call_center_id) if call else None
    if call is None or call_center is None or call_center.org_id != signed.agent.org_id:
        raise errors.CallNotFound(voice_call_id)
    if signed.is_supervisor:
        return call
    mine = await session.scalars(
        select(AgentWork.id).where(
            AgentWork.voice_call_id == call.id,
            AgentWork.user_id == signed.agent.user_id,
            AgentWork.status == WorkStatus.opened.value,
        )
    )
    if mine.first() is None:
        raise errors.NotYourCall(voice_call_id)
    return call


async def control_call(uow: UnitOfWork, signed: SignedIn, voice_call_id: str, action: str) -> tuple[VoiceCall, bool]:
    """hold, resume, pause-recording or resume-recording."""
    call = await controlled_call(uow, signed, voice_call_id)
    if action in ("hold", "resume"):
        return call, call_state.set_on_hold(uow, call, action == "hold")
    return call, call_state.set_recording_paused(uow, call, action == "pause-recording")
