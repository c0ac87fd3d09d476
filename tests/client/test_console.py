"""The console client against a real server process: sign in, presence, offers, work, hold and recording."""

from __future__ import annotations

import uuid

import pytest

from callbridge.client import (
    AsyncCallbridgeClient,
    AsyncConsoleClient,
    AuthenticationError,
    Presence,
    RouteRequest,
    TranscriptMessage,
    VoiceCallCreate,
)
from tests.client.live import AGENTS, DIALED_NUMBER, PASSWORD, SUPERVISOR, LiveServer


async def offered_call(client: AsyncCallbridgeClient, user_id: str) -> str:
    """A new call routed straight to the agent ``user_id``; its vendorCallKey."""
    key = str(uuid.uuid4())
    await client.create_voice_call(VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+14155550123"))
    await client.route_voice_call(key, RouteRequest(routing_target=user_id))
    return key


async def test_sign_in_keeps_the_session(console: AsyncConsoleClient) -> None:
    """sign_in answers the agent and its token; later requests use it."""
    session = await console.sign_in("alice@example.com", PASSWORD)
    assert session.agent.user_id == AGENTS["alice@example.com"]
    assert console.session_token == session.token
    assert (await console.me()).username == "alice@example.com"


async def test_wrong_password_is_an_authentication_error(console: AsyncConsoleClient) -> None:
    """A refused sign-in is AuthenticationError INVALID_CREDENTIALS."""
    with pytest.raises(AuthenticationError) as raised:
        await console.sign_in("alice@example.com", "wrong")
    assert raised.value.code == "INVALID_CREDENTIALS"


async def test_sign_out_ends_the_session(console: AsyncConsoleClient) -> None:
    """After sign_out the old token is refused."""
    session = await console.sign_in("alice@example.com", PASSWORD)
    await console.sign_out()
    console.session_token = session.token
    with pytest.raises(AuthenticationError):
        await console.me()


async def test_offer_accept_hold_and_close(console: AsyncConsoleClient, client: AsyncCallbridgeClient) -> None:
    """An Available agent is offered a call routed to them, accepts it, holds (transcripts dropped), resumes,
    pauses and resumes recording, and closes the work."""
    session = await console.sign_in("bruno@example.com", PASSWORD)
    assert (await console.set_presence(Presence.AVAILABLE)).presence is Presence.AVAILABLE
    key = await offered_call(client, session.agent.user_id)
    offer = await console.wait_for_offer(voice_call_id=(await client.get_voice_call(key)).id)
    assert offer.vendor_call_key == key
    accepted = await console.accept_offer(offer.id)
    (work,) = await console.work()
    assert work.id == accepted.work_id

    held = await console.hold(accepted.voice_call_id)
    assert (held.is_on_hold, held.changed) == (True, True)
    await client.send_transcript(key, TranscriptMessage(content="on hold", message_id=f"{key}-held"))
    assert (await console.resume(accepted.voice_call_id)).is_on_hold is False
    assert (await console.pause_recording(accepted.voice_call_id)).is_recording_paused is True
    assert (await console.resume_recording(accepted.voice_call_id)).is_recording_paused is False
    page = await client.list_messages(key, include_dropped=True)
    assert [(e.message_id, e.drop_reason) for e in page.entries] == [(f"{key}-held", "on_hold")]

    assert (await console.close_work(accepted.work_id)).status == "Closed"
    assert await console.work() == []
    await console.set_presence(Presence.OFFLINE)


async def test_decline_passes_the_offer_on(console: AsyncConsoleClient, client: AsyncCallbridgeClient) -> None:
    """decline_offer answers Declined and the offer leaves the agent's list."""
    session = await console.sign_in("chen@example.com", PASSWORD)
    await console.set_presence(Presence.AVAILABLE)
    key = await offered_call(client, session.agent.user_id)
    offer = await console.wait_for_offer(voice_call_id=(await client.get_voice_call(key)).id)
    assert (await console.decline_offer(offer.id)).status == "Declined"
    assert all(o.id != offer.id for o in await console.offers())
    await console.set_presence(Presence.OFFLINE)


async def test_supervisor_sees_pending_routings(server: LiveServer, client: AsyncCallbridgeClient) -> None:
    """pending() lists the org's PSRs for a supervisor."""
    key = str(uuid.uuid4())
    await client.create_voice_call(VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+14155550123"))
    await client.route_voice_call(key, RouteRequest(routing_target="Support"))
    voice_call_id = (await client.get_voice_call(key)).id
    async with AsyncConsoleClient(server.url) as supervisor:
        await supervisor.sign_in(SUPERVISOR, PASSWORD)
        assert voice_call_id in {psr.work_item_id for psr in await supervisor.pending()}


async def test_wait_for_offer_times_out(console: AsyncConsoleClient) -> None:
    """wait_for_offer raises TimeoutError when nothing is offered in time."""
    await console.sign_in("alice@example.com", PASSWORD)
    with pytest.raises(TimeoutError):
        await console.wait_for_offer(voice_call_id="0LQXX0000000000OAA", wait_seconds=0.3, interval=0.1)
