"""The voicemail drop an agent picks in the console for the call they are working, which
``GET /voiceCalls/{id}/voicemailDrop`` then answers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.console import repository as console_repository
from callbridge.console.errors import CallNotFound, NotYourCall
from callbridge.console.sessions import SignedIn
from callbridge.kit.uow import UnitOfWork
from callbridge.models import VoiceCall, VoicemailDropPick
from callbridge.outbound import repository
from callbridge.outbound.errors import UnknownVoicemailDrop
from callbridge.outbound.schemas import VoicemailDropChoice, VoicemailDropOption
from callbridge.outbound.service import drops_of


async def _choice(session: AsyncSession, call: VoiceCall) -> VoicemailDropChoice:
    call_center = await repository.call_center(session, call.call_center_id)
    pick = await session.get(VoicemailDropPick, call.id)
    return VoicemailDropChoice(
        voiceCallId=call.id,
        drops=[VoicemailDropOption(name=d["name"], recordingUrl=d["recording_url"]) for d in drops_of(call_center)],
        picked=pick.name if pick else None,
        recordingUrl=pick.recording_url if pick else None,
    )


async def _call_of(session: AsyncSession, signed: SignedIn, id_or_key: str) -> VoiceCall:
    """A call the agent is working: ringing for them (an offer) or accepted by them; a supervisor: any call of
    the org. By VoiceCall id or vendorCallKey."""
    call = await console_repository.find_call_of_org(session, signed.agent.org_id, id_or_key)
    if call is None:
        raise CallNotFound(id_or_key)
    if not signed.is_supervisor and not await console_repository.has_work_on_call(
        session, signed.agent.user_id, call.id
    ):
        raise NotYourCall(id_or_key)
    return call


async def choice(session: AsyncSession, signed: SignedIn, id_or_key: str) -> VoicemailDropChoice:
    """The drops of the call's call center, and the one picked."""
    return await _choice(session, await _call_of(session, signed, id_or_key))


async def pick(uow: UnitOfWork, signed: SignedIn, voice_call_id: str, name: str | None) -> VoicemailDropChoice:
    """Pick (or with ``None`` clear) the drop of a call the agent is working; recorded in its timeline."""
    session = uow.session
    call = await _call_of(session, signed, voice_call_id)
    call_center = await repository.call_center(session, call.call_center_id)
    drops = {drop["name"]: drop["recording_url"] for drop in drops_of(call_center)}
    if name is not None and name not in drops:
        raise UnknownVoicemailDrop(name, call_center.api_name, list(drops))
    previous = await session.get(VoicemailDropPick, call.id)
    if previous is not None and previous.name == name:
        return await _choice(session, call)
    if name is None:
        if previous is None:
            return await _choice(session, call)
        await session.delete(previous)
        reason = f"{signed.agent.username} cleared the voicemail drop {previous.name!r}"
    else:
        if previous is None:
            previous = VoicemailDropPick(voice_call_id=call.id, conversation_id=call.conversation_id)
            session.add(previous)
        previous.name, previous.recording_url = name, drops[name]
        previous.picked_by, previous.picked_at = signed.agent.user_id, uow.clock.now()
        reason = f"{signed.agent.username} picked the voicemail drop {name!r}"
    await session.flush()
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="voice_call.voicemail_drop_picked",
        outcome="cleared" if name is None else "picked",
        reason=reason,
        data={"name": name, "recordingUrl": drops.get(name) if name else None},
    )
    return await _choice(session, call)
