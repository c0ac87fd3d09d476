"""One real server process for the client tests, and clients signed for its call center."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.client import AsyncCallbridgeClient, AsyncConsoleClient, TokenSigner
from tests.client.live import CALL_CENTER, ORG_ID, LiveServer, live_server


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair, other_key_pair: KeyPair
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-client"), key_pair, other_key_pair) as running:
        yield running


@pytest.fixture
def signer(server: LiveServer) -> TokenSigner:
    return TokenSigner(server.private_key_pem, ORG_ID, CALL_CENTER)


@pytest.fixture
async def client(server: LiveServer, signer: TokenSigner) -> AsyncIterator[AsyncCallbridgeClient]:
    async with AsyncCallbridgeClient(server.url, signer, provider_name="amazon-connect") as http:
        yield http


@pytest.fixture
async def console(server: LiveServer) -> AsyncIterator[AsyncConsoleClient]:
    async with AsyncConsoleClient(server.url) as agent:
        yield agent


@pytest.fixture
def key() -> str:
    """A vendorCallKey no other test uses (an Amazon Connect ContactId)."""
    return str(uuid.uuid4())
