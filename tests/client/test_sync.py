"""The blocking clients against a real server process: same methods, same answers, same exceptions."""

from __future__ import annotations

import uuid

import pytest

from callbridge.client import (
    CallbridgeClient,
    ConsoleClient,
    NotFoundError,
    TokenSigner,
    TranscriptMessage,
    VoiceCallCreate,
    VoiceCallUpdate,
)
from tests.client.live import DIALED_NUMBER, PASSWORD, LiveServer


def test_blocking_client_round_trip(server: LiveServer, signer: TokenSigner) -> None:
    """create, transcript, iterate, update and read back without await."""
    key = str(uuid.uuid4())
    with CallbridgeClient(server.url, signer) as client:
        created = client.create_voice_call(VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+1415555"))
        client.send_transcript(key, TranscriptMessage(content="hello", message_id=f"{key}-1"))
        assert [entry.message_id for entry in client.iter_messages(key)] == [f"{key}-1"]
        assert client.update_voice_call(key, VoiceCallUpdate(is_active_call=False)).status == "pending"
        assert client.get_voice_call(created.voice_call_id).call_disposition == "completed"
        assert client.get_timeline(key).entries[0].kind == "voice_call.created"


def test_blocking_client_raises_the_same_errors(server: LiveServer, signer: TokenSigner) -> None:
    """A 404 is NotFoundError from the blocking client too."""
    with CallbridgeClient(server.url, signer) as client, pytest.raises(NotFoundError) as raised:
        client.get_voice_call("0LQXX0000000000OAA")
    assert raised.value.code == "VOICE_CALL_NOT_FOUND"


async def test_blocking_client_works_inside_an_event_loop(server: LiveServer, signer: TokenSigner) -> None:
    """Called from async code, the blocking client runs on its own loop instead of failing."""
    with CallbridgeClient(server.url, signer) as client:
        key = str(uuid.uuid4())
        created = client.create_voice_call(VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+1415555"))
        assert created.voice_call_id.startswith("0LQ")


def test_blocking_console_client(server: LiveServer) -> None:
    """ConsoleClient signs in and reads the agent."""
    with ConsoleClient(server.url) as agent:
        agent.sign_in("alice@example.com", PASSWORD)
        assert agent.session_token is not None
        assert agent.me().username == "alice@example.com"
