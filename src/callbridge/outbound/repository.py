"""Every query of the newest telephony endpoints and of correlating a create with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.models import (
    Agent,
    CallCenter,
    PhoneChannel,
    RoutableNumberLease,
    VoiceCallContext,
    VoicemailDropPick,
)


async def call_center(session: AsyncSession, call_center_id: str) -> CallCenter:
    found = await session.get(CallCenter, call_center_id)
    assert found is not None, "an authorized request's call center exists"
    return found


async def agent_by_external_id(session: AsyncSession, org_id: str, external_id: str) -> Agent | None:
    query = select(Agent).where(Agent.org_id == org_id, Agent.external_id == external_id).limit(1)
    return (await session.scalars(query)).first()


async def channel_by_number(session: AsyncSession, call_center_id: str, number: str) -> PhoneChannel | None:
    query = select(PhoneChannel).where(
        PhoneChannel.call_center_id == call_center_id, PhoneChannel.dialed_number == number
    )
    return (await session.scalars(query)).first()


async def pick_of_conversation(session: AsyncSession, conversation_id: str) -> VoicemailDropPick | None:
    """The newest pick among the conversation's legs (a transfer leg keeps the drop picked on an earlier one)."""
    query = (
        select(VoicemailDropPick)
        .where(VoicemailDropPick.conversation_id == conversation_id)
        .order_by(VoicemailDropPick.picked_at.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def release_expired_leases(session: AsyncSession, call_center_id: str, now: datetime) -> None:
    await session.execute(
        update(RoutableNumberLease)
        .where(
            RoutableNumberLease.call_center_id == call_center_id,
            RoutableNumberLease.active_number.is_not(None),
            RoutableNumberLease.expires_at <= now,
        )
        .values(active_number=None)
    )


async def held_numbers(session: AsyncSession, call_center_id: str) -> dict[str, datetime]:
    """Each number a live lease holds, with its lease's expiry."""
    rows = await session.execute(
        select(RoutableNumberLease.active_number, RoutableNumberLease.expires_at).where(
            RoutableNumberLease.call_center_id == call_center_id, RoutableNumberLease.active_number.is_not(None)
        )
    )
    return {number: expires for number, expires in rows if number is not None}


async def live_context(
    session: AsyncSession, call_center_id: str, correlation_id: str, now: datetime
) -> VoiceCallContext | None:
    query = select(VoiceCallContext).where(
        VoiceCallContext.id == correlation_id,
        VoiceCallContext.call_center_id == call_center_id,
        VoiceCallContext.voice_call_id.is_(None),
        VoiceCallContext.expires_at > now,
    )
    return (await session.scalars(query)).first()


async def live_contexts_for(
    session: AsyncSession, call_center_id: str, to_number: str, from_number: str, now: datetime
) -> Sequence[VoiceCallContext]:
    """Uncorrelated, unexpired contexts for a call from ``from_number`` to ``to_number``, oldest first."""
    query = (
        select(VoiceCallContext)
        .where(
            VoiceCallContext.call_center_id == call_center_id,
            VoiceCallContext.to_number == to_number,
            VoiceCallContext.from_number == from_number,
            VoiceCallContext.voice_call_id.is_(None),
            VoiceCallContext.expires_at > now,
        )
        .order_by(VoiceCallContext.created_at, VoiceCallContext.id)
    )
    return (await session.scalars(query)).all()


async def live_lease_for(
    session: AsyncSession, call_center_id: str, routable_number: str, now: datetime
) -> RoutableNumberLease | None:
    """The live lease holding ``routable_number``, if any."""
    query = select(RoutableNumberLease).where(
        RoutableNumberLease.call_center_id == call_center_id,
        RoutableNumberLease.active_number == routable_number,
        RoutableNumberLease.expires_at > now,
    )
    return (await session.scalars(query)).first()


async def claim_context(session: AsyncSession, context_id: str, voice_call_id: str, now: datetime) -> bool:
    """Link the context to the call unless another call took it first."""
    result = await session.execute(
        update(VoiceCallContext)
        .where(VoiceCallContext.id == context_id, VoiceCallContext.voice_call_id.is_(None))
        .values(voice_call_id=voice_call_id, correlated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def claim_lease(session: AsyncSession, lease_id: int, voice_call_id: str, now: datetime) -> bool:
    """Link the lease to the call that arrived on its number, and free the number."""
    result = await session.execute(
        update(RoutableNumberLease)
        .where(RoutableNumberLease.id == lease_id, RoutableNumberLease.voice_call_id.is_(None))
        .values(voice_call_id=voice_call_id, correlated_at=now, active_number=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def correlation_of(session: AsyncSession, voice_call_id: str) -> VoiceCallContext | RoutableNumberLease | None:
    context = (
        await session.scalars(select(VoiceCallContext).where(VoiceCallContext.voice_call_id == voice_call_id))
    ).first()
    if context is not None:
        return context
    query = select(RoutableNumberLease).where(RoutableNumberLease.voice_call_id == voice_call_id)
    return (await session.scalars(query)).first()


async def call_centers_awaiting_calls(session: AsyncSession, call_center_ids: set[str], now: datetime) -> set[str]:
    """Which of the call centers have a live context or lease a create could be correlated with (one query for
    a whole batch of creates, so that the others skip correlating)."""
    contexts = select(VoiceCallContext.call_center_id).where(
        VoiceCallContext.call_center_id.in_(call_center_ids),
        VoiceCallContext.voice_call_id.is_(None),
        VoiceCallContext.expires_at > now,
    )
    leases = select(RoutableNumberLease.call_center_id).where(
        RoutableNumberLease.call_center_id.in_(call_center_ids),
        RoutableNumberLease.active_number.is_not(None),
        RoutableNumberLease.expires_at > now,
    )
    return set(await session.scalars(contexts.union(leases)))


async def forget_expired(session: AsyncSession, call_center_id: str, before: datetime) -> None:
    """Contexts and leases that expired before ``before`` and were never correlated: nothing reads them again."""
    for table in (VoiceCallContext, RoutableNumberLease):
        await session.execute(
            delete(table)
            .where(table.call_center_id == call_center_id, table.voice_call_id.is_(None), table.expires_at < before)
            .execution_options(synchronize_session=False)
        )


async def unclaim(session: AsyncSession, voice_call_id: str) -> None:
    """Undo the correlation of a call that was not created after all (its create lost a race to a repeat)."""
    await session.execute(
        update(VoiceCallContext)
        .where(VoiceCallContext.voice_call_id == voice_call_id)
        .values(voice_call_id=None, correlated_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(RoutableNumberLease)
        .where(RoutableNumberLease.voice_call_id == voice_call_id)
        .values(voice_call_id=None, correlated_at=None, active_number=RoutableNumberLease.routable_number)
        .execution_options(synchronize_session=False)
    )
