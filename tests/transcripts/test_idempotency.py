"""messageId idempotency, replace-in-place, ordering and pagination of a conversation's entries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import httpx2

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.kit.clock import FrozenClock
from tests.transcripts.conftest import INBOUND_KEY, URL, Post, message
from tests.voice_calls.conftest import CreateCall


async def test_identical_resend_changes_nothing(
    post_message: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Resending the same message answers Accepted, stores nothing new, and is noted as unchanged."""
    call_id = await create_call()
    for _ in range(2):
        assert (await post_message(INBOUND_KEY, message("same"))).status_code == 200
    (entry,) = await stored(call_id)
    assert entry["version"] == 1
    assert [r["kind"] for r in await timeline(call_id)] == ["transcript.accepted", "transcript.unchanged"]


async def test_partial_result_is_replaced_in_place(
    post_message: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """A resend with the same messageId and new content (a partial result becoming final) replaces the
    content and keeps the entry's place in the order."""
    call_id = await create_call()
    await post_message(INBOUND_KEY, message("seg-1", content="My order"))
    await post_message(INBOUND_KEY, message("seg-2", content="Which order?", senderType="VIRTUAL_AGENT"))
    before = {e["messageId"]: e for e in await stored(call_id)}
    await post_message(INBOUND_KEY, message("seg-1", content="My order never arrived."))
    after = await stored(call_id)
    assert [e["messageId"] for e in after] == ["seg-1", "seg-2"]
    assert after[0]["content"] == "My order never arrived."
    assert after[0]["version"] == 2
    assert after[0]["serverReceivedTimestamp"] == before["seg-1"]["serverReceivedTimestamp"]
    records = await timeline(call_id)
    assert records[-1]["kind"] == "transcript.replaced"
    assert "My order" not in str(records)


async def test_concurrent_resends_store_one_entry(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Twenty concurrent sends of the same message all answer 200, and exactly one entry exists."""
    call_id = await create_call()

    async def send() -> int:
        response = await client.post(f"{URL}/{INBOUND_KEY}/messages", json=message("dup"), headers=auth())
        return response.status_code

    assert await asyncio.gather(*(send() for _ in range(20))) == [200] * 20
    assert [e["messageId"] for e in await stored(call_id)] == ["dup"]
    kinds = [r["kind"] for r in await timeline(call_id)]
    assert kinds.count("transcript.accepted") == 1 and kinds.count("transcript.unchanged") == 19


async def test_concurrent_messages_get_unique_increasing_positions(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """Forty concurrent distinct messages are all stored, each with its own serverReceivedTimestamp."""
    call_id = await create_call()

    async def send(index: int) -> int:
        body = message(f"c{index}")
        return (await client.post(f"{URL}/{INBOUND_KEY}/messages", json=body, headers=auth())).status_code

    assert set(await asyncio.gather(*(send(i) for i in range(40)))) == {200}
    received = [e["serverReceivedTimestamp"] for e in await stored(call_id)]
    assert len(received) == 40
    assert received == sorted(set(received))


async def test_messages_in_the_same_millisecond_keep_their_order(
    settings: Settings, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """With the clock standing still, serverReceivedTimestamp still strictly increases in arrival order."""
    call_id = await create_call()
    frozen = create_app(settings, clock=FrozenClock(datetime.now(UTC)))
    async with frozen.router.lifespan_context(frozen):
        transport = httpx2.ASGITransport(app=frozen)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            for index in range(5):
                body = message(f"t{index}")
                assert (await http.post(f"{URL}/{INBOUND_KEY}/messages", json=body, headers=auth())).status_code == 200
    entries = await stored(call_id)
    assert [e["messageId"] for e in entries] == [f"t{i}" for i in range(5)]
    start = entries[0]["serverReceivedTimestamp"]
    assert [e["serverReceivedTimestamp"] - start for e in entries] == [0, 1, 2, 3, 4]


async def test_pages_follow_the_next_cursor(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """limit and after page through the entries without repeats or gaps; the last page has next = null."""
    await create_call()
    for index in range(7):
        await post_message(INBOUND_KEY, message(f"p{index}"))
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = (await client.get(f"{URL}/{INBOUND_KEY}/messages", params=params, headers=auth())).json()
        seen += [e["messageId"] for e in page["entries"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert seen == [f"p{i}" for i in range(7)]
    assert pages == 3


async def test_dropped_records_interleave_in_order(
    post_message: Post, create_call: CreateCall, stored: Callable, set_call_state: Callable
) -> None:
    """With include=dropped, drop records sit between the stored entries in the order messages arrived."""
    call_id = await create_call()
    await post_message(INBOUND_KEY, message("before"))
    await set_call_state(call_id, on_hold=True)
    await post_message(INBOUND_KEY, message("during"))
    await set_call_state(call_id, on_hold=False)
    await post_message(INBOUND_KEY, message("after"))
    entries = await stored(call_id, dropped=True, limit=1)
    assert [(e["messageId"], e["status"]) for e in entries] == [
        ("before", "stored"),
        ("during", "dropped"),
        ("after", "stored"),
    ]


async def test_a_cursor_that_is_not_ours_is_refused(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """An `after` that no page gave out answers 400 INVALID_CURSOR."""
    await create_call()
    response = await client.get(f"{URL}/{INBOUND_KEY}/messages", params={"after": "abc"}, headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CURSOR"


async def test_reading_an_unknown_call_is_404(client: httpx2.AsyncClient, auth: Callable) -> None:
    """The read answers 404 VOICE_CALL_NOT_FOUND for a call that does not exist."""
    response = await client.get(f"{URL}/nobody/messages", headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"
