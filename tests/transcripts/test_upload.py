"""POST/GET /services/data/vXX.X/connect/conversations/upload (spec §14): multipart, NDJSON, streamed."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2

from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, URL, body_of
from tests.voice_calls.conftest import CreateCall

UPLOAD = "/services/data/v58.0/connect/conversations/upload"
BOUNDARY = "----callbridge-upload-7f3a"


def conversation_line(identifier: str = INBOUND_KEY) -> str:
    return json.dumps({"type": "conversation", "payload": {"conversationId": identifier}}) + "\n"


def entry_line(entry_id: str, at: int, text: str = "Thanks, bye.", role: str = "END_USER") -> str:
    payload = {
        "conversationId": INBOUND_KEY,
        "id": entry_id,
        "clientSentTimestamp": at,
        "clientDuration": 800,
        "messageText": text,
        "sender": {"appType": "TELEPHONY_INTEGRATION", "subject": "END_USER", "role": role},
        "relatedRecords": [],
    }
    return json.dumps({"type": "conversationEntry", "payload": payload}) + "\n"


def multipart(parts: dict[str, str]) -> bytes:
    body = ""
    for name, content in parts.items():
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.json"\r\n'
        body += f"Content-Type: application/json\r\n\r\n{content}\r\n"
    return (body + f"--{BOUNDARY}--\r\n").encode()


def headers_for(auth: Callable) -> dict[str, str]:
    token = auth()["Authorization"]
    return {"Authorization": token, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def close_call(client: httpx2.AsyncClient, auth: Callable, call_id: str) -> None:
    response = await client.patch(f"{URL}/{call_id}", json=body_of("ctr_sync_update"), headers=auth())
    assert response.status_code == 200


async def statuses(client: httpx2.AsyncClient, auth: Callable, *upload_ids: str) -> list[dict[str, Any]]:
    response = await client.get(UPLOAD, params={"uploadIds": ",".join(upload_ids)}, headers=auth())
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["conversationBulkUploadStatuses"]
    return result


async def test_upload_keeps_file_order_and_reports_failures(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Entries are stored in the file's order (not sorted by time); an entry outside the conversation and an
    invalid line fail alone and are listed in the upload's status."""
    call_id = await create_call()
    await close_call(client, auth, call_id)
    content = (
        conversation_line()
        + entry_line("u3", IN_CALL_MS + 3000)
        + entry_line("u1", IN_CALL_MS + 1000, role="AGENT")
        + entry_line("early", IN_CALL_MS - 3_600_000)
        + '{"type": "conversationEntry", "payload": {"id": "broken"}}\n'
        + entry_line("u2", IN_CALL_MS + 2000)
    )
    response = await client.post(UPLOAD, content=multipart({INBOUND_KEY: content}), headers=headers_for(auth))
    assert response.status_code == 201, response.text
    (started,) = response.json()["conversationBulkUploads"]
    assert started["conversationId"] == INBOUND_KEY and started["status"] == "Completed"
    (status,) = await statuses(client, auth, started["uploadId"])
    assert status["status"] == "Completed"
    assert (status["successEntryCount"], status["failedEntryCount"]) == (3, 2)
    assert sorted(status["failedEntryIds"]) == ["broken", "early"]
    assert status["lastUpdatedTimestamp"] > 0
    entries = await stored(call_id)
    assert [(e["messageId"], e["source"]) for e in entries] == [("u3", "upload"), ("u1", "upload"), ("u2", "upload")]
    assert entries[1]["sender"]["role"] == "Agent"
    (record,) = await timeline(call_id)
    assert record["kind"] == "transcript.uploaded" and record["data"]["successEntryCount"] == 3


async def test_open_conversation_is_refused(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """Only closed conversations take uploads: the part fails and nothing is stored."""
    call_id = await create_call()
    content = conversation_line() + entry_line("u1", IN_CALL_MS)
    response = await client.post(UPLOAD, content=multipart({INBOUND_KEY: content}), headers=headers_for(auth))
    (started,) = response.json()["conversationBulkUploads"]
    assert started["status"] == "Failed"
    (status,) = await statuses(client, auth, started["uploadId"])
    assert "not closed" in status["errorDetail"]
    assert await stored(call_id) == []


async def test_each_part_is_one_upload(client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall) -> None:
    """Two parts give two upload ids; an unknown conversation fails without affecting the other."""
    call_id = await create_call()
    await close_call(client, auth, call_id)
    parts = {
        INBOUND_KEY: conversation_line() + entry_line("u1", IN_CALL_MS),
        "no-such-conversation": conversation_line("no-such-conversation"),
    }
    response = await client.post(UPLOAD, content=multipart(parts), headers=headers_for(auth))
    uploads = response.json()["conversationBulkUploads"]
    assert [(u["conversationId"], u["status"]) for u in uploads] == [
        (INBOUND_KEY, "Completed"),
        ("no-such-conversation", "Failed"),
    ]
    found = await statuses(client, auth, *(u["uploadId"] for u in uploads))
    assert [s["successEntryCount"] for s in found] == [1, 0]


async def test_status_of_unknown_ids_and_the_100_limit(client: httpx2.AsyncClient, auth: Callable) -> None:
    """An unknown upload id has status NotFound; more than 100 ids is a 400."""
    (status,) = await statuses(client, auth, "not-an-upload")
    assert status["status"] == "NotFound"
    response = await client.get(UPLOAD, params={"uploadIds": ",".join(f"u{i}" for i in range(101))}, headers=auth())
    assert response.status_code == 400


async def test_a_body_that_is_not_multipart_is_415(client: httpx2.AsyncClient, auth: Callable) -> None:
    """The upload takes multipart/form-data only."""
    response = await client.post(UPLOAD, json={"conversation": "x"}, headers=auth())
    assert response.status_code == 415


async def test_a_large_upload_streams_in_bounded_memory(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """A 64 MB file, generated while it is sent, is stored whole while the server's traced memory peaks far
    below the file's size."""
    call_id = await create_call()
    await close_call(client, auth, call_id)
    text = "lorem ipsum dolor sit amet " * 150  # about 4 kB per entry
    target = 64 * 1024 * 1024
    sent = {"bytes": 0, "entries": 0}

    async def body() -> AsyncIterator[bytes]:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{INBOUND_KEY}"\r\n\r\n'
        yield (head + conversation_line()).encode()
        while sent["bytes"] < target:
            lines = "".join(
                entry_line(f"big-{sent['entries'] + i}", IN_CALL_MS + sent["entries"] + i, text) for i in range(16)
            ).encode()
            sent["bytes"] += len(lines)
            sent["entries"] += 16
            yield lines
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    tracemalloc.start()
    started_at = time.monotonic()
    try:
        response = await client.post(UPLOAD, content=body(), headers=headers_for(auth))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started_at
    assert response.status_code == 201, response.text
    (started,) = response.json()["conversationBulkUploads"]
    (status,) = await statuses(client, auth, started["uploadId"])
    assert status["successEntryCount"] == sent["entries"] and status["failedEntryCount"] == 0
    assert sent["bytes"] >= target
    assert peak < target / 4, f"peak {peak / 1e6:.1f} MB for a {target / 1e6:.0f} MB upload"
    assert elapsed < 60


async def test_a_body_cut_short_is_400(client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall) -> None:
    """A multipart body without its closing boundary answers 400 INVALID_MULTIPART."""
    call_id = await create_call()
    await close_call(client, auth, call_id)
    whole = multipart({INBOUND_KEY: conversation_line() + entry_line("u1", IN_CALL_MS)})
    cut = whole[: whole.rindex(b"--" + BOUNDARY.encode())]
    response = await client.post(UPLOAD, content=cut, headers=headers_for(auth))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_MULTIPART"


async def test_part_name_over_255_characters_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A part whose name (the conversation identifier, a stored key) is over 255 characters is a 400."""
    content = conversation_line("c" * 300)
    response = await client.post(UPLOAD, content=multipart({"c" * 300: content}), headers=headers_for(auth))
    assert response.status_code == 400, response.text


async def test_a_line_with_nul_fails_alone_and_a_long_id_is_reported_cut(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """A line holding U+0000 fails alone (never a failed write on PostgreSQL); an invalid entry with a 2,000
    character id is reported in errorDetail cut to its column, and the good entry is stored."""
    call_id = await create_call()
    await close_call(client, auth, call_id)
    content = (
        conversation_line()
        + entry_line("nul", IN_CALL_MS + 1000, text="bad\u0000text")
        + json.dumps({"type": "conversationEntry", "payload": {"id": "x" * 2000}})
        + "\n"
        + entry_line("ok", IN_CALL_MS + 2000)
    )
    response = await client.post(UPLOAD, content=multipart({INBOUND_KEY: content}), headers=headers_for(auth))
    assert response.status_code == 201, response.text
    (started,) = response.json()["conversationBulkUploads"]
    (status,) = await statuses(client, auth, started["uploadId"])
    assert (status["status"], status["successEntryCount"], status["failedEntryCount"]) == ("Completed", 1, 2)
    assert len(status["errorDetail"]) <= 1024
    assert [entry["messageId"] for entry in await stored(call_id)] == ["ok"]
