"""What a VoiceCall update means for routing: a closed call leaves routing, an ended call ends its work."""

from __future__ import annotations

from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall
from callbridge.routing import engine, repository
from callbridge.routing.engine import WorkStatus, record


async def on_call_updated(uow: UnitOfWork, call: VoiceCall, *, closed: bool, ended: bool) -> None:
    """``closed``: the update closed the call (``isActiveCall`` false), which clears its pending routing (spec
    §3.1) except for a voicemail, whose routing outlives the caller. ``closed`` or ``ended`` (an ``endTime``):
    the agent's work on the call is closed and their capacity freed."""
    if not (closed or ended):
        return
    session = uow.session
    org_id: str | None = None
    psr = await repository.psr_of_work_item(session, call.id) if closed else None
    if psr is not None and call.call_origin != "Voicemail":
        reason = "the call was closed (isActiveCall false): its pending routing is cleared"
        await engine.remove_psr(uow, psr, reason)
        record(uow, psr, "routing.cleared", "cleared", reason, psrId=psr.id)
        org_id = psr.org_id
    for work in await repository.works_of_item(session, call.id, WorkStatus.opened.value):
        why = "the call was closed" if closed else "the call ended (endTime)"
        if await engine.close(uow, work, WorkStatus.closed, why):
            org_id = work.org_id
    if org_id is not None:
        await engine.dispatch(uow, org_id)
