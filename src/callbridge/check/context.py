"""What every check gets: the options, a client that signs like the Lambdas and never retries (a check must
see the server's first answer), fresh vendorCallKeys, and whether the server has Callbridge's read API."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2

from callbridge.check.registry import CheckFailed, CheckSkipped, describe
from callbridge.client import (
    NO_RETRY,
    ApiError,
    AsyncCallbridgeClient,
    AsyncConsoleClient,
    CallbridgeClientError,
    Presence,
    TokenSigner,
    VoiceCallCreate,
)
from callbridge.client.console_schemas import Offer


@dataclass(frozen=True)
class CheckConfig:
    """Options of ``callbridge check``.

    ``queue`` (a queue the call center routes to, by API name or id) and ``dialed_number`` (a phone
    channel's number) enable the routing checks that need configuration; ``agent_username`` and
    ``agent_password`` (an agent of the call center, on Callbridge's console API) enable the hold check.
    """

    base_url: str
    org_id: str
    call_center_api_name: str
    private_key_pem: bytes
    audience: str | None = None
    queue: str | None = None
    dialed_number: str | None = None
    agent_username: str | None = None
    agent_password: str | None = None
    bulk_max_entries: int = 100
    bulk_max_messages: int = 100
    timeout: float = 10.0
    # The server's CALLBRIDGE_LIMIT_CALLS_PER_SECOND when it enforces Salesforce's limits: enables the limit check.
    limit_calls_per_second: int | None = None
    transport: httpx2.AsyncBaseTransport | None = None


@dataclass
class Call:
    """A call a check created."""

    vendor_call_key: str
    voice_call_id: str
    started_at: datetime


class CheckContext:
    def __init__(self, config: CheckConfig) -> None:
        self.config = config
        self.signer = TokenSigner(
            config.private_key_pem, config.org_id, config.call_center_api_name, audience=config.audience
        )
        self.client = AsyncCallbridgeClient(
            config.base_url,
            self.signer,
            provider_name="callbridge-check",
            retry=NO_RETRY,
            timeout=config.timeout,
            transport=config.transport,
        )
        self.run_id = secrets.token_hex(4)
        self.created: list[Call] = []
        self._counter = 0
        self._read_api: bool | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    def key(self, label: str) -> str:
        """A vendorCallKey no earlier run used: ``cbcheck-<run>-<n>-<label>``."""
        self._counter += 1
        return f"cbcheck-{self.run_id}-{self._counter}-{label}"

    def create_body(self, key: str, **fields: Any) -> dict[str, Any]:
        """The create body the Amazon Connect Lambda sends for an inbound call, with ``fields`` on top."""
        call = VoiceCallCreate(vendor_call_key=key, to="+14155550100", from_="+14155550123")
        body = call.wire()
        body["callCenterApiName"] = self.config.call_center_api_name
        body.update(fields)
        return body

    async def new_call(self, label: str = "call", **fields: Any) -> Call:
        """Create an inbound call (as the Lambda does); fail the check if the server refuses."""
        key = self.key(label)
        body = self.create_body(key, **fields)
        response = await self.client.raw_request("POST", "/voiceCalls", body=body)
        if response.status_code != 200:
            raise CheckFailed(f"could not create a call to check with: POST /voiceCalls answered {describe(response)}")
        voice_call_id = response.json().get("voiceCallId")
        if not isinstance(voice_call_id, str):
            raise CheckFailed(f"POST /voiceCalls answered 200 without a voiceCallId: {response.text[:160]}")
        call = Call(vendor_call_key=key, voice_call_id=voice_call_id, started_at=datetime.now(UTC))
        self.created.append(call)
        return call

    async def close_calls(self) -> None:
        """End every call the checks created, so none is left waiting for an agent (best effort)."""
        for call in self.created:
            with suppress(CallbridgeClientError):
                await self.client.raw_request("PATCH", f"/voiceCalls/{call.vendor_call_key}", body={})
        self.created.clear()

    async def has_read_api(self) -> bool:
        """Whether the server serves ``GET /voiceCalls/{id}`` (a Callbridge addition). Probed once."""
        if self._read_api is None:
            call = await self.new_call("probe")
            try:
                await self.client.get_voice_call(call.voice_call_id)
                self._read_api = True
            except ApiError as error:
                if error.status in (404, 405, 501):
                    self._read_api = False
                else:
                    raise
        return self._read_api

    async def require_read_api(self) -> None:
        """Skip the check on a server that cannot show what it stored."""
        if not await self.has_read_api():
            raise CheckSkipped("the server has no read API (GET /voiceCalls/{id}), so what it stored cannot be seen")

    @asynccontextmanager
    async def agent(self) -> AsyncIterator[AsyncConsoleClient]:
        """A signed-in agent on the console API, Available; Offline and signed out afterwards."""
        username, password = self.config.agent_username, self.config.agent_password
        if not username:
            raise CheckSkipped("needs an agent: give --agent and --agent-password")
        if not password:
            raise CheckSkipped(
                f"needs {username}'s password: give --agent-password or set CALLBRIDGE_CHECK_AGENT_PASSWORD"
            )
        console = AsyncConsoleClient(self.config.base_url, retry=NO_RETRY, transport=self.config.transport)
        try:
            await console.sign_in(username, password, org_id=self.config.org_id)
            yield console
        finally:
            if console.session_token:
                with suppress(CallbridgeClientError):
                    await console.set_presence(Presence.OFFLINE)
                    await console.sign_out()
            await console.aclose()


async def offer_declining_others(agent: AsyncConsoleClient, voice_call_id: str, *, wait_seconds: float) -> Offer:
    """The offer of this call; offers of other calls (a busy server's, or earlier checks' calls still waiting in
    the agent's queue, as on the demo contact centre) are declined so that they do not take the agent's room."""
    deadline = time.monotonic() + wait_seconds
    while True:
        for offer in await agent.offers():
            if offer.voice_call_id == voice_call_id:
                return offer
            await agent.decline_offer(offer.id)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no offer for {voice_call_id} within {wait_seconds}s")
        await asyncio.sleep(0.2)
