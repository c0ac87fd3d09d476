"""The rules of the newest telephony endpoints: what each answers from the contact-centre configuration, and
how a routable number is leased."""

from __future__ import annotations

import math
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.contact_center.schemas import MAX_ROUTABLE_NUMBER_TTL
from callbridge.kit.uow import UnitOfWork
from callbridge.models import CallCenter, RoutableNumberLease, VoiceCallContext
from callbridge.outbound import repository
from callbridge.outbound.errors import (
    DefaultOutboundNumberNotFound,
    NumberPoolExhausted,
    NumberPoolNotConfigured,
    VoicemailDropNotFound,
    VoicemailGreetingNotFound,
)
from callbridge.outbound.schemas import (
    DefaultOutboundPhoneNumber,
    RoutableNumberHandle,
    RoutableNumberReserve,
    RoutableNumberReserved,
    VoiceCallContextCreate,
    VoiceCallContextCreated,
    VoiceCallContextHandle,
    VoicemailDrop,
    VoicemailGreeting,
    iso_utc,
)
from callbridge.voice_calls import repository as voice_calls
from callbridge.voice_calls.errors import VoiceCallNotFound

# Expired, uncorrelated contexts and leases are kept this long (for reading back), then deleted.
KEEP_EXPIRED = timedelta(days=1)


def ttl_of(call_center: CallCenter) -> timedelta:
    """How long a reservation or a context lives: the call center's routable_number_ttl_seconds (180 s, the most
    Salesforce documents, by default)."""
    return timedelta(seconds=int(call_center.settings.get("routable_number_ttl_seconds", MAX_ROUTABLE_NUMBER_TTL)))


def drops_of(call_center: CallCenter) -> list[dict[str, str]]:
    drops: list[dict[str, str]] = call_center.settings.get("voicemail_drops", [])
    return drops


async def voicemail_drop(session: AsyncSession, context: CallCenterContext, id_or_key: str) -> VoicemailDrop:
    call = await voice_calls.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    pick = await repository.pick_of_conversation(session, call.conversation_id)
    if pick is None:
        raise VoicemailDropNotFound(id_or_key)
    return VoicemailDrop(recordingUrl=pick.recording_url)


async def default_outbound_number(
    session: AsyncSession, context: CallCenterContext, external_rep_id: str
) -> DefaultOutboundPhoneNumber:
    agent = await repository.agent_by_external_id(session, context.org_id, external_rep_id)
    if agent is not None and agent.default_outbound_number:
        return DefaultOutboundPhoneNumber(phoneNumber=agent.default_outbound_number)
    call_center = await repository.call_center(session, context.call_center_id)
    number = call_center.settings.get("default_outbound_number")
    if not number:
        raise DefaultOutboundNumberNotFound(external_rep_id)
    return DefaultOutboundPhoneNumber(phoneNumber=number)


async def voicemail_greeting(session: AsyncSession, context: CallCenterContext, number: str) -> VoicemailGreeting:
    channel = await repository.channel_by_number(session, context.call_center_id, number)
    if channel is None or not channel.voicemail_greeting_url:
        raise VoicemailGreetingNotFound(number)
    return VoicemailGreeting(greetingUrl=channel.voicemail_greeting_url)


def _lease_uid(number: str) -> str:
    """``ldid_<digits>_<nanoseconds>``, the shape Salesforce's Lambda tests show."""
    return f"ldid_{number.lstrip('+')}_{time.time_ns()}{secrets.randbelow(1000):03d}"


async def reserve_routable_number(
    uow: UnitOfWork, context: CallCenterContext, body: RoutableNumberReserve
) -> RoutableNumberReserved:
    """The first free number of the pool, leased for the TTL. The unique constraint on the live lease's number
    decides between concurrent reservations (any process): the loser tries the next free number."""
    session, now = uow.session, uow.clock.now()
    call_center = await repository.call_center(session, context.call_center_id)
    pool: list[str] = call_center.settings.get("routable_numbers", [])
    if not pool:
        raise NumberPoolNotConfigured(call_center.api_name)
    expires = now + ttl_of(call_center)
    await repository.forget_expired(session, call_center.id, now - KEEP_EXPIRED)
    await repository.release_expired_leases(session, call_center.id, now)
    held = await repository.held_numbers(session, call_center.id)
    for number in pool:
        if number in held:
            continue
        lease = _lease(call_center.id, number, body, now, expires)
        try:
            async with session.begin_nested():
                session.add(lease)
        except IntegrityError:
            continue  # taken by a concurrent reservation since we looked
        await _note_on_call(
            uow,
            context,
            body.context.callId,
            "outbound.routable_number_reserved",
            lease.uid,
            {
                "routableNumber": number,
                "uid": lease.uid,
                "fromNumber": body.fromNumber,
                "toNumber": body.context.toNumber,
                "expiresAt": iso_utc(expires),
            },
            f"routable number {number} reserved until {iso_utc(expires)} for a call from {body.fromNumber}",
        )
        return RoutableNumberReserved(
            handle=RoutableNumberHandle(routableNumber=number, uid=lease.uid, expiresAt=iso_utc(expires))
        )
    in_pool = [
        expiry for number, expiry in (await repository.held_numbers(session, call_center.id)).items() if number in pool
    ]
    soonest = min(in_pool, default=now + timedelta(seconds=1))
    raise NumberPoolExhausted(max(1, math.ceil((soonest - now).total_seconds())), len(pool))


def _lease(
    call_center_id: str, number: str, body: RoutableNumberReserve, now: datetime, expires: datetime
) -> RoutableNumberLease:
    return RoutableNumberLease(
        uid=_lease_uid(number),
        call_center_id=call_center_id,
        routable_number=number,
        active_number=number,
        country_code=body.countryCode,
        from_number=body.fromNumber,
        to_number=body.context.toNumber,
        original_from_number=body.context.originalFromNumber,
        scrt2_domain=body.context.scrt2Domain,
        call_id=body.context.callId,
        transaction_id=body.context.transactionId,
        reserved_at=now,
        expires_at=expires,
    )


async def create_voice_call_context(
    uow: UnitOfWork, context: CallCenterContext, body: VoiceCallContextCreate
) -> VoiceCallContextCreated:
    session, now = uow.session, uow.clock.now()
    call_center = await repository.call_center(session, context.call_center_id)
    expires = now + ttl_of(call_center)
    await repository.forget_expired(session, call_center.id, now - KEEP_EXPIRED)
    row = VoiceCallContext(
        id=f"vcc_{secrets.token_hex(16)}",
        call_center_id=call_center.id,
        from_number=body.fromNumber,
        to_number=body.context.toNumber,
        scrt2_domain=body.context.scrt2Domain,
        call_id=body.context.callId,
        transaction_id=body.context.transactionId,
        created_at=now,
        expires_at=expires,
    )
    session.add(row)
    await _note_on_call(
        uow,
        context,
        body.context.callId,
        "outbound.context_created",
        row.id,
        {
            "correlationId": row.id,
            "fromNumber": body.fromNumber,
            "toNumber": body.context.toNumber,
            "expiresAt": iso_utc(expires),
        },
        f"voice-call context {row.id} created until {iso_utc(expires)} for a call from {body.fromNumber}",
    )
    return VoiceCallContextCreated(handle=VoiceCallContextHandle(correlationId=row.id, expiresAt=iso_utc(expires)))


async def _note_on_call(
    uow: UnitOfWork,
    context: CallCenterContext,
    call_id: str | None,
    kind: str,
    handle: str,
    data: dict[str, Any],
    reason: str,
) -> None:
    """The original leg (``context.callId``), when it is a call of this call center, records what was made."""
    if not call_id:
        return
    call = await voice_calls.resolve(uow.session, context.call_center_id, call_id)
    if call is None:
        return
    uow.record(
        call_center_id=context.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind=kind,
        outcome="created",
        reason=reason,
        data={**data, "handle": handle},
    )
