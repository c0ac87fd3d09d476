"""The routing tests' contact centre with the newest endpoints configured: voicemail drops, default outbound
numbers, a voicemail greeting and a pool of two routable numbers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.models import CallCenter
from tests.routing import conftest as routing
from tests.routing.conftest import app, auth, clock, console, second_app, state, telephony, tick
from tests.voice_calls.conftest import create_call, payload, read_call

__all__ = ["app", "auth", "clock", "console", "create_call", "read_call", "second_app", "state", "telephony", "tick"]

ALICE_ARN = routing.ALICE_ARN
BRUNO_ARN = "arn:aws:connect:us-east-1:111122223333:instance/i1/agent/a-bruno"
ALICE_NUMBER = "+14155550111"
CENTER_NUMBER = "+14155550199"
POOL = ["+14155559001", "+14155559002"]
TTL = 120
GREETING = "https://media.example.com/greetings/support.wav"
DROPS = {
    "Busy": "https://media.example.com/drops/busy.wav",
    "Call back later": "https://media.example.com/drops/callback.wav",
}

CONFIG = (
    routing.CONFIG.replace(
        "        voicemail: {fallback_queue: Voicemail}\n",
        "        voicemail: {fallback_queue: Voicemail}\n"
        "        voicemail_drops:\n"
        + "".join(f'          - {{name: "{name}", recording_url: "{url}"}}\n' for name, url in DROPS.items())
        + f'        default_outbound_number: "{CENTER_NUMBER}"\n'
        f"        routable_numbers: [{', '.join(f'{n!r}' for n in POOL)}]\n"
        f"        routable_number_ttl_seconds: {TTL}\n",
    )
    .replace(
        "            flow: Inbound_Support\n            fallback_queue: Support\n",
        "            flow: Inbound_Support\n            fallback_queue: Support\n"
        f'            voicemail_greeting_url: "{GREETING}"\n',
        1,
    )
    .replace(
        f'        external_id: "{ALICE_ARN}"\n',
        f'        external_id: "{ALICE_ARN}"\n        default_outbound_number: "{ALICE_NUMBER}"\n',
    )
    .replace(
        f"      - username: {routing.BRUNO}\n",
        f'      - username: {routing.BRUNO}\n        external_id: "{BRUNO_ARN}"\n',
    )
)


@pytest.fixture
async def contact_center(
    database_url: str, call_centers: dict[str, CallCenter], tmp_path: Path, key_pair: KeyPair
) -> None:
    await routing.apply_config(database_url, tmp_path, key_pair, CONFIG)


Post = Callable[..., Awaitable[httpx2.Response]]


@pytest.fixture
def reserve(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Post:
    """POST the Lambda's reserveRoutableNumber body (fields overridden)."""

    async def post(**overrides: Any) -> httpx2.Response:
        body = payload("lambda_reserve_routable_number", **overrides)
        return await client.post("/telephony/v1/voiceCalls/reserveRoutableNumber", json=body, headers=auth())

    return post


@pytest.fixture
def create_context(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Post:
    """POST the Lambda's createVoiceCallContext body (fields overridden)."""

    async def post(**overrides: Any) -> httpx2.Response:
        body = payload("lambda_create_voice_call_context", **overrides)
        return await client.post("/telephony/v1/voiceCalls/createVoiceCallContext", json=body, headers=auth())

    return post
