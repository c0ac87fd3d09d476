"""The transcript POSTs in the fast lane (callbridge.kit.fastlane): the same answers as FastAPI's route, the
token's jti recorded in the message's own transaction, and every case the lane is not sure of left to FastAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx2
from prometheus_client import REGISTRY

from callbridge.kit.state import AppState
from callbridge.transcripts.writer import transcript_writer
from tests.conftest import TokenFactory
from tests.transcripts.conftest import INBOUND_KEY, URL, message
from tests.transcripts.test_writer import wait_for, writer_blocked
from tests.voice_calls.conftest import CreateCall

TEMPLATE = "/telephony/v1/voiceCalls/{vendorCallKey}/messages"


def headers(token: str, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type, "Telephony-Provider-Name": "test"}


def xml_message(message_id: str) -> bytes:
    body = message(message_id)
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in body.items())
    return f"<TranscriptMessage>{fields}</TranscriptMessage>".encode()


def requests_counted(status: str) -> float:
    labels = {"method": "POST", "route": TEMPLATE, "status": status}
    return REGISTRY.get_sample_value("callbridge_http_requests_total", labels) or 0.0


async def post(client: httpx2.AsyncClient, key: str, token: str, body: Any, **kwargs: Any) -> httpx2.Response:
    content_type = kwargs.pop("content_type", "application/json")
    if isinstance(body, bytes):
        return await client.post(f"{URL}/{key}/messages", content=body, headers=headers(token, content_type))
    return await client.post(f"{URL}/{key}/messages", json=body, headers=headers(token, content_type))


async def test_json_and_xml_bodies_get_the_same_answers(
    client: httpx2.AsyncClient, make_token: TokenFactory, create_call: CreateCall
) -> None:
    """JSON is answered by the fast lane, XML by FastAPI's route: byte for byte the same status, headers that
    matter and body, for an accepted message and for an unknown call."""
    await create_call()
    fast = await post(client, INBOUND_KEY, make_token(), message("fast"))
    slow = await post(client, INBOUND_KEY, make_token(), xml_message("slow"), content_type="application/xml")
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content) == (200, b'{"result":"Accepted"}')
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
    fast = await post(client, "no-such-call", make_token(), message("x"))
    slow = await post(client, "no-such-call", make_token(), xml_message("x"), content_type="application/xml")
    assert fast.status_code == slow.status_code == 404
    assert fast.json() == slow.json()


async def test_a_token_without_its_body_problems_is_refused_first(
    client: httpx2.AsyncClient, make_token: TokenFactory, create_call: CreateCall
) -> None:
    """A body the lane cannot decode goes to FastAPI, which refuses a bad token before judging the body."""
    await create_call()
    bad_token = make_token(sub="NoSuchCallCenter")
    refused = await post(client, INBOUND_KEY, bad_token, b'{"messageId": ', content_type="application/json")
    assert refused.status_code == 401 and refused.json()["code"] == "UNKNOWN_CALL_CENTER"
    invalid = await post(client, INBOUND_KEY, make_token(), b'{"messageId": ', content_type="application/json")
    assert invalid.status_code == 400 and invalid.json()["code"] == "INVALID_JSON"


async def test_the_jti_of_a_stored_message_cannot_come_back(
    client: httpx2.AsyncClient, make_token: TokenFactory, create_call: CreateCall
) -> None:
    """The jti is recorded with the message: another token with the same jti is TOKEN_REPLAYED, and its
    message is not stored."""
    await create_call()
    assert (await post(client, INBOUND_KEY, make_token(jti="once"), message("m1"))).status_code == 200
    replayed = await post(client, INBOUND_KEY, make_token(jti="once", ttl=301), message("m2"))
    assert replayed.status_code == 401 and replayed.json()["code"] == "TOKEN_REPLAYED"
    assert "WWW-Authenticate" in replayed.headers
    again = await post(client, INBOUND_KEY, make_token(jti="twice"), message("m2"))
    assert again.status_code == 200
    stored = await client.get(f"{URL}/{INBOUND_KEY}/messages", headers=headers(make_token()))
    assert [entry["messageId"] for entry in stored.json()["entries"]] == ["m1", "m2"]


async def test_a_refused_body_still_uses_its_jti(
    client: httpx2.AsyncClient, make_token: TokenFactory, create_call: CreateCall
) -> None:
    """A message refused before the writer (400, or a VoiceCall id as key) spends its token's jti all the same."""
    call_id = await create_call()
    invalid = await post(client, INBOUND_KEY, make_token(jti="spent-1"), message("m1", senderType="ROBOT"))
    assert invalid.status_code == 400
    by_id = await post(client, call_id, make_token(jti="spent-2"), message("m1"))
    assert by_id.status_code == 404 and by_id.json()["code"] == "VENDOR_CALL_KEY_REQUIRED"
    for jti in ("spent-1", "spent-2"):
        replayed = await post(client, INBOUND_KEY, make_token(jti=jti, ttl=302), message("m1"))
        assert replayed.json()["code"] == "TOKEN_REPLAYED", jti


async def test_one_jti_in_one_batch_lets_exactly_one_message_through(
    client: httpx2.AsyncClient, make_token: TokenFactory, app_state_of: AppState, create_call: CreateCall
) -> None:
    """Two tokens with the same new jti whose messages land in one writer batch: one stored, one replayed."""
    await create_call()
    writer = transcript_writer(app_state_of)
    tokens = [make_token(jti="race", ttl=300), make_token(jti="race", ttl=301)]
    async with writer_blocked(app_state_of):
        sends = [
            asyncio.create_task(post(client, INBOUND_KEY, token, message(f"r{i}"))) for i, token in enumerate(tokens)
        ]
        await wait_for(lambda: writer.in_flight == 2)
    responses = await asyncio.gather(*sends)
    assert sorted(r.status_code for r in responses) == [200, 401]
    stored = await client.get(f"{URL}/{INBOUND_KEY}/messages", headers=headers(make_token()))
    assert len(stored.json()["entries"]) == 1


async def test_fast_lane_requests_are_counted_under_their_route(
    client: httpx2.AsyncClient, make_token: TokenFactory, create_call: CreateCall, auth: Callable[..., dict[str, str]]
) -> None:
    """/metrics counts the lane's requests under the route template, as it counts FastAPI's."""
    await create_call()
    before_ok, before_missing = requests_counted("200"), requests_counted("404")
    assert (await post(client, INBOUND_KEY, make_token(), message("counted"))).status_code == 200
    assert (await post(client, "no-such-call", make_token(), message("counted"))).status_code == 404
    assert requests_counted("200") == before_ok + 1
    assert requests_counted("404") == before_missing + 1
