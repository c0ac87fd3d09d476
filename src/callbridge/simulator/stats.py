"""What a run measures as it goes: each call's stage and outcome, latencies, and every HTTP error."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from callbridge.client.errors import ApiError, CallbridgeClientError, TransportError, UnexpectedResponse
from callbridge.simulator.scenarios import CallPlan

Result = TypeVar("Result")


class Stage(StrEnum):
    """Where a call is now (the progress display counts calls per stage)."""

    SCHEDULED = "scheduled"
    IVR = "in IVR"
    WAITING = "waiting for an agent"
    TALKING = "talking"
    ON_HOLD = "on hold"
    AFTER_CALL = "after call"
    DONE = "done"


class Outcome(StrEnum):
    COMPLETED = "completed"  # talked to an agent and hung up
    TRANSFERRED = "transferred"  # finished with a second agent after a transfer to a queue
    CONSULTED = "consulted"  # finished with the colleague the first agent consulted
    VOICEMAIL = "voicemail"  # left a voicemail
    CALLBACK = "callback"  # asked to be called back
    ABANDONED = "abandoned"  # hung up before an agent took the call (planned, or tired of waiting)
    FAILED = "failed"  # an API error ended the call early
    INTERRUPTED = "interrupted"  # the run was stopped before the call ended


class RoutingOutcome(StrEnum):
    ACCEPTED = "accepted"  # an agent accepted the work
    ABANDONED = "abandoned"  # the caller hung up first (clearRouting)
    WAITING = "waiting"  # still queued when the call stopped waiting for it (voicemail, callback)


@dataclass
class Route:
    """One routing request (omniFlow, route, requestCallback) and what became of it."""

    requested_at: float  # monotonic, just before the request
    offered_at: float | None = None  # the routing.offered event of the offer that was accepted
    accepted_at: float | None = None  # the accept answered
    outcome: RoutingOutcome | None = None


@dataclass
class CallRecord:
    plan: CallPlan
    vendor_call_key: str
    stage: Stage = Stage.SCHEDULED
    outcome: Outcome | None = None
    legs: list[str] = field(default_factory=list)  # VoiceCall ids created, in order
    routes: list[Route] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)  # messageIds sent (a partial and its final are one)
    send_failures: int = 0
    accepted: int = 0  # entries stored, read back from the server
    replaced: int = 0  # of which replaced at least once (a partial became final)
    dropped: Counter[str] = field(default_factory=Counter)  # drop records by reason, read back
    realtime_events: int = 0
    post_call_events: int = 0
    error: str | None = None


@dataclass
class Stats:
    """Shared by every call and agent of a run (one event loop: no locking needed)."""

    calls: list[CallRecord] = field(default_factory=list)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (status, code) -> count
    push_latencies: list[float] = field(default_factory=list)
    agents_requested: int = 0
    agents_signed_in: int = 0
    agent_failures: list[str] = field(default_factory=list)
    _pending_push: dict[str, float] = field(default_factory=dict)

    def stage_counts(self) -> Counter[Stage]:
        return Counter(call.stage for call in self.calls)

    def error(self, exc: CallbridgeClientError) -> None:
        if isinstance(exc, ApiError):
            self.errors[(str(exc.status), exc.code or "-")] += 1
        elif isinstance(exc, UnexpectedResponse):
            self.errors[(str(exc.status), "UNEXPECTED_BODY")] += 1
        elif isinstance(exc, TransportError):
            self.errors[("-", "TRANSPORT_ERROR")] += 1
        else:
            self.errors[("-", type(exc).__name__)] += 1

    async def checked(self, request: Awaitable[Result]) -> Result:
        """Await an API request, counting its error (and raising it again) if it fails."""
        try:
            return await request
        except CallbridgeClientError as exc:
            self.error(exc)
            raise

    def utterance_sent(self, message_id: str) -> None:
        """An utterance (or its final version) is being sent now: its push latency runs from here."""
        self._pending_push[message_id] = time.monotonic()

    def utterance_pushed(self, message_id: str) -> None:
        """An agent's console received ``transcript.accepted`` or ``.replaced`` for it."""
        sent = self._pending_push.pop(message_id, None)
        if sent is not None:
            self.push_latencies.append(time.monotonic() - sent)
