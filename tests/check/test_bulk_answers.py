"""`callbridge check` reads bulk answers as Salesforce gives them: 202 {"result": "Accepted"}, and the 207
{"errorResponse": {"errorResponseEntries": [...]}} with one integer status per entry in request order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from callbridge.auth.certificates import KeyPair
from callbridge.check.transcripts import multi_status_problems
from callbridge.kit import ids
from tests.check.test_check import by_name, run_check
from tests.client.live import LiveServer, config_yaml
from tests.served import serve_contact_centre

# The body of Salesforce's own Contact Lens processor tests (telephonyIntegrationApi.test.js).
SALESFORCE_207 = {
    "errorResponse": {
        "errorResponseEntries": [
            {
                "vendorCallKey": "call-1",
                "status": 400,
                "message": "Error Processing Transcript with Id(s) [msg-1]. Error: io.grpc.StatusRuntimeException: "
                "RESOURCE_EXHAUSTED: Rate limit exceeded",
            },
            {"vendorCallKey": "call-2", "status": 202, "message": "Successfully Processed Transcripts"},
            {"vendorCallKey": "call-3", "status": 409, "message": "Transcription paused for participant"},
        ]
    }
}


def test_salesforces_207_has_no_problems() -> None:
    """The 207 of Salesforce's own tests is read as one well-formed result per entry."""
    assert multi_status_problems(SALESFORCE_207, ["call-1", "call-2", "call-3"]) == []


def test_a_207_out_of_request_order_is_a_problem() -> None:
    """Entries answered in another order than the request's are named as such."""
    (problem,) = multi_status_problems(SALESFORCE_207, ["call-2", "call-1", "call-3"])
    assert "not one per entry in request order" in problem


def test_a_string_status_is_a_problem() -> None:
    """A status that is not an integer HTTP status (the old "NOT_FOUND") is named with its index."""
    body: dict[str, Any] = {"errorResponse": {"errorResponseEntries": [{"vendorCallKey": "k", "status": "NOT_FOUND"}]}}
    assert multi_status_problems(body, ["k"]) == [
        "errorResponseEntries[0].status is 'NOT_FOUND', not an integer HTTP status",
        "errorResponseEntries[0].message is None, not a string",
    ]


def old_shape_app() -> FastAPI:
    """Creates calls, and answers bulk transcripts as Callbridge did before: 200, and its own 207 shape."""
    app = FastAPI()

    @app.post("/telephony/v1/voiceCalls")
    async def create() -> dict[str, Any]:
        return {"voiceCallId": ids.new_id(ids.VOICE_CALL), "errors": []}

    @app.post("/telephony/v1/voiceCalls/messages")
    async def bulk(body: dict[str, Any]) -> JSONResponse:
        keys = [entry["vendorCallKey"] for entry in body["entries"]]
        if not any("nobody" in key for key in keys):
            return JSONResponse({"result": "Accepted"})
        results = [{"vendorCallKey": key, "status": "NOT_FOUND", "message": "?"} for key in keys]
        return JSONResponse({"result": "PartiallyAccepted", "entries": results}, status_code=207)

    return app


def test_old_bulk_answers_fail_with_the_reason(serve_app: Callable[[FastAPI], str], server: LiveServer) -> None:
    """Against a server answering bulk 200 and a 207 of another shape, transcript.bulk and transcript.bulk_partial
    fail saying what Salesforce's clients expect instead."""
    _, report = run_check(serve_app(old_shape_app()), server.key_path, "--only", "transcript.bulk*")
    results = by_name(report)
    assert results["transcript.bulk"]["status"] == "fail"
    assert results["transcript.bulk"]["reason"].startswith("expected 202, got 200")
    assert results["transcript.bulk_partial"]["status"] == "fail"
    assert "is not {errorResponse: {errorResponseEntries: [...]}}" in results["transcript.bulk_partial"]["reason"]


def test_contact_lens_check_is_skipped_below_its_size(server: LiveServer) -> None:
    """Told the server takes 5 messages per entry, the Contact Lens check is skipped naming the option."""
    options = ["--only", "transcript.bulk_contact_lens", "--bulk-max-messages", "5"]
    status, report = run_check(server.url, server.key_path, *options)
    result = by_name(report)["transcript.bulk_contact_lens"]
    assert status == 0 and result["status"] == "skip" and "--bulk-max-messages" in result["reason"]


@pytest.fixture(scope="module")
def salesforce_profile_server(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[str]:
    """`callbridge serve` with CALLBRIDGE_LIMITS=salesforce (the contact centre of tests.client.live); its URL."""
    directory = tmp_path_factory.mktemp("salesforce-profile")
    with serve_contact_centre(directory, key_pair, config_yaml(), {"CALLBRIDGE_LIMITS": "salesforce"}) as served:
        yield served.url


def test_bulk_checks_pass_against_the_salesforce_profile(salesforce_profile_server: str, server: LiveServer) -> None:
    """Against a server run with CALLBRIDGE_LIMITS=salesforce and told its limits are 5 x 5, the bulk checks pass
    (6 entries, and 6 messages in an entry, are 400 BULK_LIMIT_EXCEEDED) and the Contact Lens check is skipped."""
    options = ["--only", "transcript.bulk*", "--bulk-max-entries", "5", "--bulk-max-messages", "5"]
    status, report = run_check(salesforce_profile_server, server.key_path, *options)
    results = {name: result["status"] for name, result in by_name(report).items()}
    assert status == 0
    assert results["transcript.bulk"] == results["transcript.bulk_limits"] == "pass"
    assert results["transcript.bulk_partial"] == "pass"
    assert results["transcript.bulk_contact_lens"] == "skip"
