"""Retries and error mapping, against a scripted fake server (httpx2.MockTransport) and a fake sleep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import jwt
import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.client import (
    AsyncCallbridgeClient,
    CallbackRequest,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TokenSigner,
    TranscriptMessage,
    TransportError,
    UnexpectedResponse,
    VoiceCallCreate,
)
from callbridge.client.transport import api_root, retry_after_seconds


class Script:
    """Answers requests in turn and keeps what was sent."""

    def __init__(self, *answers: httpx2.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json={"code": code, "message": code.lower(), "errors": []}, headers=headers)


@pytest.fixture
def signer(key_pair: KeyPair) -> TokenSigner:
    return TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC")


def make_client(
    signer: TokenSigner, script: Script, sleeps: Sleeps, retry: RetryPolicy = RetryPolicy()
) -> AsyncCallbridgeClient:
    return AsyncCallbridgeClient(
        "http://fake.test", signer, transport=httpx2.MockTransport(script), sleep=sleeps, retry=retry
    )


ACCEPTED = httpx2.Response(200, json={"result": "Accepted"})


async def test_429_waits_for_retry_after_and_resends_the_same_message(signer: TokenSigner) -> None:
    """A 429 with Retry-After is retried after that many seconds, with the same messageId and a new token."""
    script, sleeps = Script(error(429, "RATE_LIMITED", {"Retry-After": "2"}), ACCEPTED), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        answer = await client.send_transcript("c-1", TranscriptMessage(content="hi"))
    assert answer.result == "Accepted"
    assert sleeps == [2.0]
    first, second = script.requests
    assert json.loads(first.content)["messageId"] == json.loads(second.content)["messageId"]
    tokens = [r.headers["Authorization"].removeprefix("Bearer ") for r in script.requests]
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 2


async def test_503_backs_off_then_gives_up(signer: TokenSigner) -> None:
    """Without Retry-After the wait doubles; after max_attempts the last error is raised with its code."""
    script = Script(*(error(503, "OVERLOADED") for _ in range(3)))
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=3, backoff_seconds=0.5)
    async with make_client(signer, script, sleeps, retry=retry) as client:
        with pytest.raises(ServerError) as raised:
            await client.send_transcript("c-1", TranscriptMessage(content="hi"))
    assert (raised.value.status, raised.value.code) == (503, "OVERLOADED")
    assert sleeps == [0.5, 1.0]
    assert len(script.requests) == 3


async def test_500_is_retried_only_when_repeating_is_safe(signer: TokenSigner) -> None:
    """A transcript (same messageId) is retried after a 500; a callback request, which may have been created,
    is not."""
    script, sleeps = Script(error(500, "INTERNAL_ERROR"), ACCEPTED), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        await client.send_transcript("c-1", TranscriptMessage(content="hi"))
    assert len(script.requests) == 2

    script, sleeps = Script(error(500, "INTERNAL_ERROR")), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        with pytest.raises(ServerError):
            await client.request_callback("c-1", CallbackRequest(callback_number="+14155550123"))
    assert len(script.requests) == 1


async def test_transfer_leg_is_not_resent_after_a_500(signer: TokenSigner) -> None:
    """A first-leg create is idempotent and retried; a transfer leg is not (a resend would add a leg)."""
    created = httpx2.Response(200, json={"voiceCallId": "0LQXX0000000001AAA", "errors": []})
    script, sleeps = Script(error(502, "BAD_GATEWAY"), created), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        await client.create_voice_call(VoiceCallCreate(vendor_call_key="c-1", from_="+1", to="+2"))
    assert len(script.requests) == 2

    script, sleeps = Script(error(502, "BAD_GATEWAY")), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        with pytest.raises(ServerError):
            await client.create_voice_call(
                VoiceCallCreate(vendor_call_key="c-2", from_="+1", to="+2", parent_voice_call_id="c-1")
            )
    assert len(script.requests) == 1


async def test_a_retry_after_beyond_the_limit_is_raised_at_once(signer: TokenSigner) -> None:
    """A Retry-After longer than max_retry_after_seconds is not waited for; the error carries it."""
    script, sleeps = Script(error(429, "RATE_LIMITED", {"Retry-After": "3600"})), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        with pytest.raises(RateLimitError) as raised:
            await client.send_transcript("c-1", TranscriptMessage(content="hi"))
    assert raised.value.retry_after == 3600.0
    assert sleeps == []


async def test_connection_refused_is_retried_then_a_transport_error(signer: TokenSigner) -> None:
    """A connection that never opened is retried (nothing was sent), then TransportError."""
    refused = httpx2.ConnectError("connection refused")
    script, sleeps = Script(refused, refused), Sleeps()
    async with make_client(signer, script, sleeps, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(TransportError):
            await client.request_callback("c-1", CallbackRequest(callback_number="+1"))
    assert len(script.requests) == 2


async def test_a_success_with_the_wrong_body_is_an_unexpected_response(signer: TokenSigner) -> None:
    """A 200 that is not JSON, or lacks voiceCallId, is UnexpectedResponse naming what is wrong."""
    script, sleeps = Script(httpx2.Response(200, text="<html>ok</html>"), httpx2.Response(200, json={})), Sleeps()
    async with make_client(signer, script, sleeps) as client:
        with pytest.raises(UnexpectedResponse, match="not JSON"):
            await client.create_voice_call(VoiceCallCreate(vendor_call_key="c-1", from_="+1", to="+2"))
        with pytest.raises(UnexpectedResponse, match="voiceCallId"):
            await client.create_voice_call(VoiceCallCreate(vendor_call_key="c-1", from_="+1", to="+2"))


async def test_clear_routing_sends_the_literal_null(signer: TokenSigner) -> None:
    """clearRouting and reroute send the 4-byte body null with Content-Type JSON, as axios does."""
    script = Script(httpx2.Response(200, json={"status": "Success"}), httpx2.Response(200, json={"status": "Success"}))
    async with make_client(signer, script, Sleeps()) as client:
        await client.clear_routing("c-1")
        await client.reroute("c-1")
    assert [(r.method, r.url.path, r.content) for r in script.requests] == [
        ("PATCH", "/telephony/v1/voiceCalls/c-1/clearRouting", b"null"),
        ("PATCH", "/telephony/v1/voiceCalls/c-1/reroute", b"null"),
    ]
    assert script.requests[0].headers["Content-Type"] == "application/json"


def test_retry_after_as_an_http_date() -> None:
    """Retry-After may be an HTTP date; it is read as the seconds until then."""
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx2.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    seconds = retry_after_seconds(response)
    assert seconds is not None and 25 <= seconds <= 30


@pytest.mark.parametrize(
    "given",
    ["http://h:1", "http://h:1/", "http://h:1/telephony/v1", "http://h:1/telephony/v1/", "http://h:1/console/v1"],
)
def test_api_root_accepts_the_root_or_an_api_base(given: str) -> None:
    """The root and SCRT_ENDPOINT_BASE-style URLs name the same server."""
    assert api_root(given) == "http://h:1"
