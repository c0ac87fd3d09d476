"""XML bodies: any DOCTYPE is refused (an external identifier included), and so is nesting deeper than 64
elements, with 400 INVALID_XML naming the reason, before anything is built from the document."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from callbridge.kit.bodies import XML_MAX_DEPTH

URL = "/telephony/v1/voiceCalls"
CREATE = (
    "<VoiceCall><callCenterApiName>ConformanceCC</callCenterApiName><vendorCallKey>{key}</vendorCallKey>"
    "<to>+18005550199</to><from>+14155550123</from><initiationMethod>Inbound</initiationMethod>"
    "<startTime>2026-11-24T18:15:55Z</startTime>"
    "<participants><participantKey>+14155550123</participantKey><type>END_USER</type></participants>"
    "{extra}</VoiceCall>"
)


def xml_headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return {**auth(), "Content-Type": "application/xml"}


def nested(depth: int) -> str:
    """``depth`` levels of elements in all, the root included."""
    levels = depth - 1
    return CREATE.format(key="deep-1", extra="<callAttributes>" * levels + "x" + "</callAttributes>" * levels)


async def test_doctype_with_external_identifier_is_refused(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A DTD named by an external identifier (SYSTEM), without any entity, is a 400 INVALID_XML naming the DOCTYPE."""
    body = '<?xml version="1.0"?><!DOCTYPE VoiceCall SYSTEM "http://attacker.example/x.dtd">' + CREATE.format(
        key="dtd-1", extra=""
    )
    response = await client.post(URL, content=body, headers=xml_headers(auth))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_XML"
    assert "DOCTYPE" in response.json()["message"]


async def test_doctype_with_public_identifier_is_refused(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A DTD named by a PUBLIC identifier is refused alike."""
    body = '<!DOCTYPE VoiceCall PUBLIC "-//A//DTD X//EN" "http://attacker.example/x.dtd">' + CREATE.format(
        key="dtd-2", extra=""
    )
    response = await client.post(URL, content=body, headers=xml_headers(auth))
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["errors"][0]


async def test_internal_doctype_without_entities_is_refused(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """Even an internal DTD declaring only elements is refused: DTDs are refused, whatever they hold."""
    body = "<!DOCTYPE VoiceCall [<!ELEMENT VoiceCall ANY>]>" + CREATE.format(key="dtd-3", extra="")
    response = await client.post(URL, content=body, headers=xml_headers(auth))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_XML"


async def test_deeply_nested_xml_is_refused(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """XML nested 10,000 elements deep is a 400 INVALID_XML naming the depth, never a 500."""
    response = await client.post(URL, content=nested(10_000), headers=xml_headers(auth))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_XML"
    assert f"more than {XML_MAX_DEPTH} deep" in response.json()["message"]


async def test_nesting_just_over_the_limit_is_refused(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """One level more than the limit is refused for its depth."""
    response = await client.post(URL, content=nested(XML_MAX_DEPTH + 1), headers=xml_headers(auth))
    assert response.status_code == 400
    assert "deep" in response.json()["message"]


async def test_nesting_at_the_limit_is_not_refused_for_depth(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A document exactly at the limit is parsed: whatever it answers (a field's own depth limit may still refuse
    what it holds), the XML depth check is not the reason."""
    response = await client.post(URL, content=nested(XML_MAX_DEPTH), headers=xml_headers(auth))
    assert response.status_code < 500
    assert response.json().get("code") != "INVALID_XML"
    assert f"more than {XML_MAX_DEPTH} deep" not in response.text


async def test_plain_xml_is_still_accepted(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """An XML create without a DOCTYPE, with an XML declaration, still creates the call."""
    body = '<?xml version="1.0" encoding="UTF-8"?>' + CREATE.format(key="plain-xml-1", extra="")
    response = await client.post(URL, content=body, headers=xml_headers(auth))
    assert response.status_code == 200, response.text
    assert response.json()["voiceCallId"].startswith("0LQ")
