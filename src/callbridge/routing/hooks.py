"""What a VoiceCall update means for routing: an ended call leaves routing (its ringing offer withdrawn) and
ends its work."""

from __future__ import annotations

from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall
from callbridge.routing import engine, repository
from callbridge.routing.engine import WorkStatus, record

HUNG_UP = "The caller hung up: the call ended before an agent accepted it"


async def on_call_updated(uow: UnitOfWork, call: VoiceCall, *, closed: bool, ended: bool) -> None:
    """``closed`` (``isActiveCall`` false) or ``ended`` (an ``endTime``): the call's open routing is removed
    and a ringing offer withdrawn (the agent's console says why), except for a voicemail, whose routing
    outlives the caller; accepted work on the call is closed and the agent's capacity freed."""
    if not (closed or ended):
        return
    session = uow.session
    org_id: str | None = None
    psr = await repository.psr_of_work_item(session, call.id) if call.call_origin != "Voicemail" else None
    if psr is not None and await engine.remove_psr(uow, psr, HUNG_UP):
        how = "isActiveCall false" if closed else "endTime"
        reason = f"the call ended ({how}) while it waited for an agent: its pending routing is cleared"
        record(uow, psr, "routing.cleared", "cleared", reason, psrId=psr.id, callEnded=True)
        org_id = psr.org_id
    for work in await repository.works_of_item(session, call.id, WorkStatus.opened.value):
        why = "the call was closed" if closed else "the call ended (endTime)"
        if await engine.close(uow, work, WorkStatus.closed, why):
            org_id = work.org_id
    if org_id is not None:
        await engine.dispatch(uow, org_id)
