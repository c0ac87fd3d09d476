"""The three GETs of the 2026 Lambdas: defaultOutboundPhoneNumber, voicemailGreeting and voicemailDrop (none
picked), as the Lambdas send them (a URL-encoded ARN, a Content-Type on a body-less GET)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx2

from tests.outbound.conftest import ALICE_ARN, ALICE_NUMBER, BRUNO_ARN, CENTER_NUMBER, GREETING

BASE = "/telephony/v1/voiceCalls"


async def test_default_outbound_number_is_the_agents_own(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """An agent with a default_outbound_number, named by the ARN the Lambda URL-encodes, gets theirs."""
    response = await client.get(
        f"{BASE}/defaultOutboundPhoneNumber?externalRepId={quote(ALICE_ARN, safe='')}", headers=auth()
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"phoneNumber": ALICE_NUMBER}


async def test_default_outbound_number_falls_back_to_the_call_center(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """An agent without a number of their own gets the call center's default_outbound_number."""
    response = await client.get(
        f"{BASE}/defaultOutboundPhoneNumber", params={"externalRepId": BRUNO_ARN}, headers=auth()
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"phoneNumber": CENTER_NUMBER}


async def test_default_outbound_number_of_an_unknown_agent_is_the_call_centers(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """An external id no agent has still gets the call center's default."""
    response = await client.get(
        f"{BASE}/defaultOutboundPhoneNumber", params={"externalRepId": "nobody"}, headers=auth()
    )
    assert response.json() == {"phoneNumber": CENTER_NUMBER}


async def test_default_outbound_number_without_any_is_404(
    client: httpx2.AsyncClient, other_token: Callable[..., str]
) -> None:
    """A call center with no default and an agent without one: 404 DEFAULT_OUTBOUND_NUMBER_NOT_FOUND."""
    response = await client.get(
        f"{BASE}/defaultOutboundPhoneNumber",
        params={"externalRepId": BRUNO_ARN},
        headers={"Authorization": f"Bearer {other_token()}"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "DEFAULT_OUTBOUND_NUMBER_NOT_FOUND"


async def test_default_outbound_number_without_external_rep_id_is_400(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A missing externalRepId is 400 naming it."""
    response = await client.get(f"{BASE}/defaultOutboundPhoneNumber", headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["externalRepId: is required (a query parameter)"]


async def test_default_outbound_number_needs_a_token(client: httpx2.AsyncClient) -> None:
    """Without a bearer token: 401, as every telephony endpoint."""
    response = await client.get(f"{BASE}/defaultOutboundPhoneNumber", params={"externalRepId": ALICE_ARN})
    assert response.status_code == 401


async def test_voicemail_greeting_of_the_dialed_numbers_channel(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """The phone channel of the dialed number answers its voicemail_greeting_url."""
    response = await client.get(f"{BASE}/voicemailGreeting", params={"toPhoneNumber": "+14155550100"}, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json() == {"greetingUrl": GREETING}


async def test_voicemail_greeting_takes_a_plus_that_arrived_as_a_space(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """An unencoded `+` in the query string (read as a space) is taken as the `+` it was."""
    response = await client.get(f"{BASE}/voicemailGreeting?toPhoneNumber=+14155550100", headers=auth())
    assert response.status_code == 200, response.text
    assert response.json() == {"greetingUrl": GREETING}


async def test_voicemail_greeting_of_a_channel_without_one_is_404(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A channel with no greeting configured: 404 VOICEMAIL_GREETING_NOT_FOUND."""
    response = await client.get(f"{BASE}/voicemailGreeting", params={"toPhoneNumber": "+14155550300"}, headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "VOICEMAIL_GREETING_NOT_FOUND"


async def test_voicemail_greeting_of_another_call_centers_number_is_404(
    client: httpx2.AsyncClient, other_token: Callable[..., str]
) -> None:
    """Another call center's token never sees this call center's greeting."""
    response = await client.get(
        f"{BASE}/voicemailGreeting",
        params={"toPhoneNumber": "+14155550100"},
        headers={"Authorization": f"Bearer {other_token()}"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "VOICEMAIL_GREETING_NOT_FOUND"


async def test_voicemail_greeting_without_a_number_is_400(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A missing toPhoneNumber is 400 naming it."""
    response = await client.get(f"{BASE}/voicemailGreeting", headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["toPhoneNumber: is required (a query parameter)"]


async def test_voicemail_drop_of_an_unknown_call_is_404_voice_call_not_found(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """An unknown contact id: 404 VOICE_CALL_NOT_FOUND."""
    response = await client.get(f"{BASE}/no-such-contact/voicemailDrop", headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_voicemail_drop_when_none_was_picked_is_404(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], create_call: Callable[..., object]
) -> None:
    """A call with no drop picked: 404 VOICEMAIL_DROP_NOT_FOUND (the Lambda's "no drop")."""
    await create_call(vendorCallKey="contact-without-drop")
    response = await client.get(f"{BASE}/contact-without-drop/voicemailDrop", headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "VOICEMAIL_DROP_NOT_FOUND"


async def test_the_voice_call_read_still_answers_calls(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], create_call: Callable[..., object]
) -> None:
    """Registering the literal paths first leaves GET /voiceCalls/{id} reading calls."""
    await create_call(vendorCallKey="plain-call")
    response = await client.get(f"{BASE}/plain-call", headers=auth())
    assert response.status_code == 200
    assert response.json()["vendorCallKey"] == "plain-call"


async def test_a_nul_in_external_rep_id_is_400(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """A NUL (which PostgreSQL cannot compare) is refused as client input, never a 500."""
    response = await client.get(f"{BASE}/defaultOutboundPhoneNumber?externalRepId=a%00b", headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["externalRepId: contains a NUL character (U+0000)"]


async def test_an_overlong_to_phone_number_is_400(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A toPhoneNumber longer than any dialed number can be is refused naming it."""
    response = await client.get(f"{BASE}/voicemailGreeting", params={"toPhoneNumber": "1" * 65}, headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("toPhoneNumber: ")


async def test_a_nul_in_the_drops_call_id_is_404(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A call id with a NUL names no call: 404 VOICE_CALL_NOT_FOUND."""
    response = await client.get(f"{BASE}/a%00b/voicemailDrop", headers=auth())
    assert (response.status_code, response.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND")
