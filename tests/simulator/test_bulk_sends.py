"""The simulator reads bulk answers as the Contact Lens processor does: 409 (transcription paused) is the drop the
plan expects, RESOURCE_EXHAUSTED entries are sent again (after 5, 10 and 20 s), anything else refused is a failed
send. Served by a scripted fake server (httpx2.MockTransport) so that each answer can be chosen."""

from __future__ import annotations

import json
from importlib import resources
from typing import cast

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.client import AsyncCallbridgeClient, BulkTranscriptEntry, TokenSigner, TranscriptMessage
from callbridge.simulator import calls
from callbridge.simulator.agents import Switchboard
from callbridge.simulator.scenarios import plan_calls
from callbridge.simulator.site import load_site
from callbridge.simulator.stats import CallRecord, Stats
from tests.client.test_retries import Script, Sleeps

KEY = "call-1"
EXHAUSTED = (
    "Error Processing Transcript with Id(s) [m1]. Error: io.grpc.StatusRuntimeException: "
    "RESOURCE_EXHAUSTED: Rate limit exceeded"
)
ACCEPTED = httpx2.Response(202, json={"result": "Accepted"})


def multi_status(status: int, message: str) -> httpx2.Response:
    entry = {"vendorCallKey": KEY, "status": status, "message": message}
    return httpx2.Response(207, json={"errorResponse": {"errorResponseEntries": [entry]}})


async def send(key_pair: KeyPair, *answers: httpx2.Response) -> tuple[calls.Call, Script]:
    """One bulk send of one utterance by a simulated call, against ``answers``."""
    with resources.as_file(resources.files("callbridge.demo") / "contact-center.yaml") as path:
        site = load_site(path)
    script = Script(*answers)
    signer = TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC")
    client = AsyncCallbridgeClient("http://fake.test", signer, transport=httpx2.MockTransport(script), sleep=Sleeps())
    async with client:
        ctx = calls.RunContext(
            client=client, switchboard=cast(Switchboard, None), stats=Stats(), agents=[], site=site, run_id="t"
        )
        call = calls.Call(ctx, CallRecord(plan_calls(1, 1, site)[0], KEY))
        await call.send_bulk(BulkTranscriptEntry(vendor_call_key=KEY, messages=[TranscriptMessage(content="hi")]))
    return call, script


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "RATE_LIMIT_RETRIES", (0.0, 0.0, 0.0))


async def test_paused_entry_is_not_a_failure(key_pair: KeyPair) -> None:
    """A 409 'Transcription paused for participant' entry is the expected drop: no failure, no error counted."""
    call, _ = await send(key_pair, multi_status(409, "Transcription paused for participant"))
    assert (call.record.send_failures, dict(call.stats.errors)) == (0, {})


async def test_unknown_call_entry_is_a_failure(key_pair: KeyPair) -> None:
    """A 404 entry is a failed send, counted as ('207', '404')."""
    call, _ = await send(key_pair, multi_status(404, "No VoiceCall with vendorCallKey 'call-1'."))
    assert (call.record.send_failures, dict(call.stats.errors)) == (1, {("207", "404"): 1})


async def test_rate_limited_entry_is_sent_again(key_pair: KeyPair) -> None:
    """RESOURCE_EXHAUSTED then 202: the entry is sent twice with the same messageId, and the send succeeded."""
    call, script = await send(key_pair, multi_status(400, EXHAUSTED), ACCEPTED)
    sent = [json.loads(request.content)["entries"][0]["messages"][0]["messageId"] for request in script.requests]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert (call.record.send_failures, dict(call.stats.errors)) == (0, {("207", "RESOURCE_EXHAUSTED"): 1})


async def test_rate_limited_four_times_is_a_failure(key_pair: KeyPair) -> None:
    """Refused on the first send and the three retries: four requests, then a failed send."""
    call, script = await send(key_pair, *(multi_status(400, EXHAUSTED) for _ in range(4)))
    assert len(script.requests) == 4
    assert (call.record.send_failures, dict(call.stats.errors)) == (1, {("207", "RESOURCE_EXHAUSTED"): 4})
