"""The console stream client against a real server process: typed events, resuming after an id, refusals."""

from __future__ import annotations

import asyncio

import pytest

from callbridge.client import AsyncConsoleClient, Presence
from callbridge.client.stream import ConsoleStream, StreamRefused, stream_url
from callbridge.events.schemas import AgentPresenceChanged
from tests.client.live import PASSWORD, LiveServer

AGENT = "chen@example.com"


async def next_presence(stream: ConsoleStream) -> AgentPresenceChanged:
    """The next presence event of the stream (skipping the rest), within a few seconds."""

    async def first() -> AgentPresenceChanged:
        async for event in stream:
            if isinstance(event, AgentPresenceChanged):
                return event
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(first(), 5)


def test_stream_url_resumes_after_an_id() -> None:
    """http becomes ws, an API base is taken back to the root, ``after`` is the query."""
    assert (
        stream_url("https://cb.example.com/telephony/v1/", after=7) == "wss://cb.example.com/console/v1/stream?after=7"
    )
    assert stream_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/console/v1/stream"


async def test_events_arrive_typed_after_the_hello(server: LiveServer, console: AsyncConsoleClient) -> None:
    """The stream opens with stream.hello, then yields the server's event models: here the agent's presence."""
    session = await console.sign_in(AGENT, PASSWORD)
    await console.set_presence(Presence.OFFLINE)  # setting the presence it has already changes nothing
    async with ConsoleStream(server.url, session.token) as stream:
        assert stream.hello is not None and stream.hello.role == "agent"
        assert stream.hello.user_id == session.agent.user_id
        await console.set_presence(Presence.AVAILABLE)
        event = await next_presence(stream)
    assert event.presence == "Available" and event.user_id == session.agent.user_id
    assert stream.last_id == event.id


async def test_a_new_stream_resumes_after_the_last_id(server: LiveServer, console: AsyncConsoleClient) -> None:
    """What was committed while no stream was open is replayed to one opened with ``after`` = the last id seen."""
    session = await console.sign_in(AGENT, PASSWORD)
    await console.set_presence(Presence.OFFLINE)  # setting the presence it has already changes nothing
    async with ConsoleStream(server.url, session.token) as stream:
        await console.set_presence(Presence.AVAILABLE)
        seen = await next_presence(stream)
    await console.set_presence(Presence.BUSY)  # no stream is open
    async with ConsoleStream(server.url, session.token, after=seen.id) as resumed:
        assert resumed.hello is not None and resumed.hello.resumed_after == seen.id and resumed.hello.replayed >= 1
        missed = await next_presence(resumed)
    assert missed.presence == "Busy" and missed.id > seen.id


async def test_a_refused_session_raises(server: LiveServer) -> None:
    """An unknown session token gets stream.error, raised as StreamRefused with the server's code."""
    with pytest.raises(StreamRefused) as raised:
        await ConsoleStream(server.url, "not-a-session").connect()
    assert raised.value.code == "SESSION_INVALID"
