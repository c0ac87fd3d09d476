"""The console push channel over a real WebSocket: who gets what, live and after a resume, heartbeats, the
bounded connection life, refusals and the server stopping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
import websockets
from fastapi import FastAPI

from callbridge.kit.state import AppState
from tests.console.live_server import LiveServer, console_stream, serve
from tests.routing.conftest import ALICE, ALICE_ID, BRUNO, SAM, Console, Telephony
from tests.transcripts.conftest import INBOUND_KEY, message
from tests.voice_calls.conftest import CreateCall

Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serve(app) as server:
        yield server


async def say(client: httpx2.AsyncClient, auth: Auth, message_id: str, content: str, **fields: Any) -> None:
    body = message(message_id, content=content, **fields)
    response = await client.post(f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages", json=body, headers=auth())
    assert response.status_code == 200, response.text


async def routed_call(create_call: CreateCall, telephony: Telephony) -> str:
    call = await create_call()
    response = await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert response.status_code == 200, response.text
    return call


async def test_an_agent_is_offered_the_call_and_follows_it_live(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> None:
    """hello, then the offer with its expiry, the accept, and the transcript of the call taken, in id order."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        hello = await stream.next()
        assert (hello["type"], hello["role"], hello["userId"], hello["resumedAfter"]) == (
            "stream.hello",
            "agent",
            ALICE_ID,
            None,
        )
        call = await routed_call(create_call, telephony)
        offered = await stream.until("routing.offered")
        assert (offered["voiceCallId"], offered["userId"], offered["queueName"]) == (call, ALICE_ID, "Support")
        assert offered["expiresAt"] is not None and offered["pushTimeoutSeconds"] == 20
        await console.take(alice)
        ended = await stream.until("routing.offer_ended")
        assert (ended["offerId"], ended["outcome"]) == (offered["offerId"], "accepted")
        await say(client, auth, "u1", "Hello, my order never arrived.")
        accepted = await stream.until("transcript.accepted")
        assert (accepted["voiceCallId"], accepted["content"], accepted["sender"]["role"]) == (
            call,
            "Hello, my order never arrived.",
            "EndUser",
        )
    ids = [m["id"] for m in stream.seen]
    assert ids == sorted(ids) and len(set(ids[1:])) == len(ids[1:])


async def test_another_agent_sees_none_of_it(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> None:
    """Bruno, available in another queue's sense but not offered the call, gets no offer and no transcript."""
    alice = await console.available(ALICE)
    bruno = await console.sign_in(BRUNO)
    async with console_stream(live, bruno) as stream:
        await stream.until("stream.hello")
        await routed_call(create_call, telephony)
        await console.take(alice)
        await say(client, auth, "u1", "not for Bruno")
        types = {m["type"] for m in await stream.quiet()}
    assert not types & {"routing.offered", "transcript.accepted", "voice_call.state_changed"}


async def test_a_supervisor_sees_presence_backlog_and_every_call(
    live: LiveServer, console: Console, telephony: Telephony, create_call: CreateCall
) -> None:
    """Org-wide events: presence with load, the queue's backlog as the PSR waits and is offered."""
    sam = await console.sign_in(SAM)
    async with console_stream(live, sam) as stream:
        assert (await stream.next())["role"] == "supervisor"
        call = await create_call()
        assert (await stream.until("voice_call.state_changed"))["change"] == "created"
        await telephony.omni_flow(call, {"fallbackQueue": "Support"})
        waiting = await stream.until("queue.backlog")
        assert (waiting["queueApiName"], waiting["waiting"], waiting["offered"]) == ("Support", 1, 0)
        alice = await console.available(ALICE)
        await stream.until("routing.offered")
        await stream.quiet(0.2)  # the rest of that commit: the backlog and presence snapshots
        presence = [m for m in stream.seen if m["type"] == "agent.presence_changed" and m["userId"] == ALICE_ID]
        assert presence[-1]["presence"] == "Available"
        backlog = [m for m in stream.seen if m["type"] == "queue.backlog"]
        assert (backlog[-1]["waiting"], backlog[-1]["offered"]) == (0, 1)
        await console.take(alice)
        loaded = await stream.until("agent.presence_changed", userId=ALICE_ID)
        assert loaded["capacityUsed"] == 100


async def test_a_resumed_stream_replays_exactly_what_was_missed(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> None:
    """A supervisor who stays connected and one who drops and resumes with ``after`` get the same events."""
    sam = await console.sign_in(SAM)
    alice = await console.available(ALICE)
    call = await routed_call(create_call, telephony)
    await console.take(alice)
    async with console_stream(live, sam) as steady:
        await steady.next()
        async with console_stream(live, sam) as flaky:
            await flaky.next()
            await say(client, auth, "u1", "first")
            first = await flaky.until("transcript.accepted")
        # flaky is gone: these happen while it is away
        await say(client, auth, "u2", "partial")
        await say(client, auth, "u2", "partial, then final")
        await console.http.post(f"/console/v1/calls/{call}/hold", headers=alice)
        await say(client, auth, "u3", "on hold")
        await steady.until("transcript.dropped")
        async with console_stream(live, sam, f"?after={first['id']}") as resumed:
            hello = await resumed.next()
            assert (hello["resumedAfter"], hello["replayed"]) == (first["id"], hello["replayed"])
            replayed = [await resumed.next() for _ in range(hello["replayed"])]
    missed = [m for m in steady.seen if m["id"] > first["id"] and not m["type"].startswith("stream.")]
    # A replayed utterance carries the entry's text as it is now (a redacted text is never replayed).
    current = {"u2": "partial, then final"}
    assert replayed == [
        {**m, "content": current[m["messageId"]]} if m["type"] == "transcript.accepted" else m for m in missed
    ]
    kinds = [m["type"] for m in replayed]
    assert kinds.count("transcript.accepted") == 1 and "transcript.replaced" in kinds
    assert "transcript.dropped" in kinds and "voice_call.state_changed" in kinds
    replaced = next(m for m in replayed if m["type"] == "transcript.replaced")
    assert (replaced["content"], replaced["entryVersion"]) == ("partial, then final", 2)


async def test_heartbeats_and_a_bounded_life(app: FastAPI, console: Console, state: AppState) -> None:
    """Idle: heartbeats carrying the last id; at the end of its life the server asks for a reconnect, closes."""
    state.settings = state.settings.model_copy(
        update={"console_stream_heartbeat_seconds": 0.1, "console_stream_max_life_seconds": 0.45}
    )
    sam = await console.sign_in(SAM)
    async with serve(app) as live, console_stream(live, sam) as stream:
        hello = await stream.next()
        beats = [await stream.next() for _ in range(2)]
        assert [b["type"] for b in beats] == ["stream.heartbeat"] * 2
        assert {b["id"] for b in beats} == {hello["id"]}
        reconnect = await stream.until("stream.reconnect")
        assert reconnect["id"] == hello["id"] and reconnect["retryAfterMs"] > 0
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await stream.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_the_server_stopping_tells_streams_to_reconnect(
    live: LiveServer, console: Console, state: AppState
) -> None:
    """The stop signal reaches open streams at once: stream.reconnect, then close 1012 (service restart)."""
    sam = await console.sign_in(SAM)
    async with console_stream(live, sam) as stream:
        await stream.next()
        state.stopping.set()
        reconnect = await stream.next(wait=2)
        assert (reconnect["type"], reconnect["reason"]) == ("stream.reconnect", "the server is stopping")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await stream.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


@pytest.mark.parametrize(
    ("headers", "query", "code", "close_code"),
    [
        ({}, "", "SESSION_MISSING", 4401),
        ({"Authorization": "Bearer not-a-session"}, "", "SESSION_INVALID", 4401),
        (None, "?after=yesterday", "INVALID_REQUEST", 4400),
    ],
)
async def test_refusals_say_why_before_closing(
    live: LiveServer,
    console: Console,
    headers: dict[str, str] | None,
    query: str,
    code: str,
    close_code: int,
) -> None:
    sent = headers if headers is not None else await console.sign_in(SAM)
    async with console_stream(live, sent, query) as stream:
        error = await stream.next()
        assert (error["type"], error["code"]) == ("stream.error", code)
        if code == "INVALID_REQUEST":
            assert "after" in error["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await stream.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code


async def test_the_session_cookie_is_refused_from_another_origin(live: LiveServer, console: Console) -> None:
    """A page elsewhere cannot ride on the agent's cookie (cross-site WebSocket hijacking)."""
    token = (await console.sign_in(SAM))["Authorization"].removeprefix("Bearer ")
    cookie = {"Cookie": f"callbridge_session={token}"}
    async with console_stream(live, {**cookie, "Origin": "https://evil.example"}) as stream:
        error = await stream.next()
        assert (error["type"], error["code"]) == ("stream.error", "CSRF_ORIGIN_MISMATCH")
    host = live.http_url.removeprefix("http://")
    async with console_stream(live, {**cookie, "Origin": f"http://{host}"}) as stream:
        assert (await stream.next())["type"] == "stream.hello"


async def test_a_client_that_falls_behind_recovers_from_storage(
    app: FastAPI,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    state: AppState,
) -> None:
    """With room for one queued event, a bulk of five overflows the subscriber: the stream replays the gap
    from storage and the client still gets every utterance once, in order."""
    state.settings = state.settings.model_copy(update={"console_stream_queue_size": 1})
    sam = await console.sign_in(SAM)
    alice = await console.available(ALICE)
    await routed_call(create_call, telephony)
    await console.take(alice)
    async with serve(app) as live, console_stream(live, sam) as stream:
        await stream.next()
        bulk = {
            "entries": [
                {"vendorCallKey": INBOUND_KEY, "messages": [message(f"b{i}", content=f"line {i}") for i in range(5)]}
            ]
        }
        response = await client.post("/telephony/v1/voiceCalls/messages", json=bulk, headers=auth())
        assert response.status_code == 202, response.text
        got = [await stream.until("transcript.accepted") for _ in range(5)]
    assert [m["content"] for m in got] == [f"line {i}" for i in range(5)]


async def test_sse_follows_one_call_and_resumes_with_last_event_id(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> None:
    """text/event-stream frames of the call only; EventSource's Last-Event-ID resumes after the last frame."""
    sam = await console.sign_in(SAM)
    call = await create_call()
    other = await create_call("lambda_create_inbound", vendorCallKey="another-call-key")
    assert other != call

    async def frames(headers: dict[str, str], count: int) -> list[dict[str, str]]:
        got: list[dict[str, str]] = []
        async with (
            httpx2.AsyncClient(base_url=live.http_url, timeout=5) as http,
            http.stream("GET", f"/console/v1/calls/{INBOUND_KEY}/events", headers=headers) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            frame: dict[str, str] = {}
            async for line in response.aiter_lines():
                if not line:
                    if "event" in frame:
                        got.append(frame)
                    frame = {}
                    if len(got) == count:
                        return got
                    continue
                name, _, value = line.partition(": ")
                frame[name] = value
        return got

    reader = asyncio.ensure_future(frames(sam, 2))
    await asyncio.sleep(0.3)
    await say(client, auth, "s1", "over SSE")
    hello, accepted = await asyncio.wait_for(reader, 5)
    assert hello["event"] == "stream.hello"
    assert accepted["event"] == "transcript.accepted" and '"over SSE"' in accepted["data"]
    await say(client, auth, "s2", "while away")
    (hello_again, missed) = await frames({**sam, "Last-Event-ID": accepted["id"]}, 2)
    assert hello_again["event"] == "stream.hello" and '"replayed":1' in hello_again["data"]
    assert missed["event"] == "transcript.accepted" and '"while away"' in missed["data"]
    assert int(missed["id"]) > int(accepted["id"])


async def test_sse_is_for_supervisors_and_the_call_s_agents(live: LiveServer, console: Console) -> None:
    bruno = await console.sign_in(BRUNO)
    async with httpx2.AsyncClient(base_url=live.http_url, timeout=5) as http:
        unknown = await http.get("/console/v1/calls/no-such-call/events", headers=bruno)
        anonymous = await http.get(f"/console/v1/calls/{INBOUND_KEY}/events")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND")
    assert anonymous.status_code == 401
