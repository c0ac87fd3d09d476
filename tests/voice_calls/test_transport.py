"""Transport quirks of real clients (real-clients.md §9) and the error contract (decisions.md "Responses")."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2

from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"

XML_CREATE = """<?xml version="1.0" encoding="UTF-8"?>
<VoiceCall>
  <callCenterApiName>ConformanceCC</callCenterApiName>
  <vendorCallKey>xml-key-1</vendorCallKey>
  <to>+18005550199</to>
  <from>+14155550123</from>
  <initiationMethod>Inbound</initiationMethod>
  <startTime>2026-11-24T18:15:55Z</startTime>
  <callAttributes>{"Department__c":"Billing"}</callAttributes>
  <participants><participantKey>+14155550123</participantKey><type>END_USER</type></participants>
</VoiceCall>"""


def headers(auth: Callable, **extra: str) -> dict[str, str]:
    return {**auth(), **extra}


async def test_trailing_slash_is_served(client: httpx2.AsyncClient, auth: Callable) -> None:
    """`POST /voiceCalls/` answers like `/voiceCalls` (no redirect)."""
    response = await client.post(f"{URL}/", json=payload("lambda_create_inbound"), headers=auth())
    assert response.status_code == 200


async def test_json_with_utf8_parameter(client: httpx2.AsyncClient, auth: Callable) -> None:
    """`Content-Type: application/json; utf-8` (the Java transcriber's spelling) is JSON."""
    body = json.dumps(payload("lambda_create_inbound")).encode()
    response = await client.post(
        URL, content=body, headers=headers(auth, **{"Content-Type": "application/json; utf-8"})
    )
    assert response.status_code == 200


async def test_missing_provider_header_is_accepted(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """Telephony-Provider-Name is optional; the timeline names the actor `telephony:unnamed`."""
    call_id = await create_call()
    plain = {k: v for k, v in auth().items() if k != "Telephony-Provider-Name"}
    response = await client.patch(f"{URL}/{call_id}", json={"isActiveCall": True}, headers=plain)
    assert response.status_code == 200
    entries = (await client.get(f"{URL}/{call_id}/timeline", headers=auth())).json()["entries"]
    assert entries[-1]["actor"] == "telephony:unnamed"


async def test_literal_null_body_on_update(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """The 4-byte body `null` (axios with data=null) is an empty update."""
    call_id = await create_call()
    response = await client.patch(f"{URL}/{call_id}", content=b"null", headers=auth())
    assert response.status_code == 200
    assert (await read_call(call_id))["callDisposition"] == "completed"


async def test_xml_create(client: httpx2.AsyncClient, auth: Callable, read_call: Callable) -> None:
    """An application/xml body with the JSON property names creates the call like JSON does."""
    response = await client.post(URL, content=XML_CREATE, headers=headers(auth, **{"Content-Type": "application/xml"}))
    assert response.status_code == 200, response.text
    call = await read_call(response.json()["voiceCallId"])
    assert call["vendorCallKey"] == "xml-key-1"
    assert call["callAttributes"] == {"Department__c": "Billing"}


async def test_xml_update_with_typed_values(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """XML text values become numbers, booleans and nested objects where the field needs them."""
    call_id = await create_call()
    xml = (
        "<VoiceCall><totalHoldDuration>12</totalHoldDuration><isActiveCall>true</isActiveCall>"
        "<disconnectReason><value>CALLBACK</value><isError>false</isError></disconnectReason></VoiceCall>"
    )
    response = await client.patch(
        f"{URL}/{call_id}", content=xml, headers=headers(auth, **{"Content-Type": "text/xml"})
    )
    assert response.status_code == 200, response.text
    call = await read_call(call_id)
    assert call["customerHoldDuration"] == 12 and call["isActiveCall"] is True
    assert call["disconnectReason"] == {"value": "CALLBACK", "isError": False}


async def test_xml_entities_are_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """An XML body with an external entity (XXE) or an entity bomb is a 400 INVALID_XML; nothing is read."""
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<VoiceCall><vendorCallKey>&x;</vendorCallKey></VoiceCall>"
    )
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<VoiceCall><vendorCallKey>&b;</vendorCallKey></VoiceCall>"
    )
    for body in (xxe, bomb):
        response = await client.post(URL, content=body, headers=headers(auth, **{"Content-Type": "application/xml"}))
        assert response.status_code == 400
        assert response.json()["code"] == "INVALID_XML"
        assert "root:" not in response.text


async def test_malformed_json_is_400(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A body that is not JSON is a 400 INVALID_JSON, never a 500."""
    response = await client.post(URL, content=b'{"vendorCallKey": ', headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


async def test_json_that_is_not_an_object_is_400(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A JSON array or string body is a 400 saying the body must be an object."""
    response = await client.post(URL, content=b"[1,2]", headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["body: must be an object, not list"]


async def test_empty_create_body_lists_required_fields(client: httpx2.AsyncClient, auth: Callable) -> None:
    """An empty create body is a 400 listing every required field (not a 500)."""
    response = await client.post(URL, content=b"", headers=auth())
    assert response.status_code == 400
    fields = {e.split(":")[0] for e in response.json()["errors"]}
    assert fields == {"callCenterApiName", "vendorCallKey", "initiationMethod", "startTime", "participants"}


async def test_unsupported_content_type_is_415(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A form-encoded body is a 415 naming what is accepted."""
    response = await client.post(
        URL, content=b"a=b", headers=headers(auth, **{"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_body_over_limit_is_413(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A body over 1 MiB is a 413 and is not parsed."""
    body = payload("lambda_create_inbound", callAttributes=json.dumps({"Big__c": "x" * (1024 * 1024)}))
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_unknown_path_is_404_with_error_body(client: httpx2.AsyncClient, auth: Callable) -> None:
    """Unknown routes answer with the same error body shape."""
    response = await client.get("/telephony/v1/nothingHere", headers=auth())
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "errors"}


async def test_wrong_method_is_405_with_error_body(client: httpx2.AsyncClient, auth: Callable) -> None:
    """DELETE on a VoiceCall is a 405 with the error body."""
    response = await client.delete(f"{URL}/anything", headers=auth())
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_missing_token_is_401_before_the_body_is_read(client: httpx2.AsyncClient) -> None:
    """No Authorization header: 401 TOKEN_MISSING with WWW-Authenticate, even with a broken body."""
    response = await client.post(URL, content=b"{broken", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_MISSING"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_nul_character_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A string holding U+0000 (which PostgreSQL cannot store) is a 400 naming the problem, on every backend."""
    body = payload("lambda_create_inbound", vendorCallKey="nul\u0000key")
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["body: contains a NUL character (U+0000), which cannot be stored"]


async def test_json_and_xml_creates_answer_alike(
    client: httpx2.AsyncClient, auth: Callable, read_call: Callable
) -> None:
    """A JSON create is answered by the fast lane, an XML one by FastAPI's route: the same answer, for a new
    call and for the idempotent repeat, and the same stored call."""
    xml_headers = headers(auth, **{"Content-Type": "application/xml"})
    json_body = {
        "callCenterApiName": "ConformanceCC",
        "vendorCallKey": "json-key-1",
        "to": "+18005550199",
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": "2026-11-24T18:15:55Z",
        "callAttributes": '{"Department__c":"Billing"}',
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
    }
    for _ in range(2):  # created, then the repeat answered with the same id
        slow = await client.post(URL, content=XML_CREATE, headers=xml_headers)
        fast = await client.post(URL, json=json_body, headers=headers(auth))
        assert fast.status_code == slow.status_code == 200
        assert fast.headers["content-type"] == slow.headers["content-type"]
        assert set(fast.json()) == set(slow.json()) == {"voiceCallId", "errors"}
        assert fast.json()["errors"] == slow.json()["errors"] == []
    from_xml = await read_call(slow.json()["voiceCallId"])
    from_json = await read_call(fast.json()["voiceCallId"])
    different = {"id", "vendorCallKey", "conversationId", "conversation", "createdAt", "updatedAt", "legs"}
    assert {k: v for k, v in from_json.items() if k not in different} == {
        k: v for k, v in from_xml.items() if k not in different
    }
