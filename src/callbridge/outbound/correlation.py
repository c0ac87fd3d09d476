"""Correlating a new VoiceCall with what the telephony side prepared for it.

A create is linked, in this order, to: the live voice-call context named by ``callAttributes.correlationId``;
else the oldest live context made for a call from its ``from`` to its ``to``; else the live routable-number
lease holding its ``to`` number, when the caller is the lease's ``fromNumber`` (or ``originalFromNumber``),
as Salesforce matches the number-pool flow by number and caller. A lease, once a call arrived on it, frees
its number. Expired contexts and leases are never matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.models import RoutableNumberLease, VoiceCall, VoiceCallContext
from callbridge.outbound import repository
from callbridge.outbound.schemas import Correlation

CORRELATION_ATTRIBUTE = "correlationId"


@dataclass(frozen=True)
class Link:
    """What a create was correlated with, for its timeline entry."""

    reason: str
    data: dict[str, Any]


async def correlate(session: AsyncSession, call: VoiceCall, now: datetime) -> Link | None:
    """Link ``call`` (not yet inserted) to its context or lease, if one is live."""
    named = (call.call_attributes or {}).get(CORRELATION_ATTRIBUTE)
    if isinstance(named, str) and named:
        context = await repository.live_context(session, call.call_center_id, named, now)
        if context is not None and await repository.claim_context(session, context.id, call.id, now):
            return _context_link(context, f"callAttributes.{CORRELATION_ATTRIBUTE}")
    to, from_ = call.to_phone_number, call.from_phone_number
    if not to or not from_:
        return None
    for context in await repository.live_contexts_for(session, call.call_center_id, to, from_, now):
        if await repository.claim_context(session, context.id, call.id, now):
            return _context_link(context, "from and to")
    lease = await repository.live_lease_for(session, call.call_center_id, to, now)
    if lease is None or from_ not in (lease.from_number, lease.original_from_number):
        return None
    if not await repository.claim_lease(session, lease.id, call.id, now):
        return None
    return Link(
        f"arrived on routable number {lease.routable_number} from {from_}: correlated with its reservation {lease.uid}",
        {"mode": "number", "id": lease.uid, "routableNumber": lease.routable_number, **_carried(lease)},
    )


def _context_link(context: VoiceCallContext, matched_by: str) -> Link:
    return Link(
        f"correlated with context {context.id} (matched by {matched_by})",
        {"mode": "correlationID", "id": context.id, **_carried(context)},
    )


def _carried(row: VoiceCallContext | RoutableNumberLease) -> dict[str, Any]:
    return {"callId": row.call_id, "transactionId": row.transaction_id, "scrt2Domain": row.scrt2_domain}


async def correlation_of(session: AsyncSession, voice_call_id: str) -> Correlation | None:
    """What the call was correlated with, for the VoiceCall read API."""
    row = await repository.correlation_of(session, voice_call_id)
    if row is None or row.correlated_at is None:
        return None
    if isinstance(row, VoiceCallContext):
        return Correlation(mode="correlationID", id=row.id, correlatedAt=row.correlated_at, **_carried(row))
    return Correlation(
        mode="number",
        id=row.uid,
        routableNumber=row.routable_number,
        correlatedAt=row.correlated_at,
        **_carried(row),
    )
