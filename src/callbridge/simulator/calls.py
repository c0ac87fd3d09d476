"""One simulated call, played over the Telephony Integration API as the telephony side plays it: legs created,
utterances sent at speaking pace (one POST per segment as kvsTranscriber does, or in bulk with a partial
segment first as the Contact Lens processor does), real-time signals, routing, the contact-record update that
ends each leg, post-call analysis, and finally what the server stored read back.

The lifecycles themselves (what happens in which order) are in ``lifecycles``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callbridge.client import (
    AsyncCallbridgeClient,
    BulkTranscriptEntry,
    CallbridgeClientError,
    DisconnectReason,
    PostCallEvent,
    PostConversationEvents,
    RealtimeConversationEvents,
    RealtimeEvent,
    SenderType,
    SignalParticipant,
    SignalType,
    TranscriptMessage,
    VoiceCallCreate,
    VoiceCallUpdate,
    epoch_ms,
)
from callbridge.simulator.agents import Assignment, SimulatedAgent, Switchboard
from callbridge.simulator.scenarios import Gate, GateKind, Line, Speaker, Step, TranscriptStyle
from callbridge.simulator.site import Site
from callbridge.simulator.stats import CallRecord, Route, RoutingOutcome, Stage, Stats

RATE_LIMIT_RETRIES = (5.0, 10.0, 20.0)  # contactLensProcessor's waits before resending rate-limited entries

WORDS_PER_SECOND = 2.5  # 150 words a minute
GAP_SECONDS = 0.4  # between two utterances
SERVICE = "AmazonConnectContactLens"


@dataclass
class RunContext:
    """What every call of a run shares."""

    client: AsyncCallbridgeClient
    switchboard: Switchboard
    stats: Stats
    agents: list[SimulatedAgent]
    site: Site
    run_id: str
    pace: float = 1.0
    rng: random.Random = field(default_factory=random.Random)  # runtime choices only (which colleague)


@dataclass
class PendingRoute:
    leg_id: str
    route: Route
    future: asyncio.Future[Assignment]


@dataclass
class Leg:
    key: str
    id: str
    started: datetime
    enqueued: datetime | None = None
    holds: list[float] = field(default_factory=list)
    ended: datetime | None = None


class Call:
    """The telephony side of one planned call (see ``lifecycles`` for the order of things)."""

    def __init__(self, ctx: RunContext, record: CallRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.plan = record.plan
        self.key = record.vendor_call_key  # the first leg's: transcripts and events use it
        self.legs: list[Leg] = []
        self.speakers: dict[Speaker, SimulatedAgent] = {}
        self.owner: Assignment | None = None  # who holds the current leg's work

    @property
    def stats(self) -> Stats:
        return self.ctx.stats

    @property
    def client(self) -> AsyncCallbridgeClient:
        return self.ctx.client

    @property
    def leg(self) -> Leg:
        return self.legs[-1]

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` of speech time."""
        await asyncio.sleep(seconds / self.ctx.pace)

    def stage(self, stage: Stage) -> None:
        self.record.stage = stage

    # ---- legs ------------------------------------------------------------------------------------------------

    async def create_leg(self, key: str, *, parent: str | None = None, queue: str | None = None) -> Leg:
        """``POST /voiceCalls`` as the Lambda's createVoiceCall (first leg) or createTransferVC (later legs)."""
        started = datetime.now(UTC)
        created = await self.stats.checked(
            self.client.create_voice_call(
                VoiceCallCreate(
                    vendor_call_key=key,
                    to=self.plan.dialed_number,
                    from_=self.plan.caller,
                    start_time=started,
                    parent_voice_call_id=parent,
                    queue=queue,
                    call_attributes=dict(self.plan.attributes),
                )
            )
        )
        leg = Leg(key, created.voice_call_id, started)
        self.legs.append(leg)
        self.record.legs.append(created.voice_call_id)
        return leg

    async def end_leg(
        self, leg: Leg, disconnect: str, *, assignment: Assignment | None, is_error: bool = False
    ) -> None:
        """The agent closes the work, then the contact record arrives: ``PATCH /voiceCalls/{key}`` with the
        leg's times, holds, queue and recording, as ctrDataSync sends it (no ``isActiveCall``: the leg ends)."""
        if assignment is not None:
            await assignment.agent.close_work(assignment.work_id)
        end = datetime.now(UTC)
        update = VoiceCallUpdate(
            start_time=leg.started,
            end_time=end,
            enqueue_time=leg.enqueued,
            accept_time=assignment.accepted_wall if assignment else None,
            total_hold_duration=round(sum(leg.holds)),
            number_of_holds=len(leg.holds),
            longest_hold_duration=round(max(leg.holds, default=0.0)),
            agent_interaction_duration=round((end - assignment.accepted_wall).total_seconds()) if assignment else None,
            queue=assignment.queue_name if assignment else None,
            recording_location=f"callbridge-simulator/{self.ctx.run_id}/{leg.key}.wav" if assignment else None,
            disconnect_reason=DisconnectReason(value=disconnect, is_error=is_error),
            initiation_method="TRANSFER" if leg is not self.legs[0] else "INBOUND",
            call_center_api_name=self.ctx.site.call_center,
        )
        leg.ended = end
        await self.stats.checked(self.client.update_voice_call(leg.key, update))

    async def hang_up_quietly(self, disconnect: str = "TELECOM_PROBLEM") -> None:
        """After a failure or an interruption: end whatever is still open (errors counted, not raised)."""
        if self.owner is not None:
            await self.owner.agent.close_work(self.owner.work_id)
        for leg in self.legs:
            if leg.ended is not None:
                continue
            with contextlib.suppress(CallbridgeClientError):
                await self.stats.checked(self.client.clear_routing(leg.key))
            with contextlib.suppress(CallbridgeClientError):
                await self.end_leg(leg, disconnect, assignment=None, is_error=True)

    # ---- routing ---------------------------------------------------------------------------------------------

    async def request_route(
        self, leg_id: str, request: Callable[[], Awaitable[Any]], *, ready_after: float = 0.0
    ) -> PendingRoute:
        """Send a routing request for ``leg_id`` (or for a callback of it), having first told the switchboard to
        expect an agent for it. ``ready_after``: a scheduled callback's delay (speech seconds)."""
        route = Route(requested_at=time.monotonic() + ready_after / self.ctx.pace)
        future = self.ctx.switchboard.expect(leg_id, route)
        try:
            await self.stats.checked(request())
        except BaseException:
            self.ctx.switchboard.forget(leg_id)
            raise
        self.record.routes.append(route)
        return PendingRoute(leg_id, route, future)

    async def wait_for_agent(self, pending: PendingRoute, patience: float) -> Assignment | None:
        """The agent who accepted the routed work, or None after ``patience`` (speech seconds)."""
        self.stage(Stage.WAITING)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending.future), patience / self.ctx.pace)
        self.ctx.switchboard.forget(pending.leg_id)  # a no-op when the agent came in time
        future = pending.future
        if not future.done() or future.cancelled():
            return None
        assignment = future.result()
        assignment.mark(pending.route)
        return assignment

    async def route(
        self, leg_id: str, request: Callable[[], Awaitable[Any]], *, patience: float
    ) -> tuple[Route, Assignment | None]:
        """Route and wait for an agent."""
        pending = await self.request_route(leg_id, request)
        return pending.route, await self.wait_for_agent(pending, patience)

    async def control(self, agent: SimulatedAgent, leg: Leg, action: str) -> None:
        """The agent's hold / resume / pause_recording / resume_recording; a refusal is counted, not raised."""
        with contextlib.suppress(CallbridgeClientError):
            await agent.control(leg.id, action)

    async def abandon(self, leg: Leg, route: Route) -> None:
        """The caller hangs up while waiting: clearRouting (handleContactEvents), then the contact record."""
        await self.stats.checked(self.client.clear_routing(leg.key))
        if route.outcome is None:  # an accept that crossed the hang-up has marked it accepted
            route.outcome = RoutingOutcome.ABANDONED
        await self.end_leg(leg, "CUSTOMER_DISCONNECT", assignment=None)

    # ---- speech ----------------------------------------------------------------------------------------------

    async def talk(self, steps: tuple[Step, ...]) -> None:
        """Say each line; a gate puts the current leg on hold (or pauses its recording) around its lines."""
        for step in steps:
            if isinstance(step, Line):
                await self.say(step)
            else:
                await self.gate(step)

    async def gate(self, gate: Gate) -> None:
        owner = self.owner
        if owner is None:
            return
        start, end = ("hold", "resume") if gate.kind is GateKind.HOLD else ("pause_recording", "resume_recording")
        await self.control(owner.agent, self.leg, start)
        began = time.monotonic()
        if gate.kind is GateKind.HOLD:
            self.stage(Stage.ON_HOLD)
        for line in gate.lines:
            await self.say(line)
        await self.control(owner.agent, self.leg, end)
        if gate.kind is GateKind.HOLD:
            self.leg.holds.append(time.monotonic() - began)
        self.stage(Stage.TALKING)

    async def say(self, line: Line) -> None:
        """Speak the line at speaking pace, then send it as the transcriber does, and its signals."""
        duration = max(0.6, line.words / WORDS_PER_SECOND)
        start = epoch_ms()
        if self.plan.style is TranscriptStyle.BULK and line.words >= 4:
            await self.pause(duration / 2)
            words = line.text.split()
            await self.send(self.message(line, " ".join(words[: len(words) // 2 + 1]), start))
            await self.pause(duration / 2)
        else:
            await self.pause(duration)
        await self.send(self.message(line, line.text, start))
        await self.signals(line, start)
        await self.pause(GAP_SECONDS)

    def message(self, line: Line, text: str, start: int) -> TranscriptMessage:
        """The segment as the transcriber sends it: kvsTranscriber names the customer by phone number and the
        IVR by the contact id, Contact Lens by bare role; agents are named by their user id (HUMAN_AGENT)."""
        single = self.plan.style is TranscriptStyle.SINGLE
        agent = self.speakers.get(line.speaker)
        if line.speaker is Speaker.CUSTOMER:
            sender, participant = SenderType.END_USER, self.plan.caller if single else "END_USER"
        elif agent is not None:
            sender, participant = SenderType.HUMAN_AGENT, agent.user_id
        else:
            sender, participant = SenderType.VIRTUAL_AGENT, self.key if single else "VIRTUAL_AGENT"
        return TranscriptMessage(
            content=text,
            sender_type=sender,
            participant_id=participant,
            message_id=line.message_id,
            start_time=start,
            end_time=epoch_ms(),
        )

    async def send(self, message: TranscriptMessage) -> None:
        """One segment; a failure is counted and the call goes on (the real transcribers only log it)."""
        self.record.sent.add(message.message_id)
        self.stats.utterance_sent(message.message_id)
        try:
            if self.plan.style is TranscriptStyle.SINGLE:
                await self.stats.checked(self.client.send_transcript(self.key, message))
                return
            await self.send_bulk(BulkTranscriptEntry(vendor_call_key=self.key, messages=[message]))
        except CallbridgeClientError:
            self.record.send_failures += 1

    async def send_bulk(self, entry: BulkTranscriptEntry) -> None:
        """As the Contact Lens processor does: an entry refused with RESOURCE_EXHAUSTED is sent again after 5, 10
        and 20 s (real seconds: the server's rate window is not scaled by the pace); 409 (transcription paused)
        is the drop the plan expects, anything else refused counts as a failed send."""
        for delay in (*RATE_LIMIT_RETRIES, None):
            result = await self.stats.checked(self.client.send_transcripts([entry]))
            if not result.rate_limited_keys:
                break
            self.stats.errors[("207", "RESOURCE_EXHAUSTED")] += 1
            if delay is None:
                self.record.send_failures += 1
                return
            await asyncio.sleep(delay)
        for refused in result.entries:
            if refused.status not in (202, 409):
                self.stats.errors[("207", str(refused.status))] += 1
                self.record.send_failures += 1

    async def signals(self, line: Line, start: int) -> None:
        """The real-time Contact Lens signals the line fires: its speaker's sentiment, a category."""
        events = []
        participant = SignalParticipant.CUSTOMER if line.speaker is Speaker.CUSTOMER else SignalParticipant.AGENT
        if line.sentiment is not None:
            events.append(
                RealtimeEvent(
                    type=SignalType.SENTIMENT, value=str(line.sentiment), start_time=start, participant=participant
                )
            )
        if line.category is not None:
            offset = max(0, start - int(self.legs[0].started.timestamp() * 1000))
            details = {"PointsOfInterest": [{"BeginOffsetMillis": offset, "EndOffsetMillis": epoch_ms() - start}]}
            events.append(
                RealtimeEvent(type=SignalType.CATEGORY, value=line.category, start_time=start, details=details)
            )
        if not events:
            return
        body = RealtimeConversationEvents(service=SERVICE, events=events, persist=self.plan.persist_signals)
        with contextlib.suppress(CallbridgeClientError):
            await self.stats.checked(self.client.send_realtime_events(self.key, body))
            self.record.realtime_events += len(events)

    # ---- after the call --------------------------------------------------------------------------------------

    async def after_call(self, accepted: datetime) -> None:
        """A late segment (stamped after the disconnect), then Contact Lens' post-call analysis of the span from
        ``accepted`` to the last leg's end."""
        self.stage(Stage.AFTER_CALL)
        ended = self.leg.ended or datetime.now(UTC)
        late = self.plan.late_line
        if late is not None:
            await self.pause(0.5)
            start = epoch_ms()
            await self.pause(max(0.6, late.words / WORDS_PER_SECOND))
            await self.send(self.message(late, late.text, start))
        post = self.plan.post_call
        if post is None:
            return
        await self.pause(1.0)
        begin, end = epoch_ms(accepted), epoch_ms(ended)
        events = [
            PostCallEvent(
                type=SignalType.OVERALL_SENTIMENT_SCORE,
                value=str(score),
                start_time=begin,
                end_time=end,
                participant=participant,
            )
            for participant, score in (
                (SignalParticipant.AGENT, post.agent_score),
                (SignalParticipant.CUSTOMER, post.customer_score),
            )
        ]
        events += [
            PostCallEvent(type=SignalType.CATEGORY, value=category, start_time=begin, end_time=end)
            for category in post.categories
        ]
        body = PostConversationEvents(service=SERVICE, events=events)
        with contextlib.suppress(CallbridgeClientError):
            await self.stats.checked(self.client.send_post_call_events(self.key, body))
            self.record.post_call_events += len(events)

    async def read_back(self) -> None:
        """What the server stored of the utterances sent, and what it dropped and why."""
        if not self.legs:
            return
        try:
            async for entry in self.client.iter_messages(self.key, page_size=500, include_dropped=True):
                if entry.message_id not in self.record.sent:
                    continue
                if entry.status == "stored":
                    self.record.accepted += 1
                    self.record.replaced += (entry.version or 1) > 1
                else:
                    self.record.dropped[entry.drop_reason or "unknown"] += 1
        except CallbridgeClientError as exc:
            self.stats.error(exc)
            self.record.error = self.record.error or f"reading the transcript back failed: {exc}"[:300]
