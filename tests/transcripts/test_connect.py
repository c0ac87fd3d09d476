"""The Connect API's conversation entries (spec §14): read with its query parameters, and redact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, Post, message
from tests.voice_calls.conftest import CreateCall

ENTRIES = f"/services/data/v52.0/connect/conversation/{INBOUND_KEY}/entries"


async def send_many(post_message: Post, count: int) -> None:
    for index in range(count):
        body = message(f"n{index:02d}", startTime=IN_CALL_MS + index * 1000, endTime=IN_CALL_MS + index * 1000 + 400)
        assert (await post_message(INBOUND_KEY, body)).status_code == 200


async def get_entries(client: httpx2.AsyncClient, auth: Callable, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(ENTRIES, params=params, headers=auth())
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["conversationEntries"]
    return entries


async def test_entries_have_the_connect_shape(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """Each entry carries clientDuration, clientTimestamp, identifier, messageText, relatedRecords, sender and
    serverReceivedTimestamp; the end user's subject is END_USER."""
    call_id = await create_call()
    await send_many(post_message, 1)
    (entry,) = await get_entries(client, auth)
    assert entry["identifier"] == "n00"
    assert entry["messageText"] == "My order never arrived."
    assert (entry["clientTimestamp"], entry["clientDuration"]) == (IN_CALL_MS, 400)
    assert entry["relatedRecords"] == [call_id]
    assert entry["sender"] == {"appType": "TELEPHONY_INTEGRATION", "role": "END_USER", "subject": "END_USER"}
    assert entry["serverReceivedTimestamp"] > 0


async def test_default_is_the_last_25_from_the_end(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """Without parameters: queryDirection FromEnd, recordLimit 25 — the newest 25, oldest first."""
    await create_call()
    await send_many(post_message, 30)
    entries = await get_entries(client, auth)
    assert [e["identifier"] for e in entries] == [f"n{i:02d}" for i in range(5, 30)]


async def test_from_start_with_a_limit(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """queryDirection=FromStart with recordLimit=3 gives the first three."""
    await create_call()
    await send_many(post_message, 6)
    entries = await get_entries(client, auth, queryDirection="FromStart", recordLimit=3)
    assert [e["identifier"] for e in entries] == ["n00", "n01", "n02"]


async def test_timestamps_bound_the_range(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """startTimestamp and endTimestamp (on serverReceivedTimestamp, inclusive) bound the entries returned."""
    await create_call()
    await send_many(post_message, 5)
    received = [e["serverReceivedTimestamp"] for e in await get_entries(client, auth)]
    entries = await get_entries(client, auth, startTimestamp=received[1], endTimestamp=received[3])
    assert [e["identifier"] for e in entries] == ["n01", "n02", "n03"]


async def test_record_limit_over_1000_is_refused(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """recordLimit is 1 to 1000."""
    await create_call()
    response = await client.get(ENTRIES, params={"recordLimit": 1001}, headers=auth())
    assert response.status_code == 400


async def test_unknown_or_foreign_conversation_is_404(
    client: httpx2.AsyncClient, auth: Callable, other_token: Callable, create_call: CreateCall
) -> None:
    """A conversation that does not exist, or belongs to another call center, answers 404."""
    await create_call()
    missing = await client.get("/services/data/v52.0/connect/conversation/nope/entries", headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "CONVERSATION_NOT_FOUND"
    foreign = await client.get(ENTRIES, headers={"Authorization": f"Bearer {other_token()}"})
    assert foreign.status_code == 404


async def test_redaction_replaces_the_text_and_keeps_no_copy(
    client: httpx2.AsyncClient,
    auth: Callable,
    post_message: Post,
    create_call: CreateCall,
    stored: Callable,
    timeline: Callable,
) -> None:
    """PATCH replaces the entry's text and marks it redacted; the timeline records the redaction, and the old
    text appears nowhere in it."""
    call_id = await create_call()
    secret = "My card is 4111 1111 1111 1111"
    await post_message(INBOUND_KEY, message("card", content=secret))
    body = {"conversationEntriesUpdates": [{"identifier": "card", "messageText": "My card is [REDACTED]"}]}
    response = await client.patch(ENTRIES, json=body, headers=auth())
    assert response.status_code == 200
    assert response.json() == {
        "conversationEntriesUpdates": [{"identifier": "card", "success": True, "errorMessage": None}]
    }
    (entry,) = await stored(call_id)
    assert entry["content"] == "My card is [REDACTED]" and entry["redacted"] is True
    records = await timeline(call_id)
    assert [r["kind"] for r in records] == ["transcript.accepted", "transcript.redacted"]
    full = (await client.get(f"/telephony/v1/voiceCalls/{call_id}/timeline", headers=auth())).text
    assert "4111" not in full


async def test_resend_does_not_undo_a_redaction(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall, stored: Callable
) -> None:
    """A late resend of a redacted message, even with new content, leaves the redacted text in place."""
    call_id = await create_call()
    await post_message(INBOUND_KEY, message("card", content="4111 1111"))
    body = {"conversationEntriesUpdates": [{"identifier": "card", "messageText": "[REDACTED]"}]}
    await client.patch(ENTRIES, json=body, headers=auth())
    await post_message(INBOUND_KEY, message("card", content="4111 1111 1111"))
    assert [e["content"] for e in await stored(call_id)] == ["[REDACTED]"]


async def test_redacting_an_unknown_entry_fails_alone(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall
) -> None:
    """An identifier that names no entry is reported as failed; the others are applied."""
    await create_call()
    await post_message(INBOUND_KEY, message("real"))
    updates = [{"identifier": "ghost", "messageText": "x"}, {"identifier": "real", "messageText": "[REDACTED]"}]
    response = await client.patch(ENTRIES, json={"conversationEntriesUpdates": updates}, headers=auth())
    results = response.json()["conversationEntriesUpdates"]
    assert [(r["identifier"], r["success"]) for r in results] == [("ghost", False), ("real", True)]
    assert "ghost" in results[0]["errorMessage"]
