"""The client's methods for the newest endpoints, against a real server process."""

from __future__ import annotations

from callbridge.client import (
    AsyncCallbridgeClient,
    CallbridgeClient,
    RoutableNumberContext,
    RoutableNumberReserve,
    TokenSigner,
    VoiceCallContextDetails,
    VoiceCallContextRequest,
    VoiceCallCreate,
)
from tests.client.live import DIALED_NUMBER, GREETING_URL, OUTBOUND_NUMBER, ROUTABLE_NUMBERS, LiveServer


async def test_get_default_outbound_phone_number(client: AsyncCallbridgeClient) -> None:
    """An agent without a number of their own gets the call center's."""
    answer = await client.get_default_outbound_phone_number("arn:aws:connect:us-east-1:1:instance/x/agent/y")
    assert answer.phone_number == OUTBOUND_NUMBER


async def test_get_voicemail_greeting(client: AsyncCallbridgeClient) -> None:
    """The dialed number's channel greeting."""
    assert (await client.get_voicemail_greeting(DIALED_NUMBER)).greeting_url == GREETING_URL


async def test_get_voicemail_drop_is_none_when_none_was_picked(client: AsyncCallbridgeClient, key: str) -> None:
    """The 404 VOICEMAIL_DROP_NOT_FOUND is None, as the Lambda reads "no drop"."""
    await client.create_voice_call(VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+14155550123"))
    assert await client.get_voicemail_drop(key) is None


async def test_reserve_routable_number(client: AsyncCallbridgeClient) -> None:
    """A number of the pool, in mode "number"."""
    request = RoutableNumberReserve(
        country_code="US", from_number="+11800999932", context=RoutableNumberContext(to_number="+15551234567")
    )
    reservation = await client.reserve_routable_number(request)
    assert (reservation.status, reservation.mode) == ("success", "number")
    assert reservation.handle.routable_number in ROUTABLE_NUMBERS


async def test_a_context_correlates_the_create_that_names_it(client: AsyncCallbridgeClient, key: str) -> None:
    """create_voice_call_context, then a create carrying its correlationId reads back correlated."""
    request = VoiceCallContextRequest(
        from_number="+11800999932", context=VoiceCallContextDetails(to_number="+15551234567", transaction_id="t-1")
    )
    created = await client.create_voice_call_context(request)
    assert created.mode == "correlationID"
    correlation_id = created.handle.correlation_id
    await client.create_voice_call(
        VoiceCallCreate(
            vendor_call_key=key,
            to=DIALED_NUMBER,
            from_="+14155550123",
            call_attributes={"correlationId": correlation_id},
        )
    )
    correlation = (await client.get_voice_call(key)).correlation
    assert correlation is not None
    assert (correlation.id, correlation.transaction_id) == (correlation_id, "t-1")


def test_the_blocking_client_has_the_newest_endpoints(server: LiveServer, signer: TokenSigner) -> None:
    """CallbridgeClient answers the same typed bodies without await."""
    with CallbridgeClient(server.url, signer) as client:
        assert client.get_voicemail_greeting(DIALED_NUMBER).greeting_url == GREETING_URL
        assert client.get_default_outbound_phone_number("nobody").phone_number == OUTBOUND_NUMBER
