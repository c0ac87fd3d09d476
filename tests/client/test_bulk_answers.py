"""send_transcripts reads Salesforce's own bulk answers (the bodies of its Contact Lens processor's tests), served
by a scripted fake server (httpx2.MockTransport): a real Salesforce cannot be run in a test."""

from __future__ import annotations

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.client import (
    AsyncCallbridgeClient,
    BulkTranscriptEntry,
    BulkTranscriptsAccepted,
    BulkTranscriptsMultiStatus,
    TokenSigner,
    TranscriptMessage,
    UnexpectedResponse,
)
from tests.client.test_retries import Script, Sleeps

EXHAUSTED = (
    "Error Processing Transcript with Id(s) [msg-1]. Error: io.grpc.StatusRuntimeException: "
    "RESOURCE_EXHAUSTED: Rate limit exceeded"
)
SALESFORCE_207 = {
    "result": "Multi-Status: A few messages were not processed",
    "errorResponse": {
        "errorResponseEntries": [
            {"vendorCallKey": "call-1", "status": 400, "message": EXHAUSTED},
            {"vendorCallKey": "call-2", "status": 202, "message": "Successfully Processed Transcripts"},
            {"vendorCallKey": "call-3", "status": 409, "message": "Transcription paused for participant"},
        ]
    },
}
ENTRIES = [
    BulkTranscriptEntry(vendor_call_key=key, messages=[TranscriptMessage(content="hi")])
    for key in ("call-1", "call-2", "call-3")
]


@pytest.fixture
def signer(key_pair: KeyPair) -> TokenSigner:
    return TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC")


async def send(signer: TokenSigner, answer: httpx2.Response) -> BulkTranscriptsAccepted | BulkTranscriptsMultiStatus:
    transport = httpx2.MockTransport(Script(answer))
    async with AsyncCallbridgeClient("http://fake.test", signer, transport=transport, sleep=Sleeps()) as client:
        return await client.send_transcripts(ENTRIES)


async def test_202_is_accepted(signer: TokenSigner) -> None:
    """202 {"result": "Accepted"} is BulkTranscriptsAccepted: accepted, no entries, nothing to retry."""
    answer = await send(signer, httpx2.Response(202, json={"result": "Accepted"}))
    assert isinstance(answer, BulkTranscriptsAccepted)
    assert (answer.accepted, answer.entries, answer.rate_limited_keys) == (True, [], [])


async def test_salesforces_207_is_typed_per_entry(signer: TokenSigner) -> None:
    """Salesforce's 207 is BulkTranscriptsMultiStatus: an integer status and message per entry, in order; the
    RESOURCE_EXHAUSTED entry is the one to retry."""
    answer = await send(signer, httpx2.Response(207, json=SALESFORCE_207))
    assert isinstance(answer, BulkTranscriptsMultiStatus) and not answer.accepted
    assert [(e.vendor_call_key, e.status, e.rate_limited) for e in answer.entries] == [
        ("call-1", 400, True),
        ("call-2", 202, False),
        ("call-3", 409, False),
    ]
    assert answer.entries[0].message == EXHAUSTED
    assert answer.rate_limited_keys == ["call-1"]


async def test_a_207_of_another_shape_is_unexpected(signer: TokenSigner) -> None:
    """A 207 without errorResponse raises UnexpectedResponse naming the missing field."""
    old = {"result": "PartiallyAccepted", "entries": [{"vendorCallKey": "call-1", "status": "NOT_FOUND"}]}
    with pytest.raises(UnexpectedResponse, match="errorResponse"):
        await send(signer, httpx2.Response(207, json=old))
