"""``AsyncConsoleClient``: the agents' console API (``/console/v1``, a Callbridge addition): sign in, go
Available, take offered calls, hold and resume them, close the work."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx2

from callbridge.client.console_schemas import (
    Agent,
    CallState,
    Offer,
    OfferAccepted,
    OfferDeclined,
    Presence,
    Session,
    Work,
    WorkClosed,
)
from callbridge.client.schemas import PendingRouting
from callbridge.client.transport import CONSOLE_PREFIX, NO_BODY, HttpSession, RetryPolicy, Sleep, parse, parse_list


class AsyncConsoleClient:
    """An agent (or supervisor) at the console. ``sign_in`` keeps the session token for later requests.

    >>> async with AsyncConsoleClient("http://127.0.0.1:8080") as agent:  # doctest: +SKIP
    ...     await agent.sign_in("alice@demo.example.com", "secret")
    ...     await agent.set_presence(Presence.AVAILABLE)
    ...     offer = await agent.wait_for_offer(voice_call_id=created.voice_call_id)
    ...     accepted = await agent.accept_offer(offer.id)
    ...     await agent.hold(accepted.voice_call_id)
    """

    def __init__(
        self,
        base_url: str,
        *,
        session_token: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.session_token = session_token
        self._sleep = sleep
        self.http = HttpSession(
            base_url, authorization=self._authorization, retry=retry, timeout=timeout, transport=transport, sleep=sleep
        )

    def _authorization(self) -> str | None:
        return f"Bearer {self.session_token}" if self.session_token else None

    async def __aenter__(self) -> AsyncConsoleClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, *, body: Any = NO_BODY, idempotent: bool) -> httpx2.Response:
        return await self.http.request(method, CONSOLE_PREFIX + path, body=body, idempotent=idempotent)

    async def sign_in(self, username: str, password: str, *, org_id: str | None = None) -> Session:
        """``POST /session``; the token is kept for the following requests."""
        body: dict[str, str] = {"username": username, "password": password}
        if org_id is not None:
            body["orgId"] = org_id
        session = parse(await self._call("POST", "/session", body=body, idempotent=False), Session)
        self.session_token = session.token
        return session

    async def sign_out(self) -> None:
        """``DELETE /session``: the token stops working."""
        await self._call("DELETE", "/session", idempotent=True)
        self.session_token = None

    async def me(self) -> Agent:
        return parse(await self._call("GET", "/me", idempotent=True), Agent)

    async def set_presence(self, status: Presence) -> Agent:
        """``PUT /presence``: Available gets waiting work at once; Busy and Offline hand standing offers on."""
        return parse(await self._call("PUT", "/presence", body={"status": status.value}, idempotent=True), Agent)

    async def offers(self) -> list[Offer]:
        return parse_list(await self._call("GET", "/offers", idempotent=True), Offer)

    async def wait_for_offer(
        self, *, voice_call_id: str | None = None, wait_seconds: float = 10.0, interval: float = 0.2
    ) -> Offer:
        """Poll ``offers`` until one (for ``voice_call_id``, if given) arrives; ``TimeoutError`` after
        ``wait_seconds``."""
        deadline = time.monotonic() + wait_seconds
        while True:
            for offer in await self.offers():
                if voice_call_id is None or offer.voice_call_id == voice_call_id:
                    return offer
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no offer{f' for {voice_call_id}' if voice_call_id else ''} within {wait_seconds}s")
            await self._sleep(interval)

    async def accept_offer(self, offer_id: str) -> OfferAccepted:
        """``POST /offers/{id}/accept``: the work is Opened and the call is the agent's."""
        response = await self._call("POST", f"/offers/{quote(offer_id, safe='')}/accept", idempotent=False)
        return parse(response, OfferAccepted)

    async def decline_offer(self, offer_id: str) -> OfferDeclined:
        response = await self._call("POST", f"/offers/{quote(offer_id, safe='')}/decline", idempotent=False)
        return parse(response, OfferDeclined)

    async def work(self) -> list[Work]:
        """Open work: the agent's own; a supervisor's: everyone's in the org."""
        return parse_list(await self._call("GET", "/work", idempotent=True), Work)

    async def close_work(self, work_id: str) -> WorkClosed:
        return parse(await self._call("POST", f"/work/{quote(work_id, safe='')}/close", idempotent=True), WorkClosed)

    async def pending(self) -> list[PendingRouting]:
        """Supervisors: every PendingServiceRouting of the org."""
        return parse_list(await self._call("GET", "/pending", idempotent=True), PendingRouting)

    async def _call_state(self, voice_call_id: str, action: str) -> CallState:
        path = f"/calls/{quote(voice_call_id, safe='')}/{action}"
        return parse(await self._call("POST", path, idempotent=True), CallState)

    async def hold(self, voice_call_id: str) -> CallState:
        """Put the call on hold: transcripts sent meanwhile are dropped (and the timeline says so)."""
        return await self._call_state(voice_call_id, "hold")

    async def resume(self, voice_call_id: str) -> CallState:
        return await self._call_state(voice_call_id, "resume")

    async def pause_recording(self, voice_call_id: str) -> CallState:
        """Pause recording: transcripts are dropped until ``resume_recording``."""
        return await self._call_state(voice_call_id, "pause-recording")

    async def resume_recording(self, voice_call_id: str) -> CallState:
        return await self._call_state(voice_call_id, "resume-recording")
