"""Helpers for the transcript tests: real-client bodies, calls created over HTTP, reads of what was stored."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.models import VoiceCall
from callbridge.voice_calls.state import set_on_hold, set_recording_paused
from tests.conftest import PAYLOADS
from tests.voice_calls.conftest import create_call, payload, read_call

__all__ = ["create_call", "read_call"]

URL = "/telephony/v1/voiceCalls"
INBOUND_KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"
TRANSFER_KEY = "9d41e0b2-6c3a-4f7e-8b15-2a9c0e6d4f71"
DEMO_KEY = "a8hjdd"
# 2026-11-24T18:16:30Z, inside the inbound call's conversation (it starts at 18:15:55.793Z).
IN_CALL_MS = 1795544190000


def raw_payload(name: str) -> bytes:
    """A body exactly as the client puts it on the wire."""
    return (PAYLOADS / f"{name}.json").read_bytes()


def message(message_id: str = "m1", **overrides: Any) -> dict[str, Any]:
    """A message as the Lambda's sendMessage builds it, inside the inbound call."""
    body: dict[str, Any] = {
        "messageId": message_id,
        "startTime": IN_CALL_MS,
        "endTime": IN_CALL_MS + 2500,
        "content": "My order never arrived.",
        "participantId": "END_USER",
        "senderType": "END_USER",
    }
    body.update(overrides)
    return body


Post = Callable[..., Awaitable[httpx2.Response]]


@pytest.fixture
def post_message(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Post:
    async def post(key: str, body: Any, **headers: str) -> httpx2.Response:
        return await client.post(f"{URL}/{key}/messages", json=body, headers={**auth(), **headers})

    return post


@pytest.fixture
def post_bulk(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Post:
    async def post(body: Any) -> httpx2.Response:
        return await client.post(f"{URL}/messages", json=body, headers=auth())

    return post


@pytest.fixture
def stored(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """Every entry of a call's conversation (all pages), optionally with the drop records."""

    async def read(call: str, *, dropped: bool = False, limit: int = 1000) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit, **({"include": "dropped"} if dropped else {})}
        while True:
            response = await client.get(f"{URL}/{call}/messages", params=params, headers=auth())
            assert response.status_code == 200, response.text
            page = response.json()
            entries += page["entries"]
            if page["next"] is None:
                return entries
            params["after"] = page["next"]

    return read


@pytest.fixture
def timeline(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """The transcript entries of a call's timeline (kind transcript.*)."""

    async def read(call: str) -> list[dict[str, Any]]:
        response = await client.get(f"{URL}/{call}/timeline", headers=auth())
        assert response.status_code == 200, response.text
        return [e for e in response.json()["entries"] if e["kind"].startswith("transcript.")]

    return read


@pytest.fixture
def app_state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.callbridge
    return state


@pytest.fixture
def set_call_state(app_state_of: AppState) -> Callable[..., Awaitable[None]]:
    """Hold or pause recording on a call, as the console will (through voice_calls.state)."""

    async def change(call_id: str, *, on_hold: bool | None = None, paused: bool | None = None) -> None:
        async with app_state_of.unit_of_work(Actor("console:test")) as uow:
            call = await uow.session.get(VoiceCall, call_id)
            assert call is not None
            if on_hold is not None:
                set_on_hold(uow, call, on_hold)
            if paused is not None:
                set_recording_paused(uow, call, paused)

    return change


def body_of(name: str, **overrides: Any) -> dict[str, Any]:
    return payload(name, **overrides)


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()
