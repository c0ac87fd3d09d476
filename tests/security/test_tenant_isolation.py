"""The tenant-isolation matrix: every /telephony/v1, Connect and /console/v1 operation, tried on one org's
calls, messages, routings, offers and work with the credentials of another call center, of another org and of
another org's agent and supervisor: each attempt is refused (401/403/404, or 400 naming a missing parent) or
acts on the attacker's own data, never answers with the victim's data, and the victim's call stays as it was."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair, new_key_pair
from callbridge.models import CallCenter
from tests.conftest import OTHER_CALL_CENTER, TokenFactory
from tests.routing.conftest import ALICE, BRUNO, BRUNO_ID, CONFIG, PASSWORD_HASH, SAM, Console, app, apply_config, clock
from tests.voice_calls.conftest import payload

__all__ = ["app", "clock"]

RIVAL_ORG, RIVAL_CC = "00DXX000000RIVLAAA", "RivalCC"
RIVAL_AGENT, RIVAL_SUPERVISOR = "zed@rival.example", "zoe@rival.example"
RIVAL_KEY = new_key_pair("rival")
RIVAL = f"""\
  - id: {RIVAL_ORG}
    call_centers:
      - api_name: {RIVAL_CC}
        certificates: [rival.pem]
    queues:
      - {{api_name: Support}}
    agents:
      - {{username: {RIVAL_AGENT}, user_id: 005XX00000000ZZAAA, queues: [Support], password_hash: "{PASSWORD_HASH}"}}
      - {{username: {RIVAL_SUPERVISOR}, user_id: 005XX00000000ZYAAA, role: supervisor,
          password_hash: "{PASSWORD_HASH}"}}
"""
# The victim org keeps OtherCC (a second call center of the same org, trusting other_key_pair).
VICTIM = CONFIG.replace(
    "    call_centers:\n",
    f"    call_centers:\n      - api_name: {OTHER_CALL_CENTER}\n        certificates: [other.pem]\n",
    1,
)
KEY_1, KEY_2 = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13", "6c3d8b0f-4e2a-4f9b-8d72-1e3a5c6f9b24"
UNKNOWN_PARENT = {400}  # a create naming another tenant's call as its parent: PARENT_VOICE_CALL_NOT_FOUND
CONNECT = "/services/data/v62.0/connect"


@pytest.fixture
async def contact_center(
    database_url: str, call_centers: dict[str, CallCenter], tmp_path: Path, key_pair: KeyPair, other_key_pair: KeyPair
) -> None:
    """The routing tests' org (with OtherCC) and a rival org with its own call center, agent and supervisor."""
    (tmp_path / "other.pem").write_text(other_key_pair.certificate_pem)
    (tmp_path / "rival.pem").write_text(RIVAL_KEY.certificate_pem)
    await apply_config(database_url, tmp_path, key_pair, VICTIM + RIVAL)


@dataclass
class Victim:
    """What the victim org has: two calls (one taken by alice, one offered to bruno), their routing and work."""

    calls: dict[str, str]  # vendorCallKey -> voiceCallId
    work_id: str
    offer_id: str
    psr_id: str
    secrets: list[str] = field(default_factory=list)  # strings that must never appear in an attacker's answer


async def victim_scenario(http: httpx2.AsyncClient, token: Callable[[], dict[str, str]]) -> Victim:
    console = Console(http)
    alice = await console.available(ALICE)
    calls: dict[str, str] = {}
    for key in (KEY_1, KEY_2):
        created = await http.post(
            "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound", vendorCallKey=key), headers=token()
        )
        assert created.status_code == 200, created.text
        calls[key] = created.json()["voiceCallId"]
        message = await http.post(
            f"/telephony/v1/voiceCalls/{key}/messages", json=payload("kvs_transcriber_message"), headers=token()
        )
        assert message.status_code == 200, message.text
    flow = payload("lambda_execute_omniflow")
    assert (
        await http.patch(f"/telephony/v1/voiceCalls/{calls[KEY_1]}/omniFlow", json=flow, headers=token())
    ).status_code == 200
    work = await console.take(alice)
    await console.presence(alice, "Busy")
    bruno = await console.available(BRUNO)
    to_bruno = payload("lambda_route_voice_call", routingTarget=BRUNO_ID)
    routed = await http.post(f"/telephony/v1/voiceCalls/{calls[KEY_2]}/routeVoiceCall", json=to_bruno, headers=token())
    assert routed.status_code == 200, routed.text
    (offer,) = await console.offers(bruno)
    supervisor = await console.sign_in(SAM)
    pending = (await http.get("/console/v1/pending", headers=supervisor)).json()
    psr_id = next(p["id"] for p in pending if p["workItemId"] == calls[KEY_2])
    secrets = [*calls.values(), work["workId"], offer["id"], psr_id, "still isn't here"]
    return Victim(calls, work["workId"], offer["id"], psr_id, secrets)


async def snapshot(http: httpx2.AsyncClient, victim: Victim, token: Callable[[], dict[str, str]]) -> list[Any]:
    """The victim's calls, transcripts, routings and timelines as the victim reads them."""
    seen: list[Any] = []
    for call_id in victim.calls.values():
        for suffix in ("", "/messages", "/routing", "/timeline"):
            response = await http.get(f"/telephony/v1/voiceCalls/{call_id}{suffix}", headers=token())
            assert response.status_code == 200, response.text
            seen.append(response.json())
    return seen


def telephony_attempts(victim: Victim) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body) of every telephony and Connect operation, by the victim's ids and keys."""
    attempts: list[tuple[str, str, Any]] = []
    for key, call_id in victim.calls.items():
        for ref in (call_id, key):
            base = f"/telephony/v1/voiceCalls/{ref}"
            attempts += [
                ("GET", base, None),
                ("PATCH", base, {"queue": "Stolen"}),
                ("GET", f"{base}/messages", None),
                ("GET", f"{base}/conversationEvents", None),
                ("GET", f"{base}/routing", None),
                ("GET", f"{base}/timeline", None),
                ("PATCH", f"{base}/omniFlow", payload("lambda_execute_omniflow")),
                ("PATCH", f"/telephony/v1/voiceCalls/route/{ref}", payload("lambda_route_voice_call")),
                ("PATCH", f"{base}/clearRouting", None),
                ("PATCH", f"{base}/reroute", None),
                ("POST", f"{base}/reroute", None),
                ("POST", f"{base}/routeVoiceCall", payload("lambda_route_voice_call")),
                ("POST", f"{base}/requestCallback", payload("lambda_request_callback")),
            ]
        attempts += [
            ("POST", f"/telephony/v1/voiceCalls/{key}/messages", payload("kvs_transcriber_message")),
            (
                "POST",
                f"/telephony/v1/voiceCalls/{key}/realtimeConversationEvents",
                payload("byo_connector_realtime_events"),
            ),
            ("POST", f"/telephony/v1/voiceCalls/{key}/postConversationEvents", payload("post_call_analysis_batch")),
            (
                "POST",
                "/telephony/v1/voiceCalls/messages",
                {
                    **payload("contact_lens_bulk"),
                    "entries": [{**payload("contact_lens_bulk")["entries"][0], "vendorCallKey": key}],
                },
            ),
            ("POST", "/telephony/v1/voiceCalls", payload("lambda_create_transfer", parentVoiceCallId=call_id)),
            ("GET", f"{CONNECT}/conversation/{key}/entries", None),
            ("PATCH", f"{CONNECT}/conversation/{key}/entries", {"conversationEntries": []}),
        ]
    return attempts


def console_attempts(victim: Victim) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body) of every console operation, on the victim's calls, offers, routings and work."""
    attempts: list[tuple[str, str, Any]] = [
        ("GET", "/console/v1/calls", None),
        ("GET", "/console/v1/agents", None),
        ("GET", "/console/v1/pending", None),
        ("GET", "/console/v1/offers", None),
        ("GET", "/console/v1/work", None),
        ("GET", "/console/v1/me", None),
        ("POST", f"/console/v1/offers/{victim.offer_id}/accept", None),
        ("POST", f"/console/v1/offers/{victim.offer_id}/decline", None),
        ("POST", f"/console/v1/pending/{victim.psr_id}/clear", None),
        ("POST", f"/console/v1/work/{victim.work_id}/close", None),
    ]
    for key, call_id in victim.calls.items():
        for ref in (call_id, key):
            attempts += [
                ("GET", f"/console/v1/calls/{ref}", None),
                ("GET", f"/console/v1/calls/{ref}/messages", None),
                ("GET", f"/console/v1/calls/{ref}/timeline", None),
            ]
        attempts += [
            ("GET", f"/console/v1/calls/{call_id}/events", None),
            *[
                ("POST", f"/console/v1/calls/{call_id}/{action}", None)
                for action in ("hold", "resume", "pause-recording", "resume-recording")
            ],
        ]
    return attempts


async def attempt(
    http: httpx2.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx2.Response:
    # An event stream the attacker could open would never end: a bounded wait says so.
    return await asyncio.wait_for(http.request(method, path, json=body, headers=headers), timeout=10)


def leak(response: httpx2.Response, victim: Victim, asked: str, allowed_2xx: bool) -> str | None:
    """Why this answer is a leak (None when it is not): a 5xx, an acceptance, or the victim's data beyond what
    the request itself named (a 404 may repeat the id it was asked for)."""
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:200]}"
    for secret in victim.secrets:
        if secret in response.text and secret not in asked:
            return f"{response.status_code} shows {secret!r}"
    if response.is_success and not allowed_2xx:
        return f"{response.status_code} accepted"
    return None


async def run_matrix(
    http: httpx2.AsyncClient,
    victim: Victim,
    attempts: list[tuple[str, str, Any]],
    headers: dict[str, str],
    own_data: Callable[[str, str], bool],
) -> list[str]:
    leaks = []
    for method, path, body in attempts:
        response = await attempt(http, method, path, body, headers)
        if method == "POST" and path == "/telephony/v1/voiceCalls":
            refused = response.status_code in UNKNOWN_PARENT | {401, 403, 404}
            problem = None if refused else f"{response.status_code} accepted"
        else:
            problem = leak(response, victim, path + json.dumps(body), own_data(method, path))
        if problem:
            leaks.append(f"{method} {path}: {problem}")
    return leaks


def by_key_acts_on_own_call(method: str, path: str) -> bool:
    """A call center addresses calls by its own vendorCallKeys: a PATCH or message by a key it does not know is
    about its own (new or unknown) call, not the victim's (tests/voice_calls/test_isolation.py)."""
    return KEY_1 in path or KEY_2 in path or path.endswith("/voiceCalls/messages")


def own_lists(method: str, path: str) -> bool:
    """Lists and the signed-in agent's own record answer 200, with the attacker's own (or no) data."""
    return method == "GET" and path.rsplit("/", 1)[-1] in ("calls", "agents", "pending", "offers", "work", "me")


@pytest.fixture
async def victim(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Victim:
    return await victim_scenario(client, auth)


async def check_unchanged(
    http: httpx2.AsyncClient, victim: Victim, auth: Callable[..., dict[str, str]], before: list[Any]
) -> None:
    assert await snapshot(http, victim, auth) == before


@pytest.mark.parametrize("attacker", ["other call center", "other org"])
async def test_telephony_operations_with_another_tenants_token(
    client: httpx2.AsyncClient,
    victim: Victim,
    auth: Callable[..., dict[str, str]],
    other_token: Callable[..., str],
    attacker: str,
) -> None:
    """Each telephony and Connect operation on another tenant's calls: refused or about the caller's own calls,
    never the victim's data, and the victim's calls unchanged."""
    token = other_token() if attacker == "other call center" else TokenFactory(RIVAL_KEY)(iss=RIVAL_ORG, sub=RIVAL_CC)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    before = await snapshot(client, victim, auth)
    attempts = telephony_attempts(victim)
    assert await run_matrix(client, victim, attempts, headers, by_key_acts_on_own_call) == []
    await check_unchanged(client, victim, auth, before)


@pytest.mark.parametrize("attacker", [RIVAL_AGENT, RIVAL_SUPERVISOR])
async def test_console_operations_with_another_orgs_session(
    client: httpx2.AsyncClient, victim: Victim, auth: Callable[..., dict[str, str]], attacker: str
) -> None:
    """Each console operation on another org's calls, offers, routings and work: refused, never the victim's
    data, and the victim's calls unchanged."""
    headers = await Console(client).sign_in(attacker)
    before = await snapshot(client, victim, auth)
    assert await run_matrix(client, victim, console_attempts(victim), headers, own_lists) == []
    await check_unchanged(client, victim, auth, before)


async def test_telephony_token_does_not_open_the_console(
    client: httpx2.AsyncClient, victim: Victim, auth: Callable[..., dict[str, str]]
) -> None:
    """A telephony token of the victim's own call center is no console session: 401 on every console operation."""
    leaks = []
    for method, path, body in console_attempts(victim):
        response = await attempt(client, method, path, body, auth())
        if response.status_code != 401:
            leaks.append(f"{method} {path}: {response.status_code}")
    assert leaks == []


def test_the_matrix_covers_every_operation_169_times() -> None:
    """2 telephony attackers x 66 attempts, 2 console sessions and a telephony token x 32: 228 attempts."""
    fake = Victim({KEY_1: "0LQ1", KEY_2: "0LQ2"}, "0Bz1", "0Bz2", "0JR1")
    telephony, console = len(telephony_attempts(fake)), len(console_attempts(fake))
    assert (telephony, console) == (66, 32)
